/**
 * The incremental HTTP/1.1 request parser (RFC 9112): bytes in, events out, no socket. Input may
 * be split anywhere, down to one byte at a time, and the events are the same. States are named
 * after the grammar, as in llhttp and h11.
 *
 * Strict by default: every line ends in CRLF (a bare LF or a bare CR is refused, although RFC
 * 9112 §2.2 lets a recipient accept a bare LF: accepting it is what lets two parsers disagree on
 * where a request ends), no obs-fold, no whitespace before a colon, no control bytes. After any
 * error the parser is dead: no later byte is ever read as a request. The rules, each with its RFC
 * clause and where it departs from node:http, are listed in docs/http.md.
 */
import { ChunkedDecoder } from './chunked-decoder.js';
import {
  COLON, CR, FIELD_VALUE_CHAR, HTAB, LF, SP, TARGET_CHAR, TCHAR, latin1,
} from './char-classes.js';
import { badRequest, ParseError } from './parse-error.js';
import { interpretHead, type RequestHead } from './request-head.js';
import { checkLine, methodName, readVersion, VERSION_BYTES } from './request-line.js';

/** Where the parser's events go. Callbacks may call pause() or stop() on the parser. */
export interface ParserSink {
  onHead(head: RequestHead): void;
  /** A slice of the body, valid as long as the caller keeps it (no copy is made). */
  onBody(chunk: Buffer): void;
  /** The end of the current message (right after onHead when it has no body). */
  onMessageEnd(): void;
  /** The request is refused; the parser is dead. */
  onError(error: ParseError): void;
}

/** The limits the parser enforces (a subset of HttpLimits). */
export interface ParserLimits {
  requestLineBytesMax: number;
  headBytesMax: number;
  headersCountMax: number;
  bodyBytesMax: number;
}

const enum ParserState {
  /** Before a request line; empty lines are skipped (RFC 9112 §2.2). */
  MESSAGE_START,
  MESSAGE_START_LF,
  METHOD,
  TARGET,
  VERSION,
  REQUEST_LINE_LF,
  FIELD_LINE_START,
  FIELD_NAME,
  FIELD_VALUE_START,
  FIELD_VALUE,
  FIELD_LINE_LF,
  HEAD_END_LF,
  /** The head is complete (internal, between scanning and building). */
  HEAD_DONE,
  BODY_IDENTITY,
  BODY_CHUNKED,
  /** After an error or stop(): input is dropped. */
  DEAD,
}

const OFFSETS_PER_FIELD = 4;
/** A head copy up to this size stays with the connection; a larger one is freed after use. */
const HEAD_BUFFER_KEPT_BYTES = 4 * 1024;

export class RequestParser {
  private state = ParserState.MESSAGE_START;
  private paused = false;
  /** Bytes of the current head seen so far, leading empty lines included. */
  private headBytes = 0;
  /** Index of the head's first byte in the buffer being scanned. */
  private headBase = 0;
  /** The head so far, once it spans more than one input buffer. */
  private headBuf: Buffer | null = null;
  private headLen = 0;
  private accumulating = false;
  private methodEnd = 0;
  private targetEnd = 0;
  private httpVersion: '1.0' | '1.1' = '1.1';
  private fieldCount = 0;
  /** nameStart, nameEnd, valueStart, valueEnd per field, relative to the head's first byte. */
  private readonly fieldOffsets: Int32Array;
  private bodyRemaining = 0;
  private chunked: ChunkedDecoder | null = null;
  private readonly emitBody: (chunk: Buffer) => void;

  constructor(private readonly limits: ParserLimits, private readonly sink: ParserSink) {
    this.fieldOffsets = new Int32Array(limits.headersCountMax * OFFSETS_PER_FIELD);
    this.emitBody = (chunk) => {
      if (this.state !== ParserState.DEAD) sink.onBody(chunk);
    };
  }

