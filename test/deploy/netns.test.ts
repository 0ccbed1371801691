/**
 * A cloud whose roles run on separate hosts: every host a Linux network namespace with its own
 * address (netns-hosts.ts), the configuration naming those addresses, one cluster secret file
 * given to every role. The test, in the root namespace, is a user on the network: it finds a
 * frontend through the dispatcher, signs up, stores files and sends mail, then cuts the primary
 * of a replica group off the network and checks that the coordinator names a new primary, that
 * writes go on, and that every write acknowledged before, during and after the partition reads
 * back once the link is healed.
 *
 * Needs root and iproute2 (.ci/run installs it); skipped elsewhere, with the reason.
 */
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { fetchClusterMap } from '../../lib/kvclient/coordinator-map-source.js';
import { KvClient } from '../../lib/kvclient/kv-client.js';
import type { KvClusterMap } from '../../lib/kvclient/tablet-router.js';
import { ApiClient, bytesFor, MARK } from '../api/cloud.js';
import { python } from '../mail/mail-clients.js';
import { cleanupTempDirs, killAllRoles, startRole, stopRole, tempDir, type RoleProcess } from '../support/roles.js';
import { canMakeNamespaces, NetnsHosts } from './netns-hosts.js';

/** Replica groups of the test cloud, three nodes each; tablets split at "i" so both hold rows. */
const GROUPS = [[0, 1, 2], [3, 4, 5]];
const TABLET_STARTS = ['', 'i'];
const FRONTEND_IDS = [1, 2];
/** How long the dispatcher may take to hear the frontends, and a frontend to reach the store. */
const CLOUD_READY_TIMEOUT_MS = 60_000;
/** Pause between two looks at something the test waits for (readiness, the coordinator's map). */
const POLL_INTERVAL_MS = 100;
/** How long one upload may take; past it the upload counts as not acknowledged. */
const UPLOAD_TIMEOUT_MS = 30_000;
/** How long the coordinator may take to name a new primary once the old one is cut off. */
const FAILOVER_TIMEOUT_MS = 60_000;
/** Writes acknowledged after the failover that show writes go on; and the time they may take. */
const WRITES_AFTER_FAILOVER_MIN = 10;
const WRITES_AFTER_FAILOVER_TIMEOUT_MS = 120_000;
/** Writes acknowledged before the cut, so that data from before the partition is checked too. */
const WRITES_BEFORE_CUT = 5;
/** How long a healed node may take to be a secondary of its group again. */
const REJOIN_TIMEOUT_MS = 60_000;
/** How long a connection to a cut-off host is given to open (it never does). */
const REACHABLE_TIMEOUT_MS = 1_000;
/** Bytes of each small file written during the partition. */
const SMALL_FILE_BYTES = 2_000;

