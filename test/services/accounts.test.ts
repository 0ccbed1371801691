import { expect } from 'chai';
import type { KvClient } from '../../lib/kvclient/kv-client.js';
import { isPennError } from '../../lib/protocol/errors.js';
import { LoginThrottle } from '../../lib/services/login-throttle.js';
import { SessionService } from '../../lib/services/session-service.js';
import { UserService } from '../../lib/services/user-service.js';
import { ManualClock, startStore, stopStore } from './service-cluster.js';

async function refusal(p: Promise<unknown>): Promise<{ code: string; reason?: string; message: string }> {
  try {
    await p;
  } catch (err) {
    if (isPennError(err)) return { code: err.code, reason: err.reason, message: err.message };
    throw err;
  }
  throw new Error('expected a refusal');
}

describe('services: users, log-in throttle and sessions on real KV nodes', function () {
  this.timeout(60_000);
  let kv: KvClient;
  let clock: ManualClock;
  let users: UserService;
  let sessions: SessionService;

  beforeEach(async () => {
    kv = await startStore();
    clock = new ManualClock();
    users = new UserService(kv, new LoginThrottle(kv, { perUserMax: 3, perAddressMax: 5, windowMs: 60_000 }, clock.now), clock.now);
    sessions = new SessionService(kv, users, { idleTimeoutMs: 10_000, absoluteTimeoutMs: 100_000 }, clock.now);
  });
  afterEach(stopStore);

  it('of 12 racing sign-ups for one name exactly one wins', async () => {
    const results = await Promise.allSettled(Array.from({ length: 12 }, (_v, i) => users.signUp('zed', `password ${i}`)));
    expect(results.filter((r) => r.status === 'fulfilled')).to.have.length(1);
    for (const r of results) {
      if (r.status === 'rejected') expect(r.reason).to.include({ code: 'CONFLICT', reason: 'NAME_TAKEN' });
    }
  });

  it('stores no password, only an scrypt hash with its own salt per account', async () => {
    await users.signUp('ann', 'same password');
    await users.signUp('bob', 'same password');
    const ann = (await users.find('ann'))!;
    const bob = (await users.find('bob'))!;
    expect(ann.password.algorithm).to.equal('scrypt');
    expect(ann.password.salt).to.not.equal(bob.password.salt);
    expect(ann.password.hash).to.not.equal(bob.password.hash);
    expect(JSON.stringify(ann)).to.not.contain('same password');
  });

  it('throttles failures per user and per address for one window, then lets them try again', async () => {
    await users.signUp('ann', 'right password');
    for (let i = 0; i < 3; i++) expect(await refusal(users.logIn('ann', 'wrong password', '10.0.0.1'))).to.include({ code: 'UNAUTHENTICATED' });
    expect(await refusal(users.logIn('ann', 'right password', '10.0.0.2'))).to.include({ code: 'RATE_LIMITED', reason: 'USER_LOCKED' });
    clock.advance(60_000);
    expect((await users.logIn('ann', 'right password', '10.0.0.2')).username).to.equal('ann');
    // Five failures from one address over different names lock the address, not the names.
    for (const name of ['bea', 'cid', 'dee', 'eli', 'fox']) await refusal(users.logIn(name, 'wrong password', '10.0.0.9'));
    expect(await refusal(users.logIn('ann', 'right password', '10.0.0.9'))).to.include({ reason: 'ADDRESS_LOCKED' });
    expect((await users.logIn('ann', 'right password', '10.0.0.8')).username).to.equal('ann');
  });

  it('ends sessions when idle, at their absolute lifetime, on log-out and on a password change', async () => {
    await users.signUp('ann', 'right password');
    const account = await users.logIn('ann', 'right password', '10.0.0.1');
    const idle = await sessions.create(account);
    clock.advance(9_000);
    expect(await sessions.resolve(idle.id)).to.include({ username: 'ann' });
    clock.advance(9_000);
    expect(await sessions.resolve(idle.id), 'used 9 s ago: still alive').to.include({ username: 'ann' });
    clock.advance(10_000);
    expect(await sessions.resolve(idle.id), 'idle 10 s').to.equal(null);

    const busy = await sessions.create(account);
    for (let t = 0; t < 99_000; t += 3_000) {
      clock.advance(3_000);
      expect(await sessions.resolve(busy.id)).to.not.equal(null);
    }
    clock.advance(1_000);
    expect(await sessions.resolve(busy.id), 'absolute lifetime').to.equal(null);

    const a = await sessions.create(account);
    const b = await sessions.create(account);
    await sessions.destroy(a.id);
    expect(await sessions.resolve(a.id)).to.equal(null);
    expect(await sessions.resolve(b.id)).to.not.equal(null);
    const changed = await users.changePassword('ann', 'right password', 'new password', '10.0.0.1');
    expect(await sessions.resolve(b.id)).to.equal(null);
    const fresh = await sessions.create(changed);
    expect(await sessions.resolve(fresh.id)).to.include({ username: 'ann' });
    expect(await sessions.resolve('not-a-session-id')).to.equal(null);
    expect(await sessions.resolve('0'.repeat(32))).to.equal(null);
  });
});
