/**
 * A minimal pipelined RESP2 client over node:net for the benchmark's Redis reference run:
 * SET and GET only, replies matched to requests in order (Redis answers in order).
 */
import { connect, type Socket } from 'node:net';

type Reply = Buffer | string | null;

interface Waiting {
  resolve: (reply: Reply) => void;
  reject: (err: Error) => void;
}

export class RespClient {
  private chunks: Buffer[] = [];
  private chunkBytes = 0;
  /** Bytes the reply being gathered needs in all; 0 when not known. */
  private needBytes = 0;
  private readonly waiting: Waiting[] = [];
  private corked = false;

  private constructor(private readonly socket: Socket) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => this.failAll(err));
    socket.on('close', () => this.failAll(new Error('redis connection closed')));
  }

  static connect(port: number): Promise<RespClient> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port });
      socket.once('connect', () => resolve(new RespClient(socket)));
      socket.once('error', reject);
    });
  }

  get inFlight(): number {
    return this.waiting.length;
  }

  set(key: string, value: Buffer): Promise<Reply> {
    return this.command([Buffer.from('SET'), Buffer.from(key), value]);
  }

  get(key: string): Promise<Reply> {
    return this.command([Buffer.from('GET'), Buffer.from(key)]);
  }

  ping(): Promise<Reply> {
    return this.command([Buffer.from('PING')]);
  }

  close(): void {
    this.socket.destroy();
  }

  private command(args: Buffer[]): Promise<Reply> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      if (!this.corked) {
        this.corked = true;
        this.socket.cork();
        process.nextTick(() => {
          this.corked = false;
          this.socket.uncork();
        });
      }
      this.socket.write(`*${args.length}\r\n`);
      for (const a of args) {
        this.socket.write(`$${a.length}\r\n`);
        this.socket.write(a);
        this.socket.write('\r\n');
      }
    });
  }

  private onData(chunk: Buffer): void {
    // Chunks of a large bulk reply are only gathered, and joined once it is complete.
    this.chunks.push(chunk);
    this.chunkBytes += chunk.length;
    if (this.chunkBytes < this.needBytes) return;
    let buf = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
    this.chunks = [];
    this.chunkBytes = 0;
    this.needBytes = 0;
    for (;;) {
      const parsed = parseReply(buf);
      if (parsed === null) break;
      if ('needBytes' in parsed) {
        this.needBytes = parsed.needBytes;
        break;
      }
      buf = buf.subarray(parsed.used);
      const w = this.waiting.shift();
      if (w === undefined) throw new Error('redis sent a reply nobody asked for');
      if (parsed.error !== null) w.reject(new Error(parsed.error));
      else w.resolve(parsed.reply);
    }
    if (buf.length > 0) {
      this.chunks.push(buf);
      this.chunkBytes = buf.length;
    }
  }

  private failAll(err: Error): void {
    for (const w of this.waiting.splice(0)) w.reject(err);
  }
}

/** One reply from the front of `buf`, or null when it is not complete yet. */
function parseReply(buf: Buffer): { reply: Reply; error: string | null; used: number } | { needBytes: number } | null {
  const eol = buf.indexOf('\r\n');
  if (eol < 0) return null;
  const line = buf.toString('latin1', 1, eol);
  switch (buf[0]) {
    case 0x2b: // +
      return { reply: line, error: null, used: eol + 2 };
    case 0x2d: // -
      return { reply: null, error: line, used: eol + 2 };
    case 0x3a: // :
      return { reply: line, error: null, used: eol + 2 };
    case 0x24: { // $
      const n = Number(line);
      if (n < 0) return { reply: null, error: null, used: eol + 2 };
      if (buf.length < eol + 2 + n + 2) return { needBytes: eol + 2 + n + 2 };
      return { reply: buf.subarray(eol + 2, eol + 2 + n), error: null, used: eol + 2 + n + 2 };
    }
    default:
      throw new Error(`unexpected RESP reply type ${String.fromCharCode(buf[0]!)}`);
  }
}
