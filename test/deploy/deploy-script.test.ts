/**
 * docs/deploy-netns.sh as an operator runs it: `up` starts a whole cloud across namespaces, a
 * user on the network signs up and stores a file through the dispatcher, `cut` and `heal` take a
 * host off the network and back, and `down` leaves no role, namespace or link behind. Its names
 * and subnet are unique to the run. Needs root and iproute2; skipped elsewhere, with the reason.
 */
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { ApiClient, bytesFor } from '../api/cloud.js';
import { cleanupTempDirs, REPO_ROOT, tempDir } from '../support/roles.js';
import { canMakeNamespaces, freeSubnet, ip } from './netns-hosts.js';

const SCRIPT = join(REPO_ROOT, 'docs/deploy-netns.sh');
/** `up` waits up to 60 s for each of 16 roles; far less is usual. */
const SCRIPT_TIMEOUT_MS = 300_000;
/** How long a connection is given to open; one to a cut-off host never does. */
const CONNECT_TIMEOUT_MS = 1_000;
/** How long the dispatcher may take to hear a frontend after `up`. */
const DISPATCHER_WAIT_MS = 30_000;
const POLL_INTERVAL_MS = 100;
/** Roles the script starts: coordinator, 9 storage nodes, 3 frontends, dispatcher, smtp, pop3. */
const ROLES_COUNT = 16;

describe('deploy: docs/deploy-netns.sh up, cut, heal and down', function () {
  this.timeout(SCRIPT_TIMEOUT_MS * 2);
  const prefix = `q${randomBytes(2).toString('hex').slice(0, 3)}`;
  let subnet = '';
  let dir = '';
  let skipped = false;
  let upRan = false;

  const script = (args: string[]): Promise<{ code: number; stdout: string; stderr: string }> => new Promise((resolve) => {
    execFile('bash', [SCRIPT, ...args], {
      timeout: SCRIPT_TIMEOUT_MS, cwd: dir,
      env: { ...process.env, PENNCLOUD_NETNS_PREFIX: prefix, PENNCLOUD_NETNS_SUBNET: subnet, PENNCLOUD_LOG: 'warn' },
    }, (err, stdout, stderr) => resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stdout, stderr }));
  });
  const leftovers = async (): Promise<string[]> => {
    const names = `${await ip(['netns', 'list'])}\n${await ip(['-o', 'link', 'show'])}`;
    return [...new Set(names.match(new RegExp(`\\b${prefix}(-|v-|br0)[\\w-]*`, 'g')) ?? [])];
  };

  before(async function () {
    const missing = await canMakeNamespaces();
    if (missing !== null) {
      console.log(`      skipped: ${missing}`);
      skipped = true;
      this.skip();
    }
    subnet = await freeSubnet();
    dir = tempDir('penncloud-deploy-');
  });

  after(async () => {
    if (skipped) return;
    if (upRan) await script(['down', 'cloud']);
    cleanupTempDirs();
  });

  it('starts every role on its own address, serves a user, partitions and heals a host, and removes everything', async () => {
    upRan = true;
    const up = await script(['up', 'cloud']);
    expect(up.code, up.stderr).to.equal(0);
    const ready = up.stdout.split('\n').filter((l) => l.startsWith('READY '));
    expect(ready).to.have.length(ROLES_COUNT);
    const onSubnet = new RegExp(`^READY \\S+ (http://)?${subnet.replace(/\./g, '\\.')}\\.\\d+:\\d+$`);
    for (const line of ready) expect(line, 'each role is on the subnet').to.match(onSubnet);
    const cloud = join(dir, 'cloud');
    const conf = JSON.parse(readFileSync(join(cloud, 'conf.json'), 'utf8'));
    expect(conf.kv.nodes.map((n: { host: string }) => n.host)).to.deep.equal([20, 21, 22, 23, 24, 25, 26, 27, 28].map((o) => `${subnet}.${o}`));
    expect(statSync(join(cloud, 'cluster.secret')).mode & 0o777).to.equal(0o600);

    const dispatcher = `http://${subnet}.40:9000`;
    const frontend = await frontendVia(dispatcher);
    expect(frontend).to.match(new RegExp(`^http://${subnet.replace(/\./g, '\\.')}\\.3[123]:8000$`));
    const ann = await new ApiClient(frontend).signUpAndLogIn('ann');
    const content = bytesFor(7, 50_000);
    expect((await ann.put('/hello.bin', content)).status).to.equal(201);
    const got = await ann.get('/hello.bin');
    expect(got.body.equals(content)).to.equal(true);

    expect(await reachable(`${subnet}.20`, 10000)).to.equal(true);
    const cut = await script(['cut', 'kv0']);
    expect(cut.code, cut.stderr).to.equal(0);
    expect(await reachable(`${subnet}.20`, 10000), 'kv0 with its link cut').to.equal(false);
    const heal = await script(['heal', 'kv0']);
    expect(heal.code, heal.stderr).to.equal(0);
    expect(await reachable(`${subnet}.20`, 10000), 'kv0 healed').to.equal(true);

    const status = await script(['status', 'cloud']);
    const pids = [...status.stdout.matchAll(/running \(pid (\d+)\)/g)].map((m) => Number(m[1]));
    expect(pids).to.have.length(ROLES_COUNT);
    const down = await script(['down', 'cloud']);
    upRan = false;
    expect(down.code, down.stderr).to.equal(0);
    expect(pids.filter(isAlive), 'roles still running after down').to.deep.equal([]);
    expect(await leftovers(), 'namespaces and links left after down').to.deep.equal([]);
  });
});

async function frontendVia(dispatcher: string): Promise<string> {
  const startMs = Date.now();
  for (;;) {
    const res = await fetch(`${dispatcher}/`, { redirect: 'manual' }).catch(() => null);
    if (res !== null) await res.arrayBuffer();
    if (res?.status === 301) return res.headers.get('location')!.replace(/\/$/, '');
    if (Date.now() - startMs > DISPATCHER_WAIT_MS) throw new Error(`${dispatcher} named no frontend within ${DISPATCHER_WAIT_MS} ms`);
    await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
  }
}

function reachable(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: CONNECT_TIMEOUT_MS });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('connect', () => done(true));
    socket.once('timeout', () => done(false));
    socket.once('error', () => done(false));
  });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
