/**
 * One client connection: feeds socket bytes to the parser, runs the handler for one request at a
 * time, and writes the responses strictly in request order (pipelined requests wait in a
 * bounded queue). It owns the connection's fate: keep-alive, draining an unread body, closing
 * with a lingering read so the last response is not lost to a TCP reset, and the deadlines the
 * server's sweep enforces.
 */
import type { Socket } from 'node:net';
import type { Logger } from '../protocol/log.js';
import { PennError, type ErrorCode } from '../protocol/errors.js';
import type { DefaultField } from './default-fields.js';
import { callHandler, type HandlerHost } from './handler-call.js';
import {
  LINGER_BYTES_MAX, LINGER_MS, PIPELINE_DEPTH_MAX, UNREAD_BODY_DRAIN_BYTES_MAX, type HttpLimits,
} from './limits.js';
import type { ParseError } from './parse-error.js';
import { abortedBodyError, ServerRequest, type RequestHost } from './request.js';
import type { RequestHead } from './request-head.js';
import { RequestParser, type ParserSink } from './request-parser.js';
import { ServerResponse, type ResponseHost } from './response.js';
import { CONTINUE_RESPONSE } from './response-head.js';
import { finalErrorReply, writeHeadAndBody } from './socket-writer.js';
import type { RequestHandler } from './types.js';

/** What a connection needs from its server. */
export interface ConnectionContext {
  readonly handler: RequestHandler;
  readonly limits: HttpLimits;
  readonly logger: Logger;
  readonly idPrefix: string;
  /** A coarse clock (ms), refreshed by the sweep. */
  readonly clockMs: number;
  readonly shuttingDown: boolean;
  /** The server speaks HTTPS. */
  readonly secure: boolean;
  /** Fields every response carries (see default-fields.ts). */
  readonly defaultFields: readonly DefaultField[];
  /** The same, as header lines, for the server's own refusals. */
  readonly defaultFieldLines: string;
  nextRequestSeq(): number;
  onConnectionClosed(connection: Connection): void;
}

const enum Phase {
  /** Waiting for (the rest of) a request head; the head timeout runs. */
  WAIT_HEAD,
  /** Keep-alive, no byte of a next request yet; the idle timeout runs. */
  IDLE,
  /** A request is being answered; the handler's time is its own. */
  ACTIVE,
  /** The client does not read our responses; pipelined requests wait (idle timeout). */
  DRAIN_WAIT,
  /** Our side is closed; what the client still sends is read and dropped for a while. */
  LINGER,
  CLOSED,
}

const PAUSE_BODY = 1; // a body stream is full
const PAUSE_INPUT = 2; // the parser holds unparsed input (pipeline queue full)

export class Connection implements ParserSink, RequestHost, ResponseHost, HandlerHost {
  readonly idPrefix: string;
  private readonly parser: RequestParser;
  /** The client's address ('' when the socket has none). */
  readonly remoteAddress: string;
  readonly logger: Logger;
  private phase = Phase.WAIT_HEAD;
  private deadlineMs: number;
  private current: ServerRequest | null = null;
  private currentResponse: ServerResponse | null = null;
  /** The request whose message the parser is in (its body is still arriving). */
  private receiving: ServerRequest | null = null;
  private readonly queue: ServerRequest[] = [];
  private requestsSeen = 0;
  /** No request after those already parsed will be served. */
  private closing = false;
  private pendingError: ParseError | null = null;
  private pauseReasons = 0;
  private pendingInput: Buffer | null = null;
  private pendingOffset = 0;
  private inExecute = false;
  /** Responses written during the current feed(); from the second on, the socket is corked. */
  private writesInFeed = 0;
  private lingerBytes = 0;
  /** When bytes last arrived, or reading last resumed (coarse clock): for body stalls. */
  private lastInputMs: number;
  /** Start of the current body-rate window (coarse clock) and the body bytes seen in it. */
  private bodyWindowStartMs: number;
  private bodyWindowBytes = 0;
  private abortListener: (() => void) | null = null;
  private readonly onWriteDrain = (): void => this.advance();

  constructor(readonly socket: Socket, private readonly ctx: ConnectionContext) {
    this.idPrefix = ctx.idPrefix;
    this.logger = ctx.logger;
    this.remoteAddress = socket.remoteAddress ?? '';
    this.parser = new RequestParser(ctx.limits, this);
    this.deadlineMs = ctx.clockMs + ctx.limits.headTimeoutMs;
    this.lastInputMs = ctx.clockMs;
    this.bodyWindowStartMs = ctx.clockMs;
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('end', () => this.onPeerEnd());
    socket.on('error', (err) => this.logger.debug('socket error', { err: err.message }));
    socket.on('close', () => this.onClose());
  }