  /** Stops after the current event; execute() returns where it stopped. */
  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
  }

  /** Drops every later byte (the connection is closing after this message). */
  stop(): void {
    this.state = ParserState.DEAD;
  }

  /** Reads the state afresh (callbacks may change it under a narrowed local view). */
  private isInState(state: ParserState): boolean {
    return this.state === state;
  }

  get isPaused(): boolean {
    return this.paused;
  }

  get isDead(): boolean {
    return this.state === ParserState.DEAD;
  }

  /** True when part of a request head has arrived but not all of it. */
  get isMidHead(): boolean {
    return this.state <= ParserState.HEAD_END_LF
      && (this.state !== ParserState.MESSAGE_START || this.headBytes > 0);
  }

  /**
   * Parses buf[start..]. Returns the index after the last byte consumed: buf.length, or less
   * when a callback paused the parser (feed the rest after resume()).
   */
  execute(buf: Buffer, start = 0): number {
    const end = buf.length;
    let i = start;
    try {
      while (i < end && !this.paused) {
        switch (this.state) {
          case ParserState.BODY_IDENTITY: {
            const n = Math.min(this.bodyRemaining, end - i);
            this.bodyRemaining -= n;
            this.sink.onBody(buf.subarray(i, i + n));
            i += n;
            // A callback may have stopped the parser: a dead parser ends no message.
            if (this.bodyRemaining === 0 && this.isInState(ParserState.BODY_IDENTITY)) {
              this.endMessage();
            }
            break;
          }
          case ParserState.BODY_CHUNKED: {
            const decoder = this.chunked!;
            i = decoder.decode(buf, i, end, this.emitBody);
            if (decoder.done && this.isInState(ParserState.BODY_CHUNKED)) this.endMessage();
            break;
          }
          case ParserState.DEAD:
            return end;
          case ParserState.MESSAGE_START:
          case ParserState.MESSAGE_START_LF:
            i = this.skipEmptyLine(buf, i);
            break;
          default:
            i = this.readHead(buf, i, end);
            break;
        }
      }
    } catch (err) {
      if (!(err instanceof ParseError)) throw err;
      this.state = ParserState.DEAD;
      this.sink.onError(err);
      return end;
    }
    return i;
  }

  /**
   * RFC 9112 §2.2: at least one empty line (CRLF) before a request line is ignored, so CRLF
   * between pipelined requests is too (node:http skips them as well). A bare CR or LF there is
   * refused like anywhere else in the head, although node:http skips those too.
   */
  private skipEmptyLine(buf: Buffer, i: number): number {
    const b = buf[i]!;
    if (this.state === ParserState.MESSAGE_START_LF) {
      if (b !== LF) throw badRequest('CR not followed by LF');
      this.state = ParserState.MESSAGE_START;
    } else if (b === CR) {
      this.state = ParserState.MESSAGE_START_LF;
    } else {
      this.headBase = i;
      this.accumulating = false;
      this.fieldCount = 0;
      this.state = ParserState.METHOD;
      return i;
    }
    if (++this.headBytes > this.limits.headBytesMax) {
      throw new ParseError('HEADERS_TOO_LARGE', 'Request head too large');
    }
    return i + 1;
  }

  /** Scans head bytes from buf[i, end); builds the head once it is complete. */
  private readHead(buf: Buffer, i: number, end: number): number {
    if (!this.accumulating) {
      const stopped = this.scanHead(buf, i, end);
      if (this.state === ParserState.HEAD_DONE) {
        this.finishHead(buf);
        return stopped;
      }
      // The head continues in a later buffer: keep what we have, offsets stay valid.
      const kept = end - this.headBase;
      this.reserveHead(kept);
      buf.copy(this.headBuf!, 0, this.headBase, end);
      this.headBase = 0;
      this.headLen = kept;
      this.accumulating = true;
      return end;
    }
    const from = this.headLen;
    this.reserveHead(from + (end - i));
    const headBuf = this.headBuf!;
    const copied = buf.copy(headBuf, from, i, end);
    const stopped = this.scanHead(headBuf, from, from + copied);
    if (this.state === ParserState.HEAD_DONE) {
      this.finishHead(headBuf);
      if (headBuf.length > HEAD_BUFFER_KEPT_BYTES) this.headBuf = null;
      return i + (stopped - from);
    }
    this.headLen += copied;
    return i + copied;
  }

  /**
   * Grows the head copy (doubling) to hold `bytes`, up to one byte past the limit so that a
   * head overflowing it is seen (431). Connections pay for long heads only while they last.
   */
  private reserveHead(bytes: number): void {
    const capacityMax = this.limits.headBytesMax + 1;
    const old = this.headBuf;
    if (old !== null && (old.length >= bytes || old.length === capacityMax)) return;
    const capacity = Math.min(capacityMax, Math.max(bytes, (old?.length ?? 0) * 2, HEAD_BUFFER_KEPT_BYTES));
    const grown = Buffer.allocUnsafe(capacity);
    if (old !== null && this.accumulating) old.copy(grown, 0, 0, this.headLen);
    this.headBuf = grown;
  }

  /**
   * Runs the head states over src[from, to). Returns where it stopped: after the final CRLF
   * (state HEAD_DONE) or at `to`. Limits fire at the first byte past them, whatever the split.
   */
  private scanHead(src: Buffer, from: number, to: number): number {
    const base = this.headBase;
    const lineMax = this.limits.requestLineBytesMax;
    const room = this.limits.headBytesMax - this.headBytes;
    const stop = to - from > room ? from + room : to;
    let i = from;
    let state = this.state;
    scan: while (i < stop) {
      switch (state) {
        case ParserState.METHOD: {
          let j = i;
          while (j < stop && TCHAR[src[j]!] === 1) j++;
          i = checkLine(j, base, lineMax, stop, src);
          if (i === stop) break scan;
          if (src[i] !== SP || i === base) throw badRequest('Invalid method');
          this.methodEnd = i - base;
          i++;
          state = ParserState.TARGET;
          break;
        }
        case ParserState.TARGET: {
          let j = i;
          while (j < stop && TARGET_CHAR[src[j]!] === 1) j++;
          i = checkLine(j, base, lineMax, stop, src);
          if (i === stop) break scan;
          if (src[i] !== SP || i === base + this.methodEnd + 1) {
            throw badRequest('Invalid request target');
          }
          this.targetEnd = i - base;
          i++;
          state = ParserState.VERSION;
          break;
        }
        case ParserState.VERSION: {
          const versionStart = base + this.targetEnd + 1;
          let j = i;
          while (j < stop && src[j] !== CR && j - versionStart < VERSION_BYTES) j++;
          i = checkLine(j, base, lineMax, stop, src);
          if (i === stop) break scan;
          if (src[i] !== CR) throw badRequest('Invalid HTTP version');
          this.httpVersion = readVersion(src, versionStart);
          i++;
          state = ParserState.REQUEST_LINE_LF;
          break;
        }
        case ParserState.REQUEST_LINE_LF:
        case ParserState.FIELD_LINE_LF:
        case ParserState.HEAD_END_LF:
          if (src[i] !== LF) throw badRequest('CR not followed by LF');
          i++;
          if (state === ParserState.HEAD_END_LF) {
            state = ParserState.HEAD_DONE;
            break scan;
          }
          state = ParserState.FIELD_LINE_START;
          break;
        case ParserState.FIELD_LINE_START: {
          const b = src[i]!;
          if (b === CR) {
            state = ParserState.HEAD_END_LF;
          } else if (TCHAR[b] === 1) {
            if (this.fieldCount === this.limits.headersCountMax) {
              throw new ParseError('HEADERS_TOO_LARGE', 'Too many header fields');
            }
            this.fieldOffsets[this.fieldCount * OFFSETS_PER_FIELD] = i - base;
            state = ParserState.FIELD_NAME;
          } else if (b === SP || b === HTAB) {
            // RFC 9112 §5.2: obs-fold is refused with 400 (as is whitespace before the first
            // field line, RFC 9112 §2.2).
            throw badRequest('Obsolete line folding');
          } else {
            throw badRequest('Invalid byte at start of a header field');
          }
          i++;
          break;
        }
        case ParserState.FIELD_NAME: {
          while (i < stop && TCHAR[src[i]!] === 1) i++;
          if (i === stop) break scan;
          const b = src[i]!;
          if (b === COLON) {
            this.fieldOffsets[this.fieldCount * OFFSETS_PER_FIELD + 1] = i - base;
            state = ParserState.FIELD_VALUE_START;
            i++;
          } else if (b === SP || b === HTAB) {
            // RFC 9112 §5.1: no whitespace between field name and colon; 400.
            throw badRequest('Whitespace between header field name and colon');
          } else {
            throw badRequest('Invalid header field name');
          }
          break;
        }
        case ParserState.FIELD_VALUE_START:
          while (i < stop && (src[i] === SP || src[i] === HTAB)) i++;
          if (i === stop) break scan;
          this.fieldOffsets[this.fieldCount * OFFSETS_PER_FIELD + 2] = i - base;
          state = ParserState.FIELD_VALUE;
          break;
        case ParserState.FIELD_VALUE: {
          while (i < stop && FIELD_VALUE_CHAR[src[i]!] === 1) i++;
          if (i === stop) break scan;
          if (src[i] !== CR) throw badRequest('Invalid byte in header field value');
          const at = this.fieldCount * OFFSETS_PER_FIELD;
          let valueEnd = i;
          const valueStart = base + this.fieldOffsets[at + 2]!;
          while (valueEnd > valueStart && (src[valueEnd - 1] === SP || src[valueEnd - 1] === HTAB)) {
            valueEnd--;
          }
          this.fieldOffsets[at + 3] = valueEnd - base;
          this.fieldCount++;
          state = ParserState.FIELD_LINE_LF;
          i++;
          break;
        }
        default:
          throw new Error(`request parser scanning in state ${state}`);
      }
    }
    this.headBytes += i - from;
    this.state = state;
    if (state !== ParserState.HEAD_DONE && i === stop && stop < to) {
      throw new ParseError('HEADERS_TOO_LARGE', 'Request head too large');
    }
    return i;
  }

  /** Turns the scanned offsets into a RequestHead and emits it, then frames the body. */
  private finishHead(src: Buffer): void {
    const base = this.headBase;
    const method = methodName(src, base, base + this.methodEnd);
    const target = latin1(src, base + this.methodEnd + 1, base + this.targetEnd);
    const httpVersion = this.httpVersion;
    const fields: string[] = new Array<string>(this.fieldCount * 2);
    const offsets = this.fieldOffsets;
    for (let f = 0; f < this.fieldCount; f++) {
      const at = f * OFFSETS_PER_FIELD;
      fields[f * 2] = latin1(src, base + offsets[at]!, base + offsets[at + 1]!);
      fields[f * 2 + 1] = latin1(src, base + offsets[at + 2]!, base + offsets[at + 3]!);
    }
    const head = interpretHead(method, target, httpVersion, fields, this.limits.bodyBytesMax);
    this.accumulating = false;
    if (head.bodyLength === null) {
      this.chunked ??= new ChunkedDecoder(this.limits);
      this.chunked.reset();
      this.state = ParserState.BODY_CHUNKED;
      this.sink.onHead(head);
    } else if (head.bodyLength > 0) {
      this.bodyRemaining = head.bodyLength;
      this.state = ParserState.BODY_IDENTITY;
      this.sink.onHead(head);
    } else {
      this.state = ParserState.MESSAGE_START;
      this.headBytes = 0;
      this.sink.onHead(head);
      if ((this.state as ParserState) !== ParserState.DEAD) this.sink.onMessageEnd();
    }
  }

  private endMessage(): void {
    this.state = ParserState.MESSAGE_START;
    this.headBytes = 0;
    this.sink.onMessageEnd();
  }
}
