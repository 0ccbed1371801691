import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { cleanup, makeCluster, startNode, track, withTimeout, type TestCluster } from '../kvserver/node-process.js';

const BIN = process.env.PENNCLOUD_BIN ?? resolve('dist/bin/penncloud.js');
const RUN_WAIT_MS = 30_000;

interface Run {
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

async function kvCli(cluster: TestCluster, args: string[], stdin?: Buffer): Promise<Run> {
  const child = spawn(process.execPath, [BIN, 'kv', ...args, '--conf', cluster.confFile, '--data', cluster.dataDir], { stdio: ['pipe', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  let stderr = '';
  child.stdout.on('data', (b: Buffer) => out.push(b));
  child.stderr.setEncoding('utf8').on('data', (s: string) => { stderr += s; });
  child.stdin.end(stdin ?? Buffer.alloc(0));
  const code = await withTimeout(new Promise<number | null>((res) => child.once('close', res)), RUN_WAIT_MS, `kv ${args.join(' ')} did not finish`);
  return { code, stdout: Buffer.concat(out), stderr };
}

describe('penncloud kv (command-line client)', function () {
  let cluster: TestCluster;

  beforeEach(async () => {
    cluster = track(await makeCluster({ nodeCount: 2, tabletStarts: ['', 'm'] }));
    await Promise.all([startNode(cluster, 0), startNode(cluster, 1)]);
  });
  afterEach(cleanup);

  it('puts from an argument, stdin and a file; gets raw and as hex', async () => {
    expect((await kvCli(cluster, ['put', 'apple', 'c', 'hello'])).code).to.equal(0);
    expect((await kvCli(cluster, ['get', 'apple', 'c'])).stdout.toString()).to.equal('hello');
    const binary = Buffer.from([0, 1, 2, 0xfe, 0xff, 10]);
    expect((await kvCli(cluster, ['put', 'zebra', 'c'], binary)).code).to.equal(0);
    const raw = await kvCli(cluster, ['get', 'zebra', 'c']);
    expect(raw.stdout.equals(binary)).to.equal(true);
    expect((await kvCli(cluster, ['get', 'zebra', 'c', '--hex'])).stdout.toString()).to.equal('000102feff0a\n');
    const file = join(cluster.root, 'value.bin');
    writeFileSync(file, binary);
    expect((await kvCli(cluster, ['put', 'apple', 'f', '--file', file])).code).to.equal(0);
    expect((await kvCli(cluster, ['get', 'apple', 'f'])).stdout.equals(binary)).to.equal(true);
  });

  it('cput, del, rows, cols; not found and mismatch exit 1', async () => {
    expect((await kvCli(cluster, ['cput', 'k', 'c', 'v1', '--old-absent'])).code).to.equal(0);
    const mismatch = await kvCli(cluster, ['cput', 'k', 'c', 'v2', '--old-absent']);
    expect(mismatch.code).to.equal(1);
    expect(mismatch.stderr).to.match(/mismatch/);
    expect((await kvCli(cluster, ['cput', 'k', 'c', 'v2', '--old', 'v1'])).code).to.equal(0);
    expect((await kvCli(cluster, ['cols', 'k'])).stdout.toString()).to.equal('c\t2\n');
    expect((await kvCli(cluster, ['rows', ''])).stdout.toString()).to.equal('k\n');
    expect((await kvCli(cluster, ['del', 'k', 'c'])).code).to.equal(0);
    const gone = await kvCli(cluster, ['get', 'k', 'c']);
    expect(gone.code).to.equal(1);
    expect(gone.stderr).to.match(/not found/);
  });

  it('--node aims at one node (wrong tablet is reported), and bad usage exits 2 with a reason', async () => {
    const node0 = `127.0.0.1:${cluster.kv.nodes[0]!.port}`;
    const wrong = await kvCli(cluster, ['put', 'zebra', 'c', 'x', '--node', node0]);
    expect(wrong.code).to.equal(1);
    expect(wrong.stderr).to.match(/does not serve row/);
    const status = await kvCli(cluster, ['status', '--node', node0]);
    expect(JSON.parse(status.stdout.toString()).nodeId).to.equal(0);
    const usage = await kvCli(cluster, ['frob']);
    expect(usage.code).to.equal(2);
    expect(usage.stderr).to.match(/unknown verb "frob"/);
    const missing = await kvCli(cluster, ['cput', 'k', 'c', 'v']);
    expect(missing.code).to.equal(2);
    expect(missing.stderr).to.match(/--old-absent/);
  });
});
