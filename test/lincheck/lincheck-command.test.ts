import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exhaustingHistory, get, historyText, ok, put } from './kv-events.js';
import { JEPSEN_VECTORS_DIR, PENNCLOUD_BIN } from './repo-paths.js';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built `penncloud lincheck` as a real process. */
function runLincheck(...args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [PENNCLOUD_BIN, 'lincheck', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('penncloud lincheck (as a process)', () => {
  let dir: string;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'penncloud-lincheck-'));
  });

  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  function writeHistory(name: string, text: string): string {
    const file = join(dir, name);
    writeFileSync(file, text);
    return file;
  }

  it('prints linearizable and exits 0 for a linearizable history in our format', async () => {
    const file = writeHistory('ok.jsonl', historyText([put(0, 'k', 'a'), put(1, 'k', 'b'), ok(1), ok(0), get(2, 'k'), ok(2, 'a')]));
    const run = await runLincheck(file);
    expect(run).to.deep.include({ code: 0, stdout: 'linearizable\n' });
  });

  it('prints not linearizable and exits 1 for a stale read, explaining on stderr', async () => {
    const file = writeHistory('stale.jsonl', historyText([put(0, 'k', 'a'), ok(0), put(1, 'k', 'b'), ok(1), get(2, 'k'), ok(2, 'a')]));
    const run = await runLincheck(file);
    expect(run).to.deep.include({ code: 1, stdout: 'not linearizable\n' });
    expect(run.stderr).to.include('key "k"');
    expect(run.stderr).to.include('read -> "a" [line 5 to line 6]');
  });

  it('reads a Jepsen log: a known non-linearizable vector exits 1', async () => {
    const run = await runLincheck(join(JEPSEN_VECTORS_DIR, 'etcd_001.log'));
    expect(run).to.deep.include({ code: 1, stdout: 'not linearizable\n' });
  });

  it('reads a Jepsen log: a known linearizable vector exits 0', async () => {
    const run = await runLincheck(join(JEPSEN_VECTORS_DIR, 'etcd_002.log'));
    expect(run).to.deep.include({ code: 0, stdout: 'linearizable\n' });
  });

  it('prints unknown and exits 2 when --timeout-ms runs out', async () => {
    const file = writeHistory('hard.jsonl', historyText(exhaustingHistory(22)));
    const run = await runLincheck(file, '--timeout-ms', '100');
    expect(run).to.deep.include({ code: 2, stdout: 'unknown\n' });
    expect(run.stderr).to.include('key "k": no answer within 100 ms');
  });

  it('exits 3 naming the file when it does not exist', async () => {
    const run = await runLincheck(join(dir, 'missing.jsonl'));
    expect(run.code).to.equal(3);
    expect(run.stdout).to.equal('');
    expect(run.stderr).to.include('missing.jsonl: no such file');
  });

  it('exits 3 naming the line of a malformed event', async () => {
    const file = writeHistory('bad.jsonl', `${historyText([put(0, 'k', 'a'), ok(0)])}{"type":"ok","process":0\n`);
    const run = await runLincheck(file);
    expect(run.code).to.equal(3);
    expect(run.stderr).to.match(/bad\.jsonl: line 3: not JSON/);
  });

  it('exits 2 with the usage when FILE is missing', async () => {
    const run = await runLincheck();
    expect(run.code).to.equal(2);
    expect(run.stderr).to.include('usage: penncloud lincheck FILE [--timeout-ms N]');
  });
});