describe('deploy: roles on separate hosts (Linux network namespaces)', function () {
  this.timeout(600_000);
  const hosts = new NetnsHosts();
  const roles: RoleProcess[] = [];
  let secret: Buffer;
  let coordinator: { host: string; port: number };
  let dispatcherUrl = '';
  let frontendUrls: string[] = [];
  let skipped = false;

  before(async function () {
    const missing = await canMakeNamespaces();
    if (missing !== null) {
      console.log(`      skipped: ${missing}`);
      skipped = true;
      this.skip();
    }
    await hosts.createBridge();
    await hosts.addHost('co', 10);
    for (const id of GROUPS.flat()) await hosts.addHost(`kv${id}`, 20 + id);
    for (const id of FRONTEND_IDS) await hosts.addHost(`fe${id}`, 30 + id);
    await hosts.addHost('di', 40);
    await hosts.addHost('ml', 50);

    const dir = tempDir('penncloud-netns-');
    const secretFile = join(dir, 'cluster.secret');
    secret = randomBytes(32);
    writeFileSync(secretFile, `${secret.toString('hex')}\n`, { mode: 0o600 });
    coordinator = { host: hosts.host('co').address, port: 9999 };
    const conf = join(dir, 'conf.json');
    writeFileSync(conf, JSON.stringify({
      frontends: FRONTEND_IDS.map((id) => ({ id, host: hosts.host(`fe${id}`).address, port: 8000 })),
      dispatcher: { host: hosts.host('di').address, port: 9000 },
      coordinator,
      kv: {
        nodes: GROUPS.flat().map((id) => ({ id, host: hosts.host(`kv${id}`).address, port: 10000 })),
        groups: GROUPS,
        tablets: TABLET_STARTS.map((start, group) => ({ start, group })),
      },
      smtp: { host: hosts.host('ml').address, port: 2500 },
      pop3: { host: hosts.host('ml').address, port: 11000 },
    }, null, 2));

    // Each host has its own data directory, as separate machines would; the secret is one file.
    const start = async (host: string, args: string[]): Promise<RoleProcess> => {
      const role = await startRole([...args, '--conf', conf, '--data', join(dir, host), '--secret-file', secretFile], {}, hosts.launcher(host));
      roles.push(role);
      return role;
    };
    await start('co', ['coordinator']);
    await Promise.all(GROUPS.flat().map((id) => start(`kv${id}`, ['kvnode', '--id', String(id)])));
    frontendUrls = (await Promise.all(FRONTEND_IDS.map((id) => start(`fe${id}`, ['frontend', '--id', String(id)])))).map((r) => r.ready);
    dispatcherUrl = (await start('di', ['dispatcher'])).ready;
    await Promise.all([start('ml', ['smtp']), start('ml', ['pop3'])]);
    for (const url of frontendUrls) await waitFor(`${url}/readyz`, CLOUD_READY_TIMEOUT_MS, async () => (await fetch(`${url}/readyz`)).status === 200);
  });

  after(async function () {
    this.timeout(120_000);
    if (skipped) return;
    // Roles first: a namespace with a process in it lives on after `ip netns del`.
    await Promise.all(roles.splice(0).map((r) => stopRole(r, 'SIGKILL')));
    killAllRoles();
    await hosts.remove();
    cleanupTempDirs();
    expect(await hosts.leftovers(), 'namespaces and links left behind').to.deep.equal([]);
  });

  it('gives every host its own address and serves accounts, drive and mail through the dispatcher', async () => {
    expect(frontendUrls).to.deep.equal(FRONTEND_IDS.map((id) => `http://${hosts.host(`fe${id}`).address}:8000`));
    const first = await frontendVia(dispatcherUrl, frontendUrls);
    const other = await frontendVia(dispatcherUrl, frontendUrls, first);

    const ann = await new ApiClient(first).signUpAndLogIn('ann');
    const bob = await new ApiClient(other).signUpAndLogIn('bob');
    const content = bytesFor(1, 300_000);
    const put = await ann.put('/report.bin', content);
    expect(put.status, put.body.toString()).to.equal(201);
    // The session works on the other frontend too: sessions live in the store, not a frontend.
    const annElsewhere = new ApiClient(other);
    annElsewhere.cookie = ann.cookie;
    const got = await annElsewhere.get('/report.bin');
    expect(got.status).to.equal(200);
    expect(got.body.equals(content)).to.equal(true);

    const sent = await ann.request('POST', '/api/mail/send', { json: { to: 'bob@localhost', subject: 'Across hosts', text: 'Sent from one host, read on another.' } });
    expect(sent.status, sent.body.toString()).to.equal(201);
    const inbox = (await bob.request('GET', '/api/mail/folders/inbox')).json();
    expect(inbox.messages.map((m: { subject: string }) => m.subject)).to.deep.equal(['Across hosts']);

    // A mail client on the network: SMTP to the mail host, then POP3 there, for bob.
    const mail = hosts.host('ml').address;
    const smtp = await python(`
import json, smtplib, sys
a = json.load(sys.stdin)
s = smtplib.SMTP(a['host'], a['port'], timeout=30)
s.sendmail('carol@example.org', ['bob@localhost'], 'From: carol@example.org\\r\\nTo: bob@localhost\\r\\nSubject: By SMTP\\r\\n\\r\\nHello.\\r\\n')
s.quit()
`, { host: mail, port: 2500 });
    expect(smtp.code, smtp.stderr).to.equal(0);
    const pop = await python(`
import json, poplib, sys
a = json.load(sys.stdin)
p = poplib.POP3(a['host'], a['port'], timeout=30)
p.user('bob'); p.pass_('correct horse')
n = p.stat()[0]
subjects = [l.decode() for i in range(1, n + 1) for l in p.top(i, 0)[1] if l.startswith(b'Subject:')]
p.quit()
print(json.dumps(subjects))
`, { host: mail, port: 11000 });
    expect(pop.code, pop.stderr).to.equal(0);
    expect(JSON.parse(pop.stdout)).to.have.members(['Subject: Across hosts', 'Subject: By SMTP']);
  });

  it('fails over when a primary is cut off the network, and loses no acknowledged write', async () => {
    const group = 0;
    const mapBefore = await clusterMap(coordinator, secret);
    const oldPrimary = mapBefore.primaries![group];
    expect(oldPrimary, 'group 0 has a primary').to.be.a('number');
    const cutHost = `kv${oldPrimary}`;

    const url = await frontendVia(dispatcherUrl, frontendUrls);
    const dana = await new ApiClient(url).signUpAndLogIn('dana');
    expect((await dana.mkdir('/p')).status).to.equal(201);
    // Each upload writes several rows (file record, chunk, folder listing, quota), spread over
    // both groups by their hashed keys: nearly every one needs the cut group.
    const acked = new Map<string, Buffer>();
    let attempts = 0;
    const upload = async (): Promise<boolean> => {
      const path = `/p/f${attempts}.bin`;
      const content = bytesFor(1_000 + attempts, SMALL_FILE_BYTES);
      attempts++;
      try {
        const res = await fetch(`${url}/api/files${path}`, {
          method: 'PUT', body: content, headers: { ...MARK, cookie: dana.cookie! }, signal: AbortSignal.timeout(UPLOAD_TIMEOUT_MS),
        });
        await res.arrayBuffer();
        if (res.status !== 201) return false;
        acked.set(path, content);
        return true;
      } catch {
        return false;
      }
    };
    while (acked.size < WRITES_BEFORE_CUT) expect(await upload(), 'an upload before the cut').to.equal(true);

    const cutAtMs = Date.now();
    await hosts.setLink(cutHost, false);
    const cutNode = mapBefore.nodes.find((n) => n.id === oldPrimary)!;
    expect(await reachable(cutNode.host, cutNode.port), `node ${oldPrimary} reachable with its link down`).to.equal(false);
    let failoverMs = -1;
    let newPrimary: number | null = null;
    const watcher = (async () => {
      while (Date.now() - cutAtMs < FAILOVER_TIMEOUT_MS) {
        const map = await clusterMap(coordinator, secret).catch(() => null);
        const primary = map?.primaries?.[group] ?? null;
        if (primary !== null && primary !== oldPrimary) {
          failoverMs = Date.now() - cutAtMs;
          newPrimary = primary;
          return;
        }
        await sleep(POLL_INTERVAL_MS);
      }
    })();
    let ackedDuringPartition = 0;
    let ackedAfterFailover = 0;
    let firstAckAfterCutMs = -1;
    const failedUploads: number[] = [];
    while (ackedAfterFailover < WRITES_AFTER_FAILOVER_MIN && Date.now() - cutAtMs < WRITES_AFTER_FAILOVER_TIMEOUT_MS) {
      const failoverSeen = failoverMs >= 0;
      if (await upload()) {
        ackedDuringPartition++;
        if (firstAckAfterCutMs < 0) firstAckAfterCutMs = Date.now() - cutAtMs;
        if (failoverSeen) ackedAfterFailover++;
      } else {
        failedUploads.push(attempts - 1);
      }
    }
    await watcher;
    expect(failoverMs, 'the coordinator named a new primary').to.be.at.least(0);
    expect(ackedAfterFailover, 'writes acknowledged after the failover').to.equal(WRITES_AFTER_FAILOVER_MIN);

    await hosts.setLink(cutHost, true);
    const healedAtMs = Date.now();
    await waitFor(`node ${oldPrimary} back in group ${group}`, REJOIN_TIMEOUT_MS, async () => {
      const map = await clusterMap(coordinator, secret).catch(() => null);
      return map !== null && (map.secondaries?.[group] ?? []).includes(oldPrimary!);
    });
    const rejoinMs = Date.now() - healedAtMs;
    // The healed node caught up: its log ends where the new primary's does.
    const kv = new KvClient({ cluster: mapBefore, valueBytesMax: 1024 * 1024, requestTimeoutMs: 5_000, secret });
    const nodeOf = (id: number): { id: number; host: string; port: number } => mapBefore.nodes.find((n) => n.id === id)!;
    let seqs: number[] = [];
    try {
      await waitFor(`node ${oldPrimary} catching up with node ${newPrimary}`, REJOIN_TIMEOUT_MS, async () => {
        seqs = await Promise.all([newPrimary!, oldPrimary!].map(async (id) => (await kv.status(nodeOf(id))).log.lastSeq));
        return seqs[0]! > 0 && seqs[0] === seqs[1];
      });
    } finally {
      kv.close();
    }

    // Every acknowledged file reads back whole, through another frontend too.
    const readers = [dana, Object.assign(new ApiClient(await frontendVia(dispatcherUrl, frontendUrls, url)), { cookie: dana.cookie })];
    const lost: string[] = [];
    for (const [path, content] of acked) {
      for (const reader of readers) {
        const got = await reader.get(path);
        if (got.status !== 200 || !got.body.equals(content)) lost.push(`${path} via ${reader.baseUrl}: ${got.status}`);
      }
    }
    console.log(`      failover: link of node ${oldPrimary} cut, node ${newPrimary} primary after ${failoverMs} ms; `
      + `first write acknowledged ${firstAckAfterCutMs} ms after the cut; `
      + `${acked.size} writes acknowledged (${WRITES_BEFORE_CUT} before, ${ackedDuringPartition} during the partition), `
      + `${failedUploads.length} not; node ${oldPrimary} a secondary again ${rejoinMs} ms after the heal, its log at seq ${seqs[1]} as the primary's; `
      + `${acked.size - new Set(lost.map((l) => l.split(' ')[0])).size} of ${acked.size} read back`);
    expect(lost).to.deep.equal([]);
  });
});

