/**
 * The chunked transfer coding of a request body (RFC 9112 §7.1), as a byte-at-a-time state
 * machine that resumes anywhere. Data comes out as slices of the input (no copy); extensions
 * and trailer fields are checked and dropped. Strict: a chunk size is hex digits followed
 * directly by ";" or CRLF (no whitespace), and every line ends in CRLF.
 */
import {
  COLON, CR, FIELD_VALUE_CHAR, HEX_VALUE, HTAB, LF, SEMICOLON, SP, TCHAR,
} from './char-classes.js';
import { ExtensionState, nextExtensionState } from './chunk-extension.js';
import { CHUNK_EXTENSION_BYTES_MAX, CHUNK_SIZE_DIGITS_MAX } from './limits.js';
import { badRequest, ParseError } from './parse-error.js';

const enum ChunkState {
  CHUNK_SIZE,
  CHUNK_EXTENSION,
  CHUNK_SIZE_LF,
  CHUNK_DATA,
  CHUNK_DATA_CR,
  CHUNK_DATA_LF,
  TRAILER_LINE_START,
  TRAILER_NAME,
  TRAILER_VALUE,
  TRAILER_LINE_LF,
  TRAILER_END_LF,
  DONE,
}

/** The bounds a chunked body is held to. */
export interface ChunkedLimits {
  bodyBytesMax: number;
  /** Bytes of the trailer section (counted like a head). */
  headBytesMax: number;
  headersCountMax: number;
}

export class ChunkedDecoder {
  private state = ChunkState.CHUNK_SIZE;
  private size = 0;
  private digits = 0;
  private remaining = 0;
  private extensionBytes = 0;
  private extensionState = ExtensionState.NAME_START;
  /** The current trailer field's name, lower-cased, while it may still be a framing field. */
  private trailerName = '';
  private bodyBytes = 0;
  private trailerBytes = 0;
  private trailerCount = 0;

  constructor(private readonly limits: ChunkedLimits) {}

  /** Prepares for a new body. */
  reset(): void {
    this.state = ChunkState.CHUNK_SIZE;
    this.size = 0;
    this.digits = 0;
    this.remaining = 0;
    this.extensionBytes = 0;
    this.bodyBytes = 0;
    this.trailerBytes = 0;
    this.trailerCount = 0;
  }

  /** True once the last chunk and the trailer section have been read. */
  get done(): boolean {
    return this.state === ChunkState.DONE;
  }

  /**
   * Decodes buf[start, end), passing data slices to `onData`. Returns the index after the last
   * byte consumed: `end`, or earlier when the body is done. Throws ParseError.
   */
  decode(buf: Buffer, start: number, end: number, onData: (chunk: Buffer) => void): number {
    let i = start;
    while (i < end) {
      switch (this.state) {
        case ChunkState.CHUNK_DATA: {
          const n = Math.min(this.remaining, end - i);
          onData(buf.subarray(i, i + n));
          i += n;
          this.remaining -= n;
          if (this.remaining === 0) this.state = ChunkState.CHUNK_DATA_CR;
          break;
        }
        case ChunkState.CHUNK_SIZE:
          this.readSizeByte(buf[i]!);
          i++;
          break;
        case ChunkState.CHUNK_EXTENSION: {
          this.extensionState = nextExtensionState(this.extensionState, buf[i++]!);
          if (this.extensionState === ExtensionState.END) {
            this.state = ChunkState.CHUNK_SIZE_LF;
          } else if (++this.extensionBytes > CHUNK_EXTENSION_BYTES_MAX) {
            throw badRequest('Chunk extension too long');
          }
          break;
        }
        case ChunkState.CHUNK_SIZE_LF:
          expectLf(buf[i++]!);
          if (this.size === 0) {
            this.state = ChunkState.TRAILER_LINE_START;
          } else {
            this.remaining = this.size;
            this.state = ChunkState.CHUNK_DATA;
          }
          break;
        case ChunkState.CHUNK_DATA_CR:
          if (buf[i++] !== CR) throw badRequest('Chunk data longer than its size');
          this.state = ChunkState.CHUNK_DATA_LF;
          break;
        case ChunkState.CHUNK_DATA_LF:
          expectLf(buf[i++]!);
          this.size = 0;
          this.digits = 0;
          this.extensionBytes = 0;
          this.state = ChunkState.CHUNK_SIZE;
          break;
        case ChunkState.DONE:
          return i;
        default:
          this.readTrailerByte(buf[i++]!);
          if ((this.state as ChunkState) === ChunkState.DONE) return i;
          break;
      }
    }
    return i;
  }