  get secure(): boolean {
    return this.ctx.secure;
  }

  get defaultFields(): readonly DefaultField[] {
    return this.ctx.defaultFields;
  }

  /** True when no request is in progress or queued (close() may end it at once). */
  get isIdle(): boolean {
    return this.current === null && this.queue.length === 0;
  }

  // ---- input ----

  private onData(chunk: Buffer): void {
    if (this.phase === Phase.LINGER || this.phase === Phase.CLOSED) {
      this.lingerBytes += chunk.length;
      if (this.lingerBytes > LINGER_BYTES_MAX) this.socket.destroy();
      return;
    }
    this.lastInputMs = this.ctx.clockMs;
    if (this.phase === Phase.IDLE) this.setPhase(Phase.WAIT_HEAD, this.ctx.limits.headTimeoutMs);
    this.feed(chunk, 0);
  }

  /** Runs the parser over buf[start..]; keeps the rest if the pipeline queue fills up. */
  private feed(buf: Buffer, start: number): void {
    this.inExecute = true;
    this.writesInFeed = 0;
    let at = start;
    try {
      at = this.parser.execute(buf, start);
    } finally {
      this.inExecute = false;
      // Answers to pipelined requests written while parsing one read go out together.
      if (this.writesInFeed > 1) this.socket.uncork();
    }
    if (at < buf.length && this.phase !== Phase.CLOSED && this.phase !== Phase.LINGER) {
      this.pendingInput = buf;
      this.pendingOffset = at;
      this.pauseReading(PAUSE_INPUT);
    }
  }

  /** The queue has room again: parse what was held back. */
  private resumeInput(): void {
    if (!this.parser.isPaused) return;
    this.parser.resume();
    const input = this.pendingInput;
    if (input === null || this.inExecute) return;
    this.pendingInput = null;
    this.resumeReading(PAUSE_INPUT);
    this.feed(input, this.pendingOffset);
  }

  private pauseReading(reason: number): void {
    if (this.pauseReasons === 0) this.socket.pause();
    this.pauseReasons |= reason;
  }

  private resumeReading(reason: number): void {
    if ((this.pauseReasons & reason) === 0) return;
    this.pauseReasons &= ~reason;
    if (this.pauseReasons === 0) {
      this.lastInputMs = this.ctx.clockMs;
      this.restartBodyWindow(this.ctx.clockMs);
      this.socket.resume();
    }
  }

  // ---- parser events (ParserSink) ----

  onHead(head: RequestHead): void {
    this.requestsSeen++;
    const request = new ServerRequest(head, this.remoteAddress, this.ctx.nextRequestSeq(), this);
    this.receiving = request;
    if (!head.keepAlive || this.requestsSeen >= this.ctx.limits.requestsPerConnectionMax
      || this.ctx.shuttingDown) {
      this.closing = true;
    }
    if (this.current === null) {
      this.start(request);
    } else {
      this.queue.push(request);
      if (this.queue.length >= PIPELINE_DEPTH_MAX) this.parser.pause();
    }
  }

  onBody(chunk: Buffer): void {
    const request = this.receiving;
    if (request === null) return; // the connection stopped reading this body
    if (request.draining) {
      request.bodyBytesReceived += chunk.length;
      if (request.bodyBytesReceived > request.drainBytesMax) this.socket.destroy();
      return;
    }
    this.bodyWindowBytes += chunk.length;
    if (!request.pushBody(chunk)) this.pauseReading(PAUSE_BODY);
  }

  onMessageEnd(): void {
    const request = this.receiving;
    if (request === null) return;
    this.receiving = null;
    request.endBody();
    this.resumeReading(PAUSE_BODY);
    // RFC 9112 §9.6: after a request that closes the connection, nothing more is read.
    if (this.closing) this.parser.stop();
    if (request === this.current) this.completeIfDone();
  }

  onError(error: ParseError): void {
    this.closing = true;
    const request = this.receiving;
    if (request !== null && !request.bodyEnded) {
      // The framing of a body broke: its reader sees the error, the connection then closes.
      this.receiving = null;
      request.failBody(error);
      this.resumeReading(PAUSE_BODY);
      if (request === this.current) this.completeIfDone();
      return;
    }
    this.pendingError = error;
    if (this.current === null) this.flushPendingError();
  }

  // ---- the exchange ----

  private start(request: ServerRequest): void {
    this.setPhase(Phase.ACTIVE, Infinity);
    this.lastInputMs = this.ctx.clockMs;
    this.restartBodyWindow(this.ctx.clockMs);
    this.current = request;
    const response = new ServerResponse(this, request);
    this.currentResponse = response;
    callHandler(this, this.ctx.handler, request, response);
  }

  // ---- HandlerHost ----

  get isOpen(): boolean {
    return this.phase !== Phase.CLOSED;
  }

