/**
 * One response as a handler writes it (HttpResponse). The server owns the framing fields:
 * Content-Length and Transfer-Encoding come from end()/stream(), Connection from the
 * connection's fate, Date from the clock. A HEAD request gets the headers of its GET and no
 * body (RFC 9110 §9.3.2); 204 and 304 never carry a body (RFC 9110 §15.3.5, §15.4.5).
 */
import type { Readable } from 'node:stream';
import type { DefaultField } from './default-fields.js';
import type { ServerRequest } from './request.js';
import {
  checkHeaderName, checkHeaderValue, dateHeaderLine, statusLine,
} from './response-head.js';
import { pumpBody, type PumpTarget } from './stream-pump.js';
import type { HttpResponse } from './types.js';

/** What a response needs from its connection. */
export interface ResponseHost extends PumpTarget {
  /** Whether the connection ends after this response; asked once, when the head is built. */
  closesAfter(request: ServerRequest, handlerAskedClose: boolean): boolean;
  /** Writes a head and an optional body in as few socket writes as possible. */
  send(head: string, body: Buffer | string | null, asciiHead: boolean): void;
  /** The response is complete on the wire. */
  onResponseFinished(request: ServerRequest): void;
  /** The response cannot be completed: cut the connection. */
  abort(err: unknown): void;
  /** Fields every response carries unless the handler set the same name. */
  readonly defaultFields: readonly DefaultField[];
}

const enum Framing {
  NONE,
  LENGTH,
  CHUNKED,
}

export class ServerResponse implements HttpResponse {
  status = 200;
  headersSent = false;
  finished = false;
  /** The connection ends after this response (known once the head is sent). */
  closeAfter = false;
  /** A stream() is copying the body. */
  streaming = false;
  /** name, lower-case name, value; three entries per field. */
  private fields: Array<string | readonly string[]> = [];
  private asciiHead = true;

  constructor(private readonly host: ResponseHost, private readonly request: ServerRequest) {}

  setHeader(name: string, value: string | number | readonly string[]): void {
    if (this.headersSent) throw new Error('headers already sent');
    checkHeaderName(name);
    const stored = typeof value === 'number' ? String(value) : value;
    if (typeof stored === 'string') {
      if (!checkHeaderValue(name, stored)) this.asciiHead = false;
    } else {
      for (const item of stored) if (!checkHeaderValue(name, item)) this.asciiHead = false;
    }
    const lower = name.toLowerCase();
    if (lower === 'content-length' && !/^(0|[1-9][0-9]{0,15})$/.test(String(stored))) {
      throw new TypeError('Content-Length must be a decimal number');
    }
    const at = this.indexOf(lower);
    if (at >= 0) {
      this.fields[at] = name;
      this.fields[at + 2] = stored;
    } else {
      this.fields.push(name, lower, stored);
    }
  }

  getHeader(name: string): string | readonly string[] | undefined {
    const at = this.indexOf(name.toLowerCase());
    return at >= 0 ? this.fields[at + 2] : undefined;
  }

  removeHeader(name: string): void {
    if (this.headersSent) throw new Error('headers already sent');
    const at = this.indexOf(name.toLowerCase());
    if (at >= 0) this.fields.splice(at, 3);
  }

  private indexOf(lower: string): number {
    const fields = this.fields;
    for (let i = 1; i < fields.length; i += 3) if (fields[i] === lower) return i - 1;
    return -1;
  }

  end(body?: string | Uint8Array): void {
    if (this.headersSent) throw new Error('response already sent');
    let length = 0;
    if (typeof body === 'string') length = Buffer.byteLength(body);
    else if (body !== undefined) length = body.byteLength;
    const sendsBody = this.sendsBody();
    let contentLength = length;
    if (this.status === 204) contentLength = -1;
    else if (!sendsBody && body === undefined) contentLength = this.handlerContentLength();
    const head = this.buildHead(contentLength < 0 ? Framing.NONE : Framing.LENGTH, contentLength);
    this.headersSent = true;
    let wire: Buffer | string | null = null;
    if (sendsBody && length > 0) {
      wire = typeof body === 'string' ? body : Buffer.from(body!.buffer, body!.byteOffset, length);
    }
    this.host.send(head, wire, this.asciiHead);
    this.finished = true;
    this.host.onResponseFinished(this.request);
  }

  stream(source: Readable, length?: number): Promise<void> {
    if (this.headersSent) return Promise.reject(new Error('response already sent'));
    if (length !== undefined && (!Number.isSafeInteger(length) || length < 0)) {
      return Promise.reject(new RangeError(`invalid stream length ${length}`));
    }
    const sendsBody = this.sendsBody();
    const http11 = this.request.httpVersion === '1.1';
    let framing = Framing.NONE;
    if (this.status === 204) framing = Framing.NONE;
    else if (length !== undefined) framing = Framing.LENGTH;
    else if (http11) framing = Framing.CHUNKED;
    // HTTP/1.0 has no chunked coding: a body of unknown length ends when the connection does.
    const closeDelimited = framing === Framing.NONE && sendsBody;
    const head = this.buildHead(framing, length ?? -1, closeDelimited);
    this.headersSent = true;
    this.host.send(head, null, this.asciiHead);
    if (!sendsBody) {
      source.destroy();
      this.finished = true;
      this.host.onResponseFinished(this.request);
      return Promise.resolve();
    }
    this.streaming = true;
    return pumpBody(this.host, source, length, framing === Framing.CHUNKED).then(
      () => {
        this.streaming = false;
        this.finished = true;
        this.host.onResponseFinished(this.request);
      },
      (err: unknown) => {
        this.streaming = false;
        this.host.abort(err);
        throw err;
      },
    );
  }

  /** Forgets what the handler set, for an error reply (only before the head is sent). */
  resetForError(status: number): void {
    this.status = status;
    this.fields = [];
    this.asciiHead = true;
  }

  private sendsBody(): boolean {
    return this.request.method !== 'HEAD' && this.status !== 204 && this.status !== 304;
  }

  /** The Content-Length a handler set for a bodiless HEAD or 304 reply; 0 for HEAD without. */
  private handlerContentLength(): number {
    const value = this.getHeader('content-length');
    if (typeof value === 'string') return Number(value);
    return this.status === 304 ? -1 : 0;
  }

  private buildHead(framing: Framing, contentLength: number, closeDelimited = false): string {
    let head = statusLine(this.status) + dateHeaderLine();
    let askedClose = closeDelimited;
    const fields = this.fields;
    for (let i = 0; i < fields.length; i += 3) {
      const name = fields[i] as string;
      const lower = fields[i + 1] as string;
      const value = fields[i + 2]!;
      if (lower.length === 10 && lower === 'connection') {
        if (String(value).toLowerCase().includes('close')) askedClose = true;
        continue;
      }
      if (lower === 'content-length' || lower === 'transfer-encoding') continue;
      if (typeof value === 'string') {
        head += name + ': ' + value + '\r\n';
      } else {
        for (const item of value) head += name + ': ' + item + '\r\n';
      }
    }
    for (const field of this.host.defaultFields) if (this.indexOf(field.lower) < 0) head += field.line;
    if (framing === Framing.LENGTH) head += 'Content-Length: ' + contentLength + '\r\n';
    else if (framing === Framing.CHUNKED) head += 'Transfer-Encoding: chunked\r\n';
    this.closeAfter = this.host.closesAfter(this.request, askedClose);
    if (this.closeAfter) head += 'Connection: close\r\n\r\n';
    else if (this.request.httpVersion === '1.0') head += 'Connection: keep-alive\r\n\r\n';
    else head += '\r\n';
    return head;
  }
}
