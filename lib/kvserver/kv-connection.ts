/**
 * One client connection of a node: frames in, requests to the store, replies out, matched by
 * request id and sent in completion order. Garbage on the stream gets one error reply and the
 * connection is closed; nothing else is touched.
 */
import type { Socket } from 'node:net';
import { KvFrameDecoder, type KvFrameError } from '../protocol/kv-frame-decoder.js';
import { KvBodyError } from '../protocol/kv-bytes.js';
import { KvOutbox } from '../protocol/kv-outbox.js';
import { encodeReply } from '../protocol/kv-reply-codec.js';
import { decodeRequest } from '../protocol/kv-request-codec.js';
import { decodePeerMessage, isPeerOpcode, type PeerMessage } from '../protocol/kv-peer-codec.js';
import type { KvOrigin, KvReplyBody, KvRequestBody } from '../protocol/kv-wire.js';
import type { Logger } from '../protocol/log.js';

/** What a connection hands requests to: the store, or the replication layer in front of it. */
export interface KvRequestHandler {
  /** Executes one client request; resolves with its reply. */
  execute(body: KvRequestBody, origin: KvOrigin): KvReplyBody | Promise<KvReplyBody>;
  /** A replication message from another node of the group (never answered by a reply). */
  peerMessage(from: number, message: PeerMessage): void;
}

/** Requests of one connection being executed at once; past it the socket stops being read. */
export const IN_FLIGHT_PER_CONNECTION_MAX = 1024;

/** Reply bytes queued on a socket before reading pauses (a client that does not read). */
export const SOCKET_WRITE_BUFFER_BYTES_MAX = 32 * 1024 * 1024;

/** How long a connection that sent garbage may take to finish its earlier requests and close. */
export const GARBAGE_CLOSE_WAIT_MS = 10_000;

export class KvConnection {
  private readonly decoder: KvFrameDecoder;
  private inFlight = 0;
  private paused = false;
  private readonly outbox: KvOutbox;
  private closing = false;
  private garbage: KvFrameError | null = null;

  constructor(
    private readonly socket: Socket,
    private readonly handler: KvRequestHandler,
    frameBytesMax: number,
    private readonly log: Logger,
  ) {
    this.decoder = new KvFrameDecoder('request', frameBytesMax);
    this.outbox = new KvOutbox(socket);
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('drain', () => this.maybeResume());
    socket.on('error', (err) => this.log.debug('connection error', { err: err.message }));
  }

  private onData(chunk: Buffer): void {
    if (this.closing) return;
    const frames = this.decoder.push(chunk);
    for (const frame of frames) {
      if (isPeerOpcode(frame.kind)) {
        this.onPeerFrame(frame);
        continue;
      }
      let request;
      try {
        request = decodeRequest(frame);
      } catch (err) {
        if (!(err instanceof KvBodyError)) throw err;
        this.send({ status: 'BAD_REQUEST', message: err.message }, frame.requestId);
        continue;
      }
      this.inFlight++;
      const requestId = frame.requestId;
      let result: KvReplyBody | Promise<KvReplyBody>;
      try {
        result = this.handler.execute(request, request.origin);
      } catch (err) {
        result = Promise.reject(err);
      }
      if (result instanceof Promise) {
        result.then(
          (reply) => this.finish(reply, requestId),
          (err: unknown) => {
            this.log.error('request failed', { op: request.op, err });
            this.finish({ status: 'INTERNAL', message: 'internal error; see the node log' }, requestId);
          },
        );
      } else {
        this.finish(result, requestId);
      }
    }
    if (this.decoder.error !== null) {
      this.closeForGarbage(this.decoder.error);
      return;
    }
    this.maybePause();
  }

  private onPeerFrame(frame: Parameters<typeof decodePeerMessage>[0]): void {
    let decoded;
    try {
      decoded = decodePeerMessage(frame);
    } catch (err) {
      if (!(err instanceof KvBodyError)) throw err;
      this.log.warn('dropping a malformed peer message', { problem: err.message });
      return;
    }
    this.handler.peerMessage(decoded.from, decoded.message);
  }

  private finish(reply: KvReplyBody, requestId: number): void {
    this.inFlight--;
    this.send(reply, requestId);
    if (this.garbage !== null) {
      if (this.inFlight === 0) this.sendGarbageErrorAndEnd();
      return;
    }
    this.maybeResume();
  }

  private send(reply: KvReplyBody, requestId: number): void {
    if (this.socket.destroyed) return;
    this.outbox.push(encodeReply(reply, requestId));
  }

  private maybePause(): void {
    if (this.paused) return;
    if (this.inFlight >= IN_FLIGHT_PER_CONNECTION_MAX || this.socket.writableLength > SOCKET_WRITE_BUFFER_BYTES_MAX) {
      this.paused = true;
      this.socket.pause();
    }
  }

  private maybeResume(): void {
    if (!this.paused || this.closing) return;
    if (this.inFlight < IN_FLIGHT_PER_CONNECTION_MAX && this.socket.writableLength <= SOCKET_WRITE_BUFFER_BYTES_MAX) {
      this.paused = false;
      this.socket.resume();
    }
  }

  /**
   * Garbage: stop reading, let the requests received before it finish and answer them, then
   * send the error and close. The stream past a bad header cannot be trusted.
   */
  private closeForGarbage(err: KvFrameError): void {
    this.closing = true;
    this.garbage = err;
    this.socket.pause();
    this.log.warn('closing a connection that sent garbage', { remote: this.socket.remoteAddress, problem: err.message });
    const timer = setTimeout(() => this.socket.destroy(), GARBAGE_CLOSE_WAIT_MS);
    timer.unref();
    this.socket.once('close', () => clearTimeout(timer));
    if (this.inFlight === 0) this.sendGarbageErrorAndEnd();
  }

  private sendGarbageErrorAndEnd(): void {
    const err = this.garbage!;
    this.send(err.tooLarge
      ? { status: 'TOO_LARGE', message: err.message }
      : { status: 'BAD_REQUEST', message: err.message }, err.requestId);
    this.outbox.flush();
    this.socket.end();
  }
}