  cut(): void {
    this.socket.destroy();
  }

  /** ResponseHost: decided once per response, when its head is built. */
  closesAfter(request: ServerRequest, handlerAskedClose: boolean): boolean {
    if (handlerAskedClose || !request.keepAlive || this.ctx.shuttingDown) return true;
    if (this.closing && this.queue.length === 0 && this.pendingError === null) return true;
    return !request.bodyEnded && !this.canDrain(request);
  }

  /**
   * RFC 9110 §10.1.1: a body the client still holds back (no 100 sent) is never coming, and a
   * large unread remainder is cheaper to drop with the connection than to read.
   */
  private canDrain(request: ServerRequest): boolean {
    if (request.expectContinue && !request.continueSent) return false;
    return request.bodyLength === null
      || request.bodyLength - request.bodyBytesReceived <= UNREAD_BODY_DRAIN_BYTES_MAX;
  }

  /** ResponseHost: the response is on the wire. */
  onResponseFinished(request: ServerRequest): void {
    if (request !== this.current || this.phase === Phase.CLOSED) return;
    if (!request.bodyEnded && !this.currentResponse!.closeAfter) {
      // The handler left part of the body unread: read and drop it, up to a bound.
      request.draining = true;
      request.drainBytesMax = request.bodyBytesReceived + UNREAD_BODY_DRAIN_BYTES_MAX;
      this.resumeReading(PAUSE_BODY);
    }
    this.completeIfDone();
  }

  private completeIfDone(): void {
    const response = this.currentResponse;
    if (response === null || !response.finished || this.phase === Phase.CLOSED) return;
    if (!this.current!.bodyEnded && !response.closeAfter) return; // still draining
    this.current = null;
    this.currentResponse = null;
    if (response.closeAfter) {
      this.endGracefully();
      return;
    }
    this.advance();
  }

  /** Starts the next queued request, or waits for the next one. */
  private advance(): void {
    if (this.phase === Phase.CLOSED || this.phase === Phase.LINGER) return;
    if (this.queue.length > 0) {
      if (this.socket.writableNeedDrain) {
        // Pipelined answers pile up unread: wait for the client to read before the next.
        this.setPhase(Phase.DRAIN_WAIT, this.ctx.limits.idleTimeoutMs);
        this.socket.once('drain', this.onWriteDrain);
        return;
      }
      this.start(this.queue.shift()!);
      this.resumeInput();
      return;
    }
    if (this.pendingError !== null) {
      this.flushPendingError();
      return;
    }
    if (this.parser.isDead) {
      this.endGracefully();
      return;
    }
    if (this.parser.isMidHead) this.setPhase(Phase.WAIT_HEAD, this.ctx.limits.headTimeoutMs);
    else this.setPhase(Phase.IDLE, this.ctx.limits.idleTimeoutMs);
    this.resumeInput();
  }

  // ---- RequestHost ----

  onBodyWanted(request: ServerRequest): void {
    if (request.expectContinue && !request.continueSent && request === this.current
      && !this.currentResponse!.headersSent && !request.bodyEnded && this.phase === Phase.ACTIVE) {
      request.continueSent = true;
      this.socket.write(CONTINUE_RESPONSE, 'latin1');
    }
    if (request === this.receiving) this.resumeReading(PAUSE_BODY);
  }

  // ---- output (ResponseHost) ----

  send(head: string, body: Buffer | string | null, asciiHead: boolean): void {
    if (this.phase === Phase.CLOSED || this.phase === Phase.LINGER) return;
    const socket = this.socket;
    if (this.inExecute && ++this.writesInFeed === 2) socket.cork();
    writeHeadAndBody(socket, head, body, asciiHead);
  }

  setAbortListener(listener: (() => void) | null): void {
    this.abortListener = listener;
  }

  abort(err: unknown): void {
    if (this.phase !== Phase.CLOSED) {
      this.logger.debug('response aborted', { err });
      this.socket.destroy();
    }
  }

  /** A refused request: its error reply, then close (RFC 9112 §11.2: never read past it). */
  private flushPendingError(): void {
    const error = this.pendingError!;
    this.pendingError = null;
    this.logger.debug('request refused', { status: error.status, message: error.message });
    this.writeFinalError(error.status, error.code, error.message);
    this.endGracefully();
  }

  private writeFinalError(status: number, code: ErrorCode, message: string): void {
    if (this.phase === Phase.CLOSED) return;
    this.socket.write(finalErrorReply(status, code, message, this.ctx.defaultFieldLines), 'utf8');
  }

  // ---- lifecycle ----

  private setPhase(phase: Phase, timeoutMs: number): void {
    this.phase = phase;
    this.deadlineMs = this.ctx.clockMs + timeoutMs;
  }

