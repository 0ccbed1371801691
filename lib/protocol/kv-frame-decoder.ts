/**
 * Cuts a TCP byte stream into KV frames. Bytes in, frames out; no sockets here. A header that
 * cannot be right (wrong version, flags set, a length too small or past the limit) sets
 * `error`: the stream cannot be resynchronised after it, so the connection must close (after
 * answering the good frames that came before it).
 */
import { KV_HEADER_BYTES, KV_PROTOCOL_VERSION, KV_REQUEST_HEADER_BYTES } from './kv-wire.js';
import { readClientId } from './short-strings.js';

/** One frame, header parsed, body still raw. */
export interface RawFrame {
  /** Opcode of a request, status of a reply. */
  kind: number;
  requestId: number;
  /** The client id of a request as 16 hex digits; '' for a reply. */
  clientId: string;
  /** The whole frame; the body starts at `bodyOffset`. */
  bytes: Buffer;
  bodyOffset: number;
}

/** Garbage on the stream. `requestId` is the one the bad header carried, when it got that far. */
export class KvFrameError extends Error {
  constructor(
    message: string,
    readonly tooLarge: boolean,
    readonly requestId: number,
  ) {
    super(message);
    this.name = 'KvFrameError';
  }
}

export type FrameSide = 'request' | 'reply';

export class KvFrameDecoder {
  private readonly chunks: Buffer[] = [];
  private bufferedBytes = 0;
  /** Total length of the frame being assembled, once its header was read; else -1. */
  private frameBytes = -1;
  private readonly headerBytes: number;
  /** pushCopy: a frame being assembled in a buffer of its own size, and the bytes in it so far. */
  private assembling: Buffer | null = null;
  private assembled = 0;
  /** The garbage met, if any; once set, no more frames come out. */
  error: KvFrameError | null = null;

  constructor(
    side: FrameSide,
    /** Largest acceptable frame, length field included. */
    private readonly frameBytesMax: number,
  ) {
    this.headerBytes = side === 'request' ? KV_REQUEST_HEADER_BYTES : KV_HEADER_BYTES;
  }

  /** Bytes received but not yet returned as a frame. */
  get pendingBytes(): number {
    return this.bufferedBytes + (this.assembling === null ? 0 : this.assembled);
  }

  /** Feeds bytes; returns every frame they complete before any garbage (then `error` is set). */
  push(chunk: Buffer): RawFrame[] {
    if (this.error !== null) return [];
    if (chunk.length > 0) {
      this.chunks.push(chunk);
      this.bufferedBytes += chunk.length;
    }
    const frames: RawFrame[] = [];
    for (;;) {
      if (this.frameBytes < 0) {
        if (this.bufferedBytes < this.headerBytes) break;
        try {
          this.frameBytes = this.readHeaderLength(this.peek(this.headerBytes));
        } catch (err) {
          if (!(err instanceof KvFrameError)) throw err;
          this.error = err;
          break;
        }
      }
      if (this.bufferedBytes < this.frameBytes) break;
      const bytes = this.take(this.frameBytes);
      this.frameBytes = -1;
      frames.push(this.frameOf(bytes));
    }
    return frames;
  }

  /**
   * Like push, for a chunk whose memory is reused once this returns (a socket that reads into
   * one buffer): each frame is copied once, into a buffer of its own size, as its bytes come;
   * only a header cut short is kept otherwise (copied). A decoder takes push or pushCopy, not
   * both. Where push keeps every read's buffer until its frame is whole and then joins them,
   * this allocates one buffer per frame: half the garbage of a long reply.
   */
  pushCopy(chunk: Buffer): RawFrame[] {
    const frames: RawFrame[] = [];
    let pos = 0;
    while (pos < chunk.length && this.error === null) {
      if (this.assembling === null) {
        const needed = this.headerBytes - this.bufferedBytes;
        if (chunk.length - pos < needed) {
          const rest = Buffer.from(chunk.subarray(pos));
          this.chunks.push(rest);
          this.bufferedBytes += rest.length;
          break;
        }
        const head = this.bufferedBytes === 0
          ? chunk.subarray(pos, pos + needed)
          : Buffer.concat([...this.chunks, chunk.subarray(pos, pos + needed)], this.headerBytes);
        let total: number;
        try {
          total = this.readHeaderLength(head);
        } catch (err) {
          if (!(err instanceof KvFrameError)) throw err;
          this.error = err;
          break;
        }
        const frame = Buffer.allocUnsafe(total);
        let filled = 0;
        for (const c of this.chunks) filled += c.copy(frame, filled);
        this.chunks.length = 0;
        this.bufferedBytes = 0;
        this.assembling = frame;
        this.assembled = filled;
      }
      const frame = this.assembling;
      const n = Math.min(frame.length - this.assembled, chunk.length - pos);
      chunk.copy(frame, this.assembled, pos, pos + n);
      this.assembled += n;
      pos += n;
      if (this.assembled < frame.length) break;
      this.assembling = null;
      frames.push(this.frameOf(frame));
    }
    return frames;
  }

  private frameOf(bytes: Buffer): RawFrame {
    return {
      kind: bytes[5]!,
      requestId: bytes.readUInt32BE(8),
      clientId: this.headerBytes === KV_REQUEST_HEADER_BYTES ? readClientId(bytes, 12) : '',
      bytes,
      bodyOffset: this.headerBytes,
    };
  }

  private readHeaderLength(head: Buffer): number {
    const requestId = head.readUInt32BE(8);
    const fail = (message: string, tooLarge = false): never => {
      throw new KvFrameError(message, tooLarge, requestId);
    };
    const version = head[4]!;
    if (version !== KV_PROTOCOL_VERSION) fail(`bad frame: version ${version}, expected ${KV_PROTOCOL_VERSION}`);
    const flags = head.readUInt16BE(6);
    if (flags !== 0) fail(`bad frame: flags 0x${flags.toString(16)} set, expected 0`);
    const total = head.readUInt32BE(0) + 4;
    if (total < this.headerBytes) fail(`bad frame: length ${total} is shorter than the ${this.headerBytes}-byte header`);
    if (total > this.frameBytesMax) {
      fail(`frame of ${total} bytes exceeds the limit of ${this.frameBytesMax} bytes`, true);
    }
    return total;
  }

  /** The first n buffered bytes (n is small: a header), copied only when split across chunks. */
  private peek(n: number): Buffer {
    const first = this.chunks[0]!;
    if (first.length >= n) return first.subarray(0, n);
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    for (const c of this.chunks) {
      filled += c.copy(out, filled, 0, Math.min(c.length, n - filled));
      if (filled === n) break;
    }
    return out;
  }

  /** Removes and returns the first n buffered bytes, copying only when they span chunks. */
  private take(n: number): Buffer {
    this.bufferedBytes -= n;
    const first = this.chunks[0]!;
    if (first.length >= n) {
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const c = this.chunks[0]!;
      const want = n - filled;
      if (c.length <= want) {
        c.copy(out, filled);
        filled += c.length;
        this.chunks.shift();
      } else {
        c.copy(out, filled, 0, want);
        this.chunks[0] = c.subarray(want);
        filled += want;
      }
    }
    return out;
  }
}
