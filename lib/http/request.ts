/**
 * One request as a handler sees it (HttpRequest), plus the per-exchange state its connection
 * keeps: whether the body has ended, is being drained, and whether 100 Continue is owed.
 */
import type { Readable } from 'node:stream';
import { PennError } from '../protocol/errors.js';
import { BodyStream, emptyBody, type BodySource } from './body-stream.js';
import type { RequestHeaders } from './headers.js';
import type { RequestHead } from './request-head.js';
import type { HttpRequest } from './types.js';

/** What a request needs from its connection. */
export interface RequestHost {
  /** The handler wants body bytes: resume reading, send 100 Continue if owed. */
  onBodyWanted(request: ServerRequest): void;
  /** Prefix of request ids on this server. */
  readonly idPrefix: string;
  /** The connection is TLS (HTTPS). */
  readonly secure: boolean;
}

export class ServerRequest implements HttpRequest, BodySource {
  readonly method: string;
  readonly target: string;
  readonly path: string;
  readonly query: string;
  readonly httpVersion: '1.0' | '1.1';
  readonly headers: RequestHeaders;
  readonly bodyLength: number | null;
  /** The client allows another request on this connection after this one. */
  readonly keepAlive: boolean;
  readonly expectContinue: boolean;
  continueSent = false;
  /** The parser has seen the end of this request's message. */
  bodyEnded: boolean;
  /** The response is done and the rest of the body is read and dropped. */
  draining = false;
  /** Body bytes received so far. */
  bodyBytesReceived = 0;
  /** While draining: the count of received bytes past which the connection is cut. */
  drainBytesMax = 0;
  private stream: BodyStream | null = null;
  private idText: string | null = null;

  constructor(
    head: RequestHead,
    readonly remoteAddress: string,
    private readonly seq: number,
    private readonly host: RequestHost,
  ) {
    this.method = head.method;
    this.target = head.target;
    this.path = head.path;
    this.query = head.query;
    this.httpVersion = head.httpVersion;
    this.headers = head.headers;
    this.bodyLength = head.bodyLength;
    this.keepAlive = head.keepAlive;
    this.expectContinue = head.expectContinue;
    this.bodyEnded = head.bodyLength === 0;
    // A body is pushed as it arrives, so its stream exists from the start; a request without
    // one gets its (ended) stream only if the handler asks.
    if (!this.bodyEnded) this.stream = new BodyStream(this);
  }

  get secure(): boolean {
    return this.host.secure;
  }

  get id(): string {
    this.idText ??= this.host.idPrefix + this.seq.toString(36);
    return this.idText;
  }

  get body(): Readable {
    this.stream ??= emptyBody();
    return this.stream;
  }

  /** BodySource: the handler reads. */
  onBodyWanted(): void {
    this.host.onBodyWanted(this);
  }

  /** Pushes body bytes; returns false when the reader is behind (pause the socket). */
  pushBody(chunk: Buffer): boolean {
    this.bodyBytesReceived += chunk.length;
    const stream = this.stream!;
    if (stream.destroyed) return true;
    return stream.push(chunk);
  }

  /** The message ended: the stream ends after the bytes already pushed. */
  endBody(): void {
    this.bodyEnded = true;
    const stream = this.stream;
    if (stream !== null && !stream.destroyed && !this.draining) stream.push(null);
  }

  /** The body cannot be completed (bad framing, client gone, server closing). */
  failBody(err: PennError): void {
    const stream = this.stream;
    if (stream !== null && !stream.destroyed && !this.bodyEnded) stream.destroy(err);
    this.bodyEnded = true;
  }
}

/** The error a body stream gets when the connection ends before the body does. */
export function abortedBodyError(): PennError {
  return new PennError('BAD_REQUEST', 'The connection closed before the end of the body');
}
