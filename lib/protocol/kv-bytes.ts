/**
 * Byte-level helpers of the KV frame codec: a writer that keeps values as separate buffers
 * (so a 1 MiB value is never copied into a frame, only handed to writev), and a bounds-checked
 * reader whose every failure is a KvBodyError naming what was wrong.
 */
import { readUtf8, utf8Length, writeUtf8 } from './short-strings.js';
import { KV_KEY_BYTES_MAX, KV_MESSAGE_BYTES_MAX, keyBytes } from './kv-wire.js';

/** A frame whose framing was fine but whose body cannot be understood: answered BAD_REQUEST. */
export class KvBodyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KvBodyError';
  }
}

/** Frames up to this size are copied into one buffer rather than written in parts. */
const SMALL_FRAME_BYTES = 16 * 1024;

/** Room for the fixed fields of any body besides keys (flags, counts, lengths). */
const FIXED_FIELDS_BYTES_MAX = 64;

/**
 * Builds one frame as a list of buffers: small fields are packed into scratch buffers; values
 * are referenced, not copied. The first 4 bytes of the first buffer receive the frame length.
 */
export class FrameWriter {
  private readonly parts: Buffer[] = [];
  private scratch: Buffer;
  private start = 0;
  private pos = 0;

  /** `keysBytes` is the UTF-8 size of every key the frame will carry (2-byte prefixes aside). */
  constructor(headerBytes: number, keysBytes: number) {
    this.scratch = Buffer.allocUnsafe(headerBytes + keysBytes + FIXED_FIELDS_BYTES_MAX);
    this.pos = 4; // the length field, filled by finish()
  }

  u8(v: number): this {
    this.scratch[this.pos++] = v;
    return this;
  }

  u16(v: number): this {
    this.scratch.writeUInt16BE(v, this.pos);
    this.pos += 2;
    return this;
  }

  u32(v: number): this {
    this.scratch.writeUInt32BE(v, this.pos);
    this.pos += 4;
    return this;
  }

  raw(bytes: Buffer): this {
    bytes.copy(this.scratch, this.pos);
    this.pos += bytes.length;
    return this;
  }

  /** A u16 length and the UTF-8 bytes of a key the caller has already checked. */
  key(s: string): this {
    const end = writeUtf8(this.scratch, this.pos + 2, s, utf8Length(s));
    this.scratch.writeUInt16BE(end - this.pos - 2, this.pos);
    this.pos = end;
    return this;
  }

  /** A u8 presence flag, then the key when present. */
  optionalKey(s: string | null): this {
    if (s === null) return this.u8(0);
    return this.u8(1).key(s);
  }

  /** A u16 length and a message cut to KV_MESSAGE_BYTES_MAX bytes. */
  message(s: string): this {
    const text = keyBytes(s) > KV_MESSAGE_BYTES_MAX ? s.slice(0, KV_MESSAGE_BYTES_MAX / 4) : s;
    return this.key(text);
  }

  /** A u32 length, then the bytes themselves as a separate part. */
  value(v: Buffer): this {
    this.u32(v.length);
    if (v.length === 0) return this;
    this.parts.push(this.scratch.subarray(this.start, this.pos));
    this.parts.push(v);
    this.start = this.pos;
    return this;
  }

  finish(): Buffer[] {
    if (this.pos > this.start) this.parts.push(this.scratch.subarray(this.start, this.pos));
    let total = 0;
    for (const p of this.parts) total += p.length;
    this.parts[0]!.writeUInt32BE(total - 4, 0);
    // A small frame leaves as one buffer: one socket write costs more than copying it.
    if (this.parts.length > 1 && total <= SMALL_FRAME_BYTES) return [Buffer.concat(this.parts, total)];
    return this.parts;
  }
}

/** Reads one frame body; every read is bounds-checked. */
export class BodyReader {
  private pos: number;

  constructor(private readonly buf: Buffer, offset: number) {
    this.pos = offset;
  }

  /** Where the next read starts. */
  get position(): number {
    return this.pos;
  }

  private need(n: number, what: string): void {
    if (this.pos + n > this.buf.length) throw new KvBodyError(`frame ends inside ${what}`);
  }

  u8(what: string): number {
    this.need(1, what);
    return this.buf[this.pos++]!;
  }

  u16(what: string): number {
    this.need(2, what);
    const v = this.buf.readUInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  u32(what: string): number {
    this.need(4, what);
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  /** `n` bytes as a view into the frame. */
  raw(n: number, what: string): Buffer {
    this.need(n, what);
    const v = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }

  flag(what: string): boolean {
    const v = this.u8(what);
    if (v > 1) throw new KvBodyError(`${what} must be 0 or 1, got ${v}`);
    return v === 1;
  }

  key(what: string): string {
    const n = this.u16(`${what} length`);
    if (n > KV_KEY_BYTES_MAX) throw new KvBodyError(`${what} is longer than ${KV_KEY_BYTES_MAX} bytes`);
    this.need(n, what);
    const key = readUtf8(this.buf, this.pos, this.pos + n);
    this.pos += n;
    if (key === null) throw new KvBodyError(`${what} is not valid UTF-8`);
    return key;
  }

  optionalKey(what: string): string | null {
    return this.flag(`${what} flag`) ? this.key(what) : null;
  }

  message(): string {
    const n = this.u16('message length');
    this.need(n, 'message');
    const text = this.buf.toString('utf8', this.pos, this.pos + n);
    this.pos += n;
    return text;
  }

  /** A value as a view into the frame (callers that keep it must copy it). */
  value(what: string): Buffer {
    const n = this.u32(`${what} length`);
    this.need(n, what);
    const v = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }

  end(): void {
    if (this.pos !== this.buf.length) {
      throw new KvBodyError(`${this.buf.length - this.pos} unexpected byte(s) after the body`);
    }
  }
}
