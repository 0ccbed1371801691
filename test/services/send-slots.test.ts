import { expect } from 'chai';
import { SendSlots } from '../../lib/services/send-slots.js';

/** A piece of work that finishes when the test says so. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => { open = resolve; });
  return { promise, open };
}

describe('services: webmail send slots', () => {
  it('runs at most inFlightMax at once; the next waits and starts as one finishes', async () => {
    const slots = new SendSlots(2, 10, 60_000);
    let running = 0;
    let most = 0;
    const gates = [gate(), gate(), gate()];
    const runs = gates.map((g) => slots.run(async () => {
      running++;
      most = Math.max(most, running);
      await g.promise;
      running--;
    }));
    await new Promise((r) => setImmediate(r));
    expect(running).to.equal(2);
    gates[0]!.open();
    await runs[0];
    await new Promise((r) => setImmediate(r));
    expect(running).to.equal(2);
    gates[1]!.open();
    gates[2]!.open();
    await Promise.all(runs);
    expect(most).to.equal(2);
  });

  it('refuses with UNAVAILABLE past waitingMax waiters, and a waiter past its wait', async () => {
    const slots = new SendSlots(1, 1, 50);
    const busy = gate();
    const first = slots.run(() => busy.promise);
    const waiting = slots.run(async () => 'ran');
    const refused = await slots.run(async () => 'ran').catch((err: { code: string; message: string }) => err);
    expect(refused).to.include({ code: 'UNAVAILABLE' });
    expect((refused as { message: string }).message).to.contain('too many messages are waiting to be sent here (at most 1)');
    const timedOut = await waiting.catch((err: { code: string; message: string }) => err);
    expect(timedOut).to.include({ code: 'UNAVAILABLE' });
    expect((timedOut as { message: string }).message).to.contain('within 0.05 s');
    busy.open();
    await first;
    expect(await slots.run(async () => 'free again')).to.equal('free again');
  });
});
