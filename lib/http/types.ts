/**
 * The contract between the HTTP server (lib/http) and whatever handles its requests (the
 * router). Nothing here touches a socket.
 */
import type { Readable } from 'node:stream';

/** Request header fields in arrival order; names compare case-insensitively (RFC 9110 §5.1). */
export interface HttpHeaders {
  /** The field value, repeated fields joined with ", " (RFC 9110 §5.3); undefined if absent. */
  get(name: string): string | undefined;
  /** Every value of the field, one entry per field line. */
  getAll(name: string): string[];
  has(name: string): boolean;
  /** [name as sent, value] pairs in arrival order. */
  entries(): Array<[string, string]>;
}

export interface HttpRequest {
  /** Server-unique id, also printed in the log lines about this request. */
  readonly id: string;
  readonly method: string;
  /** The request-target exactly as sent (RFC 9112 §3.2). */
  readonly target: string;
  /** The path part of the target, still percent-encoded; "*" for `OPTIONS *`. */
  readonly path: string;
  /** The query part of the target without "?", still encoded; "" when absent. */
  readonly query: string;
  readonly httpVersion: '1.0' | '1.1';
  readonly headers: HttpHeaders;
  readonly remoteAddress: string;
  /** The request came over TLS (an HTTPS server). */
  readonly secure: boolean;
  /**
   * Declared body length: the Content-Length, null for a chunked body, 0 when there is none.
   */
  readonly bodyLength: number | null;
  /**
   * The request body as a byte stream with backpressure. It ends at the end of the message and
   * errors (PennError) if the client aborts, the framing breaks, or the body passes the limit.
   * Reading it first is what sends `100 Continue` to a client that asked for it.
   */
  readonly body: Readable;
}

export interface HttpResponse {
  status: number;
  setHeader(name: string, value: string | number | readonly string[]): void;
  getHeader(name: string): string | readonly string[] | undefined;
  removeHeader(name: string): void;
  readonly headersSent: boolean;
  /** True once the whole response has been handed to the connection. */
  readonly finished: boolean;
  /** Sends the whole response with this body (Content-Length set; no body for HEAD/204/304). */
  end(body?: string | Uint8Array): void;
  /**
   * Streams a body with backpressure. With `length` the response carries Content-Length (and
   * fails if the stream gives a different count); without, it is chunked (HTTP/1.1) or
   * close-delimited (HTTP/1.0). Resolves when the last byte is handed to the connection.
   */
  stream(source: Readable, length?: number): Promise<void>;
}

/**
 * A request handler. The response must be finished (end() called, or stream() resolved) by
 * the time the returned promise settles; a throw before the head is sent becomes an error reply
 * (status from the error's code), after it the connection is closed.
 */
export type RequestHandler = (req: HttpRequest, res: HttpResponse) => void | Promise<void>;
