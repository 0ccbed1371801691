/** A raw control-protocol peer for tests: sends JSON lines, collects replies and pushes. */
import { connect, type Socket } from 'node:net';
import { encodeJsonLine, JsonLineDecoder } from '../../lib/protocol/json-lines.js';
import { authenticateToPeer } from '../../lib/protocol/peer-auth.js';

/** How long a test waits for one expected message. */
export const MESSAGE_TIMEOUT_MS = 15_000;

export class JsonLinePeer {
  private readonly received: Array<Record<string, unknown>> = [];
  private waiters: Array<() => void> = [];
  private nextId = 1;

  private constructor(private readonly socket: Socket) {
    const decoder = new JsonLineDecoder();
    socket.on('data', (chunk: Buffer) => {
      for (const m of decoder.push(chunk)) this.received.push(m as Record<string, unknown>);
      for (const w of this.waiters.splice(0)) w();
    });
  }

  /** Connects and proves `secret` (the cluster secret of the peer's data directory). */
  static connect(port: number, secret: Buffer): Promise<JsonLinePeer> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => {
        authenticateToPeer(socket, secret).then(() => {
          const peer = new JsonLinePeer(socket);
          socket.resume();
          resolve(peer);
        }, reject);
      });
      socket.once('error', reject);
    });
  }

  /** Sends a request and resolves with its reply (matched by id). */
  async request(message: Record<string, unknown>): Promise<Record<string, unknown>> {
    const id = this.nextId++;
    this.socket.write(encodeJsonLine({ id, ...message }));
    return this.waitFor((m) => m.id === id, `reply to ${JSON.stringify(message)}`);
  }

  /** Resolves with (and removes) the first message matching `test`, bounded. */
  waitFor(test: (m: Record<string, unknown>) => boolean, what: string): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${what} within ${MESSAGE_TIMEOUT_MS} ms`)), MESSAGE_TIMEOUT_MS);
      const check = (): void => {
        const i = this.received.findIndex(test);
        if (i === -1) {
          this.waiters.push(check);
          return;
        }
        clearTimeout(timer);
        resolve(this.received.splice(i, 1)[0]!);
      };
      check();
    });
  }

  close(): void {
    this.socket.destroy();
  }
}
