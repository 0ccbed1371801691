/**
 * Peer authentication: before the first request on any internal connection (client to storage
 * node, node to node, node or frontend to coordinator, admin to supervisor), both ends prove
 * they know the cluster secret, by HMAC challenge-response. The exchange is three lines of
 * ASCII, so a stranger speaking any protocol at the port reads a plain refusal:
 *
 *   server: PENNCLOUD-AUTH 1 <challenge>                 (16 random bytes, hex)
 *   client: <nonce> <client proof>                       (16 random bytes, hex; 32-byte HMAC, hex)
 *   server: OK <server proof>                            or  DENIED <reason>, then close
 *
 *   client proof = HMAC-SHA256(secret, "penncloud client proof\0" || challenge || nonce)
 *   server proof = HMAC-SHA256(secret, "penncloud server proof\0" || nonce || challenge)
 *
 * The server's fresh challenge makes a recorded client line useless on another connection; the
 * client's nonce does the same for the server's line, so a process that took over a node's port
 * (after the node was killed) cannot pass for the node. The two labels keep one side's proof from
 * being reflected as the other's. After "OK" the connection carries its own protocol unchanged.
 *
 * The handshakes are pure (bytes in, bytes and verdicts out); `acceptPeer` and
 * `authenticateToPeer` run them on a socket. See docs/security.md.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Socket } from 'node:net';

/** The greeting's first word and protocol version. */
const GREETING_PREFIX = 'PENNCLOUD-AUTH 1 ';
/** Random bytes in a challenge or nonce: 128 bits, never repeated by chance. */
export const AUTH_NONCE_BYTES = 16;
/** Bytes in a proof (HMAC-SHA256). */
const PROOF_BYTES = 32;
/** Longest handshake line accepted; a real one is under 120 bytes. */
export const AUTH_LINE_BYTES_MAX = 256;
/** How long either side waits for the other's handshake lines before closing. */
export const AUTH_HANDSHAKE_TIMEOUT_MS = 5_000;
/** Fewest bytes a cluster secret may have. */
export const CLUSTER_SECRET_BYTES_MIN = 32;

const CLIENT_LABEL = Buffer.from('penncloud client proof\0', 'latin1');
const SERVER_LABEL = Buffer.from('penncloud server proof\0', 'latin1');

/** Where a handshake stands after some bytes: wait, send (and maybe go on), or end. */
export interface AuthStep {
  /** Bytes to write to the peer now, if any. */
  send?: Buffer;
  /** Set once the peer is proven: bytes that came after the handshake, for the protocol. */
  accepted?: { rest: Buffer };
  /** Set when the handshake failed: why, in words fit for a log and for the peer. */
  refused?: string;
}

function proof(secret: Buffer, label: Buffer, first: Buffer, second: Buffer): Buffer {
  return createHmac('sha256', secret).update(label).update(first).update(second).digest();
}

function sameBytes(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

function hexBytes(text: string, bytes: number): Buffer | null {
  return text.length === bytes * 2 && /^[0-9a-f]+$/.test(text) ? Buffer.from(text, 'hex') : null;
}

/** Bytes an answer line holds: lowercase hex digits, one space, an optional CR before LF. */
function isAnswerByte(byte: number): boolean {
  return (byte >= 0x30 && byte <= 0x39) || (byte >= 0x61 && byte <= 0x66) || byte === 0x20 || byte === 0x0d;
}

/** Collects bytes into lines ending in "\n", each at most AUTH_LINE_BYTES_MAX long. */
class LineCollector {
  private pending = Buffer.alloc(0);

  /** The next complete line and what follows it; null while incomplete; 'too-long' past the limit. */
  push(chunk: Buffer): { line: string; rest: Buffer } | null | 'too-long' {
    this.pending = this.pending.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.pending, chunk]);
    const nl = this.pending.indexOf(0x0a);
    if (nl === -1) return this.pending.length > AUTH_LINE_BYTES_MAX ? 'too-long' : null;
    if (nl > AUTH_LINE_BYTES_MAX) return 'too-long';
    const line = this.pending.subarray(0, nl).toString('latin1').replace(/\r$/, '');
    const rest = this.pending.subarray(nl + 1);
    this.pending = Buffer.alloc(0);
    return { line, rest };
  }
}

