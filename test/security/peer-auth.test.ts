import { expect } from 'chai';
import { createHmac } from 'node:crypto';
import { AuthClientHandshake, AuthServerHandshake, type AuthStep } from '../../lib/protocol/peer-auth.js';

const SECRET = Buffer.alloc(32, 0x5a);
const OTHER = Buffer.alloc(32, 0x33);
const CHALLENGE = Buffer.alloc(16, 0xc1);
const NONCE = Buffer.alloc(16, 0x7e);

/**
 * Feeds `bytes` to `push` split at `at` (whole when at is 0), as the socket shells do: nothing is
 * fed after a verdict, and the pieces left then join the verdict's rest. Returns every step with
 * something in it.
 */
function feed(push: (chunk: Buffer) => AuthStep, bytes: Buffer, at: number): AuthStep[] {
  const pieces = at === 0 ? [bytes] : [bytes.subarray(0, at), bytes.subarray(at)];
  const steps: AuthStep[] = [];
  for (let i = 0; i < pieces.length; i++) {
    const step = push(pieces[i]!);
    if (step.send === undefined && step.accepted === undefined && step.refused === undefined) continue;
    if (step.accepted !== undefined) step.accepted.rest = Buffer.concat([step.accepted.rest, ...pieces.slice(i + 1)]);
    steps.push(step);
    if (step.accepted !== undefined || step.refused !== undefined) break;
  }
  return steps;
}

function hmac(label: string, ...parts: Buffer[]): string {
  const h = createHmac('sha256', SECRET).update(label);
  for (const p of parts) h.update(p);
  return h.digest('hex');
}

describe('peer authentication handshake (transcripts, split at every byte)', () => {
  it('a client and a server of one secret prove themselves to each other, the bytes after the handshake kept', () => {
    const greeting = new AuthServerHandshake(SECRET, CHALLENGE).greeting();
    expect(greeting.toString()).to.equal(`PENNCLOUD-AUTH 1 ${CHALLENGE.toString('hex')}\n`);
    const answer = `${NONCE.toString('hex')} ${hmac('penncloud client proof\0', CHALLENGE, NONCE)}\n`;
    const verdict = `OK ${hmac('penncloud server proof\0', NONCE, CHALLENGE)}\n`;
    for (let at = 0; at < greeting.length; at++) {
      const client = new AuthClientHandshake(SECRET, NONCE);
      expect(feed((c) => client.push(c), greeting, at).map((s) => s.send?.toString())).to.deep.equal([answer]);
      const followed = Buffer.concat([Buffer.from(verdict), Buffer.from('first reply')]);
      const steps = feed((c) => client.push(c), followed, at % followed.length);
      expect(steps.map((s) => s.accepted?.rest.toString())).to.deep.equal(['first reply']);
    }
    const request = Buffer.concat([Buffer.from(answer), Buffer.from('FRAME')]);
    for (let at = 0; at < request.length; at++) {
      const server = new AuthServerHandshake(SECRET, CHALLENGE);
      const steps = feed((c) => server.push(c), request, at);
      expect(steps.length, `split at ${at}`).to.equal(1);
      expect(steps[0]!.send!.toString()).to.equal(verdict);
      expect(steps[0]!.accepted!.rest.toString()).to.equal('FRAME');
    }
  });

  it('refuses a client without the secret, one that speaks another protocol, and one that never ends its line', () => {
    const wrong = createHmac('sha256', OTHER).update('penncloud client proof\0').update(CHALLENGE).update(NONCE).digest('hex');
    const cases: [string, Buffer, RegExp][] = [
      ['a proof made with another secret', Buffer.from(`${NONCE.toString('hex')} ${wrong}\n`), /does not match this cluster's secret/],
      ['a KV frame straight away', Buffer.from([0x50, 0x4b, 0x01, 0x10, 0, 0, 0, 1, 0, 0, 0, 9, 0x0a]), /expected "<nonce> <proof>"/],
      ['a coordinator request straight away', Buffer.from('{"id":1,"type":"disable","nodeId":0}\n'), /expected "<nonce> <proof>"/],
      ['a line of hex digits with no end', Buffer.alloc(300, 0x61), /more than 256 bytes/],
    ];
    for (const [what, bytes, reason] of cases) {
      for (let at = 0; at < bytes.length; at += 7) {
        const server = new AuthServerHandshake(SECRET, CHALLENGE);
        const steps = feed((c) => server.push(c), bytes, at);
        expect(steps.length, what).to.equal(1);
        expect(steps[0]!.refused, what).to.match(reason);
        expect(steps[0]!.accepted, what).to.equal(undefined);
        expect(steps[0]!.send!.toString(), `${what}: the peer reads why`).to.match(/^DENIED .+\n$/);
      }
    }
  });

  it('a client refuses a server that does not know the secret (a process that took over a node\'s port)', () => {
    const greeting = Buffer.from(`PENNCLOUD-AUTH 1 ${CHALLENGE.toString('hex')}\n`);
    const forged = `OK ${createHmac('sha256', OTHER).update('penncloud server proof\0').update(NONCE).update(CHALLENGE).digest('hex')}\n`;
    // The client's own proof sent back as the server's: the labels keep it from passing.
    const reflected = `OK ${hmac('penncloud client proof\0', CHALLENGE, NONCE)}\n`;
    for (const [what, verdict, reason] of [
      ['a proof made with another secret', forged, /does not know this cluster's secret/],
      ['the client\'s proof reflected', reflected, /does not know this cluster's secret/],
      ['a refusal', 'DENIED the proof does not match this cluster\'s secret\n', /refused this peer: the proof does not match/],
    ] as const) {
      const client = new AuthClientHandshake(SECRET, NONCE);
      client.push(greeting);
      const step = client.push(Buffer.from(verdict));
      expect(step.accepted, what).to.equal(undefined);
      expect(step.refused, what).to.match(reason);
    }
    const client = new AuthClientHandshake(SECRET, NONCE);
    expect(client.push(Buffer.from('+OK POP3 server ready\r\n')).refused).to.match(/did not greet with a challenge/);
  });
});
