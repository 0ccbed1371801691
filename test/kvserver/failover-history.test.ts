import { expect } from 'chai';
import { checkHistory, describeViolation, operationsFromEvents, type HistoryEvent } from '../../lib/lincheck/index.js';
import type { KvClient } from '../../lib/kvclient/kv-client.js';
import { isPennError } from '../../lib/protocol/errors.js';
import { setLogLevel } from '../../lib/protocol/log.js';
import { seededRandom } from '../support/seeded-random.js';
import { waitUntil } from './node-process.js';
import { GROUP_WAIT_MS, ReplicaGroup, endGroupTest } from './replica-group.js';

/** Clients at once, each one process of the history. */
const PROCESSES = 6;
/** A few keys, so that clients meet on them. */
const KEYS = ['k0', 'k1', 'k2'];
/** Operations to complete before the kill, and again after it. */
const OPERATIONS_PER_PHASE = 150;
const CHECK_TIMEOUT_MS = 30_000;

/** One client process: random GET, PUT, CPUT and DELETE with unique values, recorded. */
async function runProcess(process: number, client: KvClient, events: HistoryEvent[], random: () => number, running: () => boolean, done: { count: number }): Promise<void> {
  let n = 0;
  let lastSeen: string | null = null;
  while (running()) {
    const key = KEYS[Math.floor(random() * KEYS.length)]!;
    const dice = random();
    const value = `p${process}-${n++}`;
    try {
      if (dice < 0.4) {
        events.push({ type: 'invoke', process, op: 'get', key });
        const got = await client.get(key, 'c');
        lastSeen = got === null ? null : got.toString();
        events.push({ type: 'ok', process, value: lastSeen });
      } else if (dice < 0.65) {
        events.push({ type: 'invoke', process, op: 'put', key, value });
        await client.put(key, 'c', value);
        events.push({ type: 'ok', process });
      } else if (dice < 0.9) {
        events.push({ type: 'invoke', process, op: 'cput', key, expected: lastSeen, value });
        const result = await client.cput(key, 'c', lastSeen, value);
        events.push(result.ok ? { type: 'ok', process } : { type: 'ok', process, applied: false });
      } else {
        events.push({ type: 'invoke', process, op: 'delete', key });
        await client.delete(key, 'c');
        events.push({ type: 'ok', process });
      }
      done.count++;
    } catch (err) {
      // The outcome of a write that failed is unknown: it may have been applied.
      events.push({ type: 'info', process, error: isPennError(err) ? err.code : String(err) });
    }
  }
}

describe('kvserver: histories across a failover are linearizable (real processes, kill -9)', function () {
  this.timeout(180_000);
  let group: ReplicaGroup;

  before(() => setLogLevel('silent'));
  afterEach(() => endGroupTest(group));

  it('concurrent GET, PUT, CPUT and DELETE while the primary is killed: the checker finds an order', async () => {
    group = await ReplicaGroup.create();
    const first = await group.startAll();
    const events: HistoryEvent[] = [];
    const done = { count: 0 };
    let running = true;
    const random = seededRandom(20261121);
    const processes = Array.from({ length: PROCESSES }, (_v, p) => runProcess(p, group.client(), events, random, () => running, done));
    await waitUntil(async () => done.count >= OPERATIONS_PER_PHASE, GROUP_WAIT_MS, 'no operations before the kill');
    await group.kill(first.primary);
    const atKill = done.count;
    await waitUntil(async () => done.count >= atKill + OPERATIONS_PER_PHASE, GROUP_WAIT_MS, 'no operations after the kill');
    running = false;
    await Promise.all(processes);

    const result = checkHistory(operationsFromEvents(events), { timeoutMs: CHECK_TIMEOUT_MS });
    expect(result.verdict, result.verdict === 'not-linearizable' ? describeViolation(result.violation).join('\n') : '').to.equal('linearizable');
  });
});