/** The accepting side: greets with a challenge, checks the client's proof, answers with its own. */
export class AuthServerHandshake {
  private readonly lines = new LineCollector();
  private done = false;

  constructor(private readonly secret: Buffer, private readonly challenge: Buffer = randomBytes(AUTH_NONCE_BYTES)) {}

  /** The first line, sent as soon as the connection is accepted. */
  greeting(): Buffer {
    return Buffer.from(`${GREETING_PREFIX}${this.challenge.toString('hex')}\n`, 'latin1');
  }

  /** Feeds bytes from the client. */
  push(chunk: Buffer): AuthStep {
    if (this.done) throw new Error('handshake already ended');
    // A stranger speaking another protocol is refused at its first byte that cannot be part of
    // the answer, not left waiting for a newline that may never come.
    const nl = chunk.indexOf(0x0a);
    const head = nl === -1 ? chunk : chunk.subarray(0, nl);
    if (!head.every(isAnswerByte)) {
      this.done = true;
      return this.refuse('expected "<nonce> <proof>" in answer to the challenge');
    }
    const got = this.lines.push(chunk);
    if (got === null) return {};
    this.done = true;
    if (got === 'too-long') return this.refuse('expected an authentication line, got more than 256 bytes without one');
    const words = got.line.split(' ');
    const nonce = words.length === 2 ? hexBytes(words[0]!, AUTH_NONCE_BYTES) : null;
    const claimed = words.length === 2 ? hexBytes(words[1]!, PROOF_BYTES) : null;
    if (nonce === null || claimed === null) return this.refuse('expected "<nonce> <proof>" in answer to the challenge');
    if (!sameBytes(claimed, proof(this.secret, CLIENT_LABEL, this.challenge, nonce))) {
      return this.refuse('the proof does not match this cluster\'s secret');
    }
    const mine = proof(this.secret, SERVER_LABEL, nonce, this.challenge).toString('hex');
    return { send: Buffer.from(`OK ${mine}\n`, 'latin1'), accepted: { rest: got.rest } };
  }

  private refuse(reason: string): AuthStep {
    return { send: Buffer.from(`DENIED ${reason}\n`, 'latin1'), refused: reason };
  }
}

/** The connecting side: answers the challenge, then checks the server's proof. */
export class AuthClientHandshake {
  private readonly lines = new LineCollector();
  private state: 'greeting' | 'verdict' | 'done' = 'greeting';
  private challenge: Buffer | null = null;

  constructor(private readonly secret: Buffer, private readonly nonce: Buffer = randomBytes(AUTH_NONCE_BYTES)) {}

  /** Feeds bytes from the server. */
  push(chunk: Buffer): AuthStep {
    if (this.state === 'done') throw new Error('handshake already ended');
    const got = this.lines.push(chunk);
    if (got === null) return {};
    if (got === 'too-long') return this.fail('the server sent no authentication line (is this a PennCloud internal port?)');
    if (this.state === 'greeting') {
      const challenge = got.line.startsWith(GREETING_PREFIX) ? hexBytes(got.line.slice(GREETING_PREFIX.length), AUTH_NONCE_BYTES) : null;
      if (challenge === null) return this.fail('the server did not greet with a challenge (is this a PennCloud internal port of the same version?)');
      if (got.rest.length > 0) return this.fail('the server spoke before the challenge was answered');
      this.challenge = challenge;
      this.state = 'verdict';
      const mine = proof(this.secret, CLIENT_LABEL, challenge, this.nonce).toString('hex');
      return { send: Buffer.from(`${this.nonce.toString('hex')} ${mine}\n`, 'latin1') };
    }
    this.state = 'done';
    if (got.line.startsWith('DENIED ')) return this.fail(`the server refused this peer: ${got.line.slice(7)}`);
    const claimed = got.line.startsWith('OK ') ? hexBytes(got.line.slice(3), PROOF_BYTES) : null;
    if (claimed === null) return this.fail('the server answered the proof with neither OK nor DENIED');
    if (!sameBytes(claimed, proof(this.secret, SERVER_LABEL, this.nonce, this.challenge!))) {
      return this.fail('the server does not know this cluster\'s secret');
    }
    return { accepted: { rest: got.rest } };
  }