/** Asks the dispatcher where to go until it names a frontend other than `not` (when given). */
async function frontendVia(dispatcherUrl: string, frontendUrls: string[], not?: string): Promise<string> {
  let found = '';
  await waitFor(`a frontend from ${dispatcherUrl}`, CLOUD_READY_TIMEOUT_MS, async () => {
    const res = await fetch(`${dispatcherUrl}/`, { redirect: 'manual' });
    await res.arrayBuffer();
    if (res.status !== 301) return false;
    const location = res.headers.get('location')!.replace(/\/$/, '');
    expect(frontendUrls).to.include(location);
    found = location;
    return location !== not;
  });
  return found;
}

/** Whether a TCP connection to host:port opens within a second (a cut link never answers). */
function reachable(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: REACHABLE_TIMEOUT_MS });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('connect', () => done(true));
    socket.once('timeout', () => done(false));
    socket.once('error', () => done(false));
  });
}

function clusterMap(coordinator: { host: string; port: number }, secret: Buffer): Promise<KvClusterMap> {
  return fetchClusterMap(coordinator, secret);
}

/** Polls `check` until it holds; fails naming `what` after `timeoutMs`. */
async function waitFor(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  const startMs = Date.now();
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() - startMs > timeoutMs) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(POLL_INTERVAL_MS);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