  /** Called by the server's sweep: enforces the deadline of the current phase. */
  sweep(nowMs: number): void {
    if (this.phase === Phase.ACTIVE) {
      this.sweepBody(nowMs);
      return;
    }
    if (nowMs < this.deadlineMs) return;
    switch (this.phase) {
      case Phase.WAIT_HEAD:
        // RFC 9110 §15.5.9: 408 to a client that started a request and did not finish it.
        if (this.parser.isMidHead) {
          this.writeFinalError(408, 'TIMEOUT', 'Request head not received in time');
        }
        this.endGracefully();
        break;
      case Phase.IDLE:
        this.endGracefully();
        break;
      case Phase.DRAIN_WAIT:
      case Phase.LINGER:
        this.socket.destroy();
        break;
      default:
        break;
    }
  }

  /**
   * True while the handler waits for body bytes the client should be sending: reading is not
   * paused by us, and no 100 Continue is owed (the client may be waiting for it).
   */
  private awaitingBody(): boolean {
    const request = this.receiving;
    return request !== null && request === this.current && this.pauseReasons === 0
      && !(request.expectContinue && !request.continueSent);
  }

  /**
   * While the handler waits for body bytes: a body stalled for the head timeout, or one that
   * delivered fewer than bodyBytesPerWindowMin in a whole window, is cut. Time the server is
   * not waiting (backpressure, 100 Continue owed) is in no window.
   */
  private sweepBody(nowMs: number): void {
    const limits = this.ctx.limits;
    if (!this.awaitingBody()) {
      this.restartBodyWindow(nowMs);
      return;
    }
    if (nowMs - this.lastInputMs >= limits.headTimeoutMs) {
      this.cutBody('Request body not received in time');
      return;
    }
    if (nowMs - this.bodyWindowStartMs < limits.bodyRateWindowMs) return;
    if (this.bodyWindowBytes < limits.bodyBytesPerWindowMin) {
      this.cutBody(`Request body slower than ${limits.bodyBytesPerWindowMin} bytes per `
        + `${limits.bodyRateWindowMs} ms`);
      return;
    }
    this.restartBodyWindow(nowMs);
  }

  private restartBodyWindow(nowMs: number): void {
    this.bodyWindowStartMs = nowMs;
    this.bodyWindowBytes = 0;
  }

  /**
   * A body too slow to wait for: its reader gets TIMEOUT; the client gets 408 (RFC 9110
   * §15.5.9) if no response has started, and the connection closes either way.
   */
  private cutBody(message: string): void {
    const request = this.receiving!;
    this.receiving = null;
    this.logger.debug('request body cut', { message });
    request.failBody(new PennError('TIMEOUT', message));
    if (this.currentResponse!.headersSent) {
      this.socket.destroy();
      return;
    }
    this.writeFinalError(408, 'TIMEOUT', message);
    this.endGracefully();
  }

  /** Server shutdown: finish what was parsed, then close; an idle connection closes now. */
  shutdown(): void {
    this.closing = true;
    if (this.receiving === null) this.parser.stop();
    if (this.isIdle && this.phase !== Phase.LINGER && this.phase !== Phase.CLOSED) {
      this.endGracefully();
    }
  }

  /** Ends our side, then reads and drops for LINGER_MS so the client can read the reply. */
  private endGracefully(): void {
    if (this.phase === Phase.LINGER || this.phase === Phase.CLOSED) return;
    this.setPhase(Phase.LINGER, LINGER_MS);
    this.parser.stop();
    const request = this.receiving;
    this.receiving = null;
    if (request !== null && !request.bodyEnded) request.failBody(abortedBodyError());
    this.pendingInput = null;
    this.pauseReasons = 0;
    this.socket.resume();
    this.socket.end();
  }

  /** The client half-closed: answer what it sent, then close. */
  private onPeerEnd(): void {
    if (this.phase === Phase.LINGER) {
      this.socket.destroy();
      return;
    }
    this.closing = true;
    this.parser.stop();
    const request = this.receiving;
    if (request !== null && !request.bodyEnded) {
      this.receiving = null;
      request.failBody(abortedBodyError());
      if (request === this.current) this.completeIfDone();
    }
    if (this.isIdle) this.endGracefully();
  }

  private onClose(): void {
    const wasClosed = this.phase === Phase.CLOSED;
    this.phase = Phase.CLOSED;
    if (wasClosed) return;
    this.parser.stop();
    const request = this.receiving;
    if (request !== null && !request.bodyEnded) request.failBody(abortedBodyError());
    this.receiving = null;
    this.queue.length = 0;
    const listener = this.abortListener;
    this.abortListener = null;
    if (listener !== null) listener();
    this.ctx.onConnectionClosed(this);
  }
}