  private fail(reason: string): AuthStep {
    this.state = 'done';
    return { refused: reason };
  }
}

/**
 * Runs the server handshake on a freshly accepted socket; calls `onPeer` once the client is
 * proven, with the socket paused and any bytes it sent after the handshake put back, so the
 * protocol's own reader sees the stream from its first byte (it resumes when it attaches). A
 * client that fails or stalls is refused and closed; `onRefused` hears why (for the log).
 */
export function acceptPeer(
  socket: Socket,
  secret: Buffer,
  onPeer: (socket: Socket) => void,
  onRefused: (reason: string) => void,
): void {
  const handshake = new AuthServerHandshake(secret);
  const timer = setTimeout(() => {
    cleanup();
    onRefused(`no authentication within ${AUTH_HANDSHAKE_TIMEOUT_MS} ms`);
    socket.end(`DENIED no authentication within ${AUTH_HANDSHAKE_TIMEOUT_MS} ms\n`);
    socket.destroySoon();
  }, AUTH_HANDSHAKE_TIMEOUT_MS);
  timer.unref();
  const onError = (): void => {
    cleanup();
    socket.destroy();
  };
  const onData = (chunk: Buffer): void => {
    const step = handshake.push(chunk);
    if (step.send !== undefined && !socket.destroyed) socket.write(step.send);
    if (step.refused !== undefined) {
      cleanup();
      onRefused(step.refused);
      socket.end();
      socket.destroySoon();
    } else if (step.accepted !== undefined) {
      cleanup();
      socket.pause();
      if (step.accepted.rest.length > 0) socket.unshift(step.accepted.rest);
      onPeer(socket);
      socket.resume();
    }
  };
  const cleanup = (): void => {
    clearTimeout(timer);
    socket.off('data', onData);
    socket.off('error', onError);
    socket.off('close', cleanup);
  };
  socket.on('data', onData);
  socket.on('error', onError);
  socket.on('close', cleanup);
  socket.write(handshake.greeting());
}

/** A peer's handshake failed: it is not of this cluster, or not a PennCloud port at all. */
export class PeerAuthError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PeerAuthError';
  }
}

/**
 * Runs the client handshake on a connected socket (call it on 'connect'); resolves once the
 * server is proven, with the socket paused and any bytes that followed put back. Rejects with a
 * PeerAuthError naming the problem (the socket is then destroyed), or when the socket closes or
 * errs first.
 */
export function authenticateToPeer(socket: Socket, secret: Buffer, timeoutMs = AUTH_HANDSHAKE_TIMEOUT_MS): Promise<void> {
  return new Promise((resolve, reject) => {
    const handshake = new AuthClientHandshake(secret);
    const timer = setTimeout(() => finish(new PeerAuthError(`no authentication answer within ${timeoutMs} ms`)), timeoutMs);
    timer.unref();
    const finish = (err: Error | null, rest?: Buffer): void => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', onClose);
      socket.off('error', onError);
      if (err !== null) {
        socket.destroy();
        reject(err);
        return;
      }
      socket.pause();
      if (rest !== undefined && rest.length > 0) socket.unshift(rest);
      resolve();
    };
    const onData = (chunk: Buffer): void => {
      const step = handshake.push(chunk);
      if (step.send !== undefined) socket.write(step.send);
      if (step.refused !== undefined) finish(new PeerAuthError(step.refused));
      else if (step.accepted !== undefined) finish(null, step.accepted.rest);
    };
    const onClose = (): void => finish(new PeerAuthError('the connection closed during authentication'));
    const onError = (err: Error): void => finish(new PeerAuthError(`authentication failed: ${err.message}`));
    socket.on('data', onData);
    socket.on('close', onClose);
    socket.on('error', onError);
  });
}
