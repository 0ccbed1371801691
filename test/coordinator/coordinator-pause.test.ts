import { expect } from 'chai';
import { setLogLevel } from '../../lib/protocol/log.js';
import { FAILURE_TIMEOUT_MS, ReplicaGroup, endGroupTest } from '../kvserver/replica-group.js';

/** How long the coordinator is stopped: several failure timeouts, so every node looks silent. */
const PAUSE_MS = 4 * FAILURE_TIMEOUT_MS;

describe('coordinator: a paused coordinator, resumed, keeps the view (real processes, SIGSTOP)', function () {
  this.timeout(120_000);
  let group: ReplicaGroup;

  before(() => setLogLevel('silent'));
  afterEach(() => endGroupTest(group));

  it('drops no secondary after SIGSTOP and SIGCONT: it listens again before judging anyone silent', async () => {
    group = await ReplicaGroup.create();
    const before = await group.startAll();
    const coordinator = group.coordinator!;
    coordinator.child.kill('SIGSTOP');
    // The pause is what is tested: it has to last, and the nodes keep running meanwhile.
    await new Promise((resolve) => setTimeout(resolve, PAUSE_MS));
    coordinator.child.kill('SIGCONT');
    await new Promise<void>((resolve, reject) => {
      const deadline = setTimeout(() => reject(new Error('the coordinator did not say it was paused')), 15_000);
      const check = (): void => {
        if (/the coordinator was paused/.test(coordinator.stderr())) {
          clearTimeout(deadline);
          resolve();
        } else {
          setTimeout(check, 20);
        }
      };
      check();
    });
    // Two more failure timeouts of normal running: a wrong judgement would have been announced.
    const client = group.client();
    for (let i = 0; i < 20; i++) await client.put(`after-pause-${i}`, 'c', Buffer.from(String(i)));
    await new Promise((resolve) => setTimeout(resolve, 2 * FAILURE_TIMEOUT_MS));
    expect(await group.view()).to.deep.equal(before);
  });
});
