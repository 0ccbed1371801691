/**
 * The supervisor of `penncloud up` with real child processes: a small role script that says
 * READY and then lives, dies at once, or takes its time to stop.
 */
import { expect } from 'chai';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Supervisor, type DeathOutcome, type RestartPolicy } from '../../lib/cli/supervisor.js';
import { cleanupTempDirs, tempDir } from '../support/roles.js';

/** Short waits, so a crash loop is reached within a test. */
const POLICY: RestartPolicy = { backoffMinMs: 20, backoffMaxMs: 100, crashWindowMs: 60_000, crashesPerWindowMax: 3 };
/** Longest wait for the supervisor to bring a role back or give up. */
const SETTLE_WAIT_MS = 20_000;

/** Each start appends a line to the file given as its second argument. */
const ROLE_SCRIPT = `
const [mode, starts] = process.argv.slice(2);
require('node:fs').appendFileSync(starts, process.pid + '\\n');
process.stdout.write('READY role ' + process.pid + '\\n');
if (mode === 'crash') setTimeout(() => process.exit(3), 200);
process.on('SIGTERM', () => setTimeout(() => process.exit(0), mode === 'slow-stop' ? 800 : 0));
setInterval(() => undefined, 1000);
`;

async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + SETTLE_WAIT_MS;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${SETTLE_WAIT_MS} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('cli: the supervisor restarts roles that die, and gives up on a crash loop (real processes)', function () {
  this.timeout(60_000);
  let supervisor: Supervisor | null = null;
  let dir: string;
  let entry: string;
  const outcomes: Array<{ name: string; next: DeathOutcome }> = [];

  beforeEach(() => {
    dir = tempDir('penncloud-supervisor-');
    entry = join(dir, 'role.cjs');
    writeFileSync(entry, ROLE_SCRIPT);
    outcomes.length = 0;
    supervisor = new Supervisor(entry, (name, _code, next) => outcomes.push({ name, next }), POLICY);
  });
  afterEach(async () => {
    await supervisor?.stopAll();
    supervisor = null;
    cleanupTempDirs();
  });

  const startsOf = (file: string): number[] => readFileSync(file, 'utf8').trim().split('\n').filter((l) => l !== '').map(Number);
  const pidOf = (name: string): number | null => supervisor!.processes().find((p) => p.name === name)?.pid ?? null;

  it('starts a role killed with -9 again, as a new process', async () => {
    const starts = join(dir, 'steady.starts');
    await supervisor!.start({ name: 'frontend-1', args: ['steady', starts] });
    const first = pidOf('frontend-1')!;
    process.kill(first, 'SIGKILL');
    await until(() => pidOf('frontend-1') !== null && pidOf('frontend-1') !== first && startsOf(starts).length === 2, 'a new frontend-1');
    expect(outcomes).to.deep.equal([{ name: 'frontend-1', next: { restartInMs: POLICY.backoffMinMs } }]);
    expect(startsOf(starts)).to.have.length(2);
    expect(supervisor!.processes().find((p) => p.name === 'frontend-1')!.state).to.equal('running');
  });

  it('leaves a role that keeps dying down, reported as a crash loop, after a bounded number of starts', async () => {
    const starts = join(dir, 'crash.starts');
    await supervisor!.start({ name: 'kvnode-4', args: ['crash', starts] });
    await until(() => supervisor!.processes().find((p) => p.name === 'kvnode-4')!.state === 'crash-loop', 'the crash loop');
    expect(outcomes.map((o) => o.next)).to.deep.equal([
      { restartInMs: 20 }, { restartInMs: 40 }, { restartInMs: 80 }, { crashLoop: true, deaths: 4 },
    ]);
    const count = startsOf(starts).length;
    expect(count).to.equal(POLICY.crashesPerWindowMax + 1);
    // No further start happens by itself; the admin may try again.
    await supervisor!.startByAdmin('kvnode-4').catch(() => undefined);
    expect(startsOf(starts).length).to.equal(count + 1);
  });

  it('restart by the admin replaces a running role with a new process', async () => {
    const starts = join(dir, 'steady.starts');
    await supervisor!.start({ name: 'frontend-2', args: ['steady', starts] });
    const first = pidOf('frontend-2')!;
    await supervisor!.restartByAdmin('frontend-2');
    expect(pidOf('frontend-2')).to.be.a('number').and.not.equal(first);
    expect(outcomes, 'an asked-for restart is no crash').to.deep.equal([]);
  });

  it('a start asked for while the role is still stopping leaves it running', async () => {
    const starts = join(dir, 'slow.starts');
    await supervisor!.start({ name: 'frontend-3', args: ['slow-stop', starts] });
    const first = pidOf('frontend-3')!;
    const stopping = supervisor!.stopByAdmin('frontend-3');
    await supervisor!.startByAdmin('frontend-3');
    await stopping;
    expect(supervisor!.processes().find((p) => p.name === 'frontend-3')!.state).to.equal('running');
    expect(pidOf('frontend-3')).to.be.a('number').and.not.equal(first);
  });
});