  /** chunk-size = 1*HEXDIG, then ";" (extension) or CRLF. */
  private readSizeByte(b: number): void {
    const value = HEX_VALUE[b]!;
    if (value >= 0) {
      if (++this.digits > CHUNK_SIZE_DIGITS_MAX) throw badRequest('Chunk size overflows');
      this.size = this.size * 16 + value;
      return;
    }
    if (this.digits === 0 || (b !== CR && b !== SEMICOLON)) {
      throw badRequest('Chunk size is not a hexadecimal number');
    }
    if (this.size > Number.MAX_SAFE_INTEGER) throw badRequest('Chunk size overflows');
    this.bodyBytes += this.size;
    if (this.bodyBytes > this.limits.bodyBytesMax) {
      throw new ParseError('TOO_LARGE', `Request body larger than ${this.limits.bodyBytesMax} bytes`);
    }
    this.extensionState = ExtensionState.NAME_START;
    this.state = b === CR ? ChunkState.CHUNK_SIZE_LF : ChunkState.CHUNK_EXTENSION;
  }

  /** trailer-section = *( field-line CRLF ) CRLF (RFC 9112 §7.1.2); fields are dropped. */
  private readTrailerByte(b: number): void {
    if (++this.trailerBytes > this.limits.headBytesMax) {
      throw new ParseError('HEADERS_TOO_LARGE', 'Trailer section too large');
    }
    switch (this.state) {
      case ChunkState.TRAILER_LINE_START:
        if (b === CR) {
          this.state = ChunkState.TRAILER_END_LF;
        } else if (TCHAR[b] === 1) {
          if (++this.trailerCount > this.limits.headersCountMax) {
            throw new ParseError('HEADERS_TOO_LARGE', 'Too many trailer fields');
          }
          this.trailerName = String.fromCharCode(b | 0x20);
          this.state = ChunkState.TRAILER_NAME;
        } else if (b === SP || b === HTAB) {
          throw badRequest('Obsolete line folding in trailer section');
        } else {
          throw badRequest('Invalid byte in trailer section');
        }
        return;
      case ChunkState.TRAILER_NAME:
        if (b === COLON) {
          checkTrailerName(this.trailerName);
          this.state = ChunkState.TRAILER_VALUE;
        } else if (TCHAR[b] === 0) {
          throw badRequest('Invalid trailer field name');
        } else if (this.trailerName.length <= FRAMING_NAME_BYTES_MAX) {
          this.trailerName += String.fromCharCode(b | 0x20);
        }
        return;
      case ChunkState.TRAILER_VALUE:
        if (b === CR) this.state = ChunkState.TRAILER_LINE_LF;
        else if (FIELD_VALUE_CHAR[b] === 0) throw badRequest('Invalid byte in trailer field');
        return;
      case ChunkState.TRAILER_LINE_LF:
        expectLf(b);
        this.state = ChunkState.TRAILER_LINE_START;
        return;
      case ChunkState.TRAILER_END_LF:
        expectLf(b);
        this.state = ChunkState.DONE;
        return;
      default:
        throw new Error(`chunked decoder in unexpected state ${this.state}`);
    }
  }
}

/** Length of "transfer-encoding", the longest framing field name. */
const FRAMING_NAME_BYTES_MAX = 17;

/**
 * RFC 9110 §6.5.1: framing fields (Content-Length, Transfer-Encoding) cannot be sent in a
 * trailer section. We drop trailers, so they could not change our framing, but a recipient that
 * merged them into the header section could; node:http refuses them, and so do we.
 */
function checkTrailerName(lowerName: string): void {
  if (lowerName === 'content-length' || lowerName === 'transfer-encoding') {
    throw badRequest('Framing field in trailer section');
  }
}

/** A CR must be followed by LF: a bare CR is refused (RFC 9112 §2.2). */
function expectLf(b: number): void {
  if (b !== LF) throw badRequest('CR not followed by LF');
}
