import { expect } from 'chai';
import { FrontendRegistry } from '../../lib/dispatcher/frontend-registry.js';
import { createHmac } from 'node:crypto';
import { decodeHeartbeat, encodeHeartbeat, HEARTBEAT_CLOCK_SKEW_MS_MAX } from '../../lib/protocol/frontend-heartbeat.js';
import { seededRandom } from '../support/seeded-random.js';

const TIMEOUT_MS = 3_000;

describe('dispatcher: the frontend registry', () => {
  it('offers a frontend until 3 s of silence, then drops it; a heartbeat brings it back', () => {
    const registry = new FrontendRegistry(TIMEOUT_MS);
    registry.heartbeat(1, 'http://127.0.0.1:8000', 0, 1_000);
    expect(registry.alive(3_999).map((e) => e.id)).to.deep.equal([1]);
    expect(registry.alive(4_000)).to.deep.equal([]);
    expect(registry.choose('random', 4_000, () => 0)).to.equal(undefined);
    registry.heartbeat(1, 'http://127.0.0.1:8000', 0, 9_000);
    expect(registry.choose('random', 9_001, () => 0)?.url).to.equal('http://127.0.0.1:8000');
  });

  it('least-load picks the frontend with the fewest connections', () => {
    const registry = new FrontendRegistry(TIMEOUT_MS);
    registry.heartbeat(1, 'http://a', 7, 0);
    registry.heartbeat(2, 'http://b', 2, 0);
    registry.heartbeat(3, 'http://c', 5, 0);
    expect(registry.choose('least-load', 10, () => 0.99)?.id).to.equal(2);
  });

  it('least-load counts users sent since the last heartbeat, so a burst spreads out', () => {
    const registry = new FrontendRegistry(TIMEOUT_MS);
    registry.heartbeat(1, 'http://a', 0, 0);
    registry.heartbeat(2, 'http://b', 0, 0);
    const picks = [0, 1, 2, 3].map(() => registry.choose('least-load', 10, () => 0)!.id);
    expect(picks).to.deep.equal([1, 2, 1, 2]);
    registry.heartbeat(1, 'http://a', 0, 20);
    expect(registry.choose('least-load', 30, () => 0.99)!.id).to.equal(1);
  });

  it('random spreads users over every live frontend', () => {
    const registry = new FrontendRegistry(TIMEOUT_MS);
    for (const id of [1, 2, 3]) registry.heartbeat(id, `http://f${id}`, id * 100, 0);
    const random = seededRandom(42);
    const counts = new Map<number, number>();
    for (let i = 0; i < 3_000; i++) {
      const id = registry.choose('random', 10, random)!.id;
      counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    for (const id of [1, 2, 3]) expect(counts.get(id)).to.be.within(800, 1_200);
  });

  it('decodes signed heartbeats and refuses malformed, unsigned, forged and stale ones', () => {
    const secret = Buffer.alloc(32, 3);
    const now = 1_765_000_000_000;
    const beat = { id: 2, url: 'http://127.0.0.1:8001', connections: 4, sentAtMs: now };
    expect(decodeHeartbeat(encodeHeartbeat(beat, secret), secret, now)).to.deep.equal(beat);
    const signed = (json: string): Buffer => {
      const good = encodeHeartbeat(beat, secret);
      const mac = createHmac('sha256', secret).update('penncloud heartbeat\0').update(json).digest('hex');
      expect(good.subarray(0, 4).toString()).to.equal('HB1 ');
      return Buffer.from(`HB1 ${mac} ${json}`);
    };
    expect(() => decodeHeartbeat(signed('nope'), secret, now)).to.throw(/not JSON/);
    expect(() => decodeHeartbeat(signed(`{"id":-1,"url":"http://x","connections":0,"sentAtMs":${now}}`), secret, now)).to.throw(/id/);
    expect(() => decodeHeartbeat(signed(`{"id":1,"url":"http://x/evil path","connections":0,"sentAtMs":${now}}`), secret, now)).to.throw(/url/);
    expect(() => decodeHeartbeat(signed(`{"id":1,"url":"javascript:alert(1)","connections":0,"sentAtMs":${now}}`), secret, now)).to.throw(/url/);
    expect(() => decodeHeartbeat(Buffer.alloc(2_000, 0x20), secret, now)).to.throw(/exceeds/);
    // What a stranger on the host can send: the old unsigned form, or a signature without the secret.
    expect(() => decodeHeartbeat(Buffer.from(JSON.stringify(beat)), secret, now)).to.throw(/not signed/);
    expect(() => decodeHeartbeat(encodeHeartbeat(beat, Buffer.alloc(32, 4)), secret, now)).to.throw(/does not match/);
    const tampered = encodeHeartbeat(beat, secret);
    tampered[tampered.length - 3] ^= 1;
    expect(() => decodeHeartbeat(tampered, secret, now)).to.throw(/does not match/);
    expect(() => decodeHeartbeat(encodeHeartbeat({ ...beat, sentAtMs: now - HEARTBEAT_CLOCK_SKEW_MS_MAX - 1 }, secret), secret, now)).to.throw(/ms allowed/);
  });
});
