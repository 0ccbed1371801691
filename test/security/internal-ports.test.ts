/**
 * The attacks of a stranger on the same host against the cluster's internal ports, and what
 * they get now: a refusal in words, a line in the log, and nothing changed.
 */
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { KvClient } from '../../lib/kvclient/kv-client.js';
import { encodeHeartbeat } from '../../lib/protocol/frontend-heartbeat.js';
import { encodeRequest } from '../../lib/protocol/kv-request-codec.js';
import { REFUSAL_LINES_PER_WINDOW_MAX, REFUSAL_LOG_WINDOW_MS, setLogLevel } from '../../lib/protocol/log.js';
import { ReplicaGroup, endGroupTest } from '../kvserver/replica-group.js';
import { waitUntil } from '../kvserver/node-process.js';
import { cleanupTempDirs, clusterSecretOf, killAllRoles, startRole, tempDir, writeTestConfig } from '../support/roles.js';

/** Longest wait for a refusal or a redirect. */
const ANSWER_WAIT_MS = 15_000;

/** Connects (TCP or a Unix-domain socket path), writes `bytes`, and resolves with all it read once the server closed. */
function strangerSends(where: { port: number } | { path: string }, bytes: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket: Socket = 'path' in where ? connect({ path: where.path }) : connect({ host: '127.0.0.1', port: where.port });
    const got: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the server did not close within ${ANSWER_WAIT_MS} ms; read ${JSON.stringify(Buffer.concat(got).toString('latin1'))}`));
    }, ANSWER_WAIT_MS);
    socket.on('connect', () => socket.write(bytes));
    socket.on('data', (d: Buffer) => got.push(d));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(got).toString('latin1'));
    });
  });
}

describe('security: internal ports serve only peers that prove the cluster secret (real processes)', function () {
  this.timeout(120_000);
  let group: ReplicaGroup;

  before(() => setLogLevel('silent'));
  afterEach(() => endGroupTest(group));

  it('a storage node refuses a stranger\'s forged session row and password read, over TCP and its Unix socket, and logs it', async () => {
    group = await ReplicaGroup.create();
    const view = await group.startAll();
    const primary = group.kv.nodes.find((n) => n.id === view.primary)!;
    const clientId = randomBytes(8);
    const forged = Buffer.concat([
      ...encodeRequest({ op: 'PUT', row: 'session:forged', column: 'session', value: Buffer.from('{"user":"admin"}') }, 1, clientId),
      ...encodeRequest({ op: 'GET', row: 'user:ann', column: 'password' }, 2, clientId),
    ]);
    const tcp = await strangerSends({ port: primary.port }, forged);
    expect(tcp).to.match(/^PENNCLOUD-AUTH 1 [0-9a-f]{32}\nDENIED expected "<nonce> <proof>"/);
    const local = await strangerSends({ path: join(group.dataDir, `kv-${primary.id}`, 'kv.sock') }, forged);
    expect(local).to.match(/\nDENIED /);
    // A stranger's own secret does no better.
    const impostor = new KvClient({ cluster: group.kv, valueBytesMax: 1024 * 1024, requestTimeoutMs: 3_000, retryBudgetMs: 3_000, secret: randomBytes(32) });
    try {
      let refusal: unknown = null;
      await impostor.put('session:forged2', 'session', Buffer.from('x')).catch((err: unknown) => { refusal = err; });
      expect(String((refusal as Error | null)?.message)).to.match(/cannot authenticate to 127\.0\.0\.1:\d+: the server refused this peer: the proof does not match/);
    } finally {
      impostor.close();
    }
    const client = group.client();
    expect(await client.get('session:forged', 'session')).to.equal(null);
    expect(await client.get('session:forged2', 'session')).to.equal(null);
    await waitUntil(async () => /refused an unauthenticated peer/.test(group.nodes.get(primary.id)!.stderr()), ANSWER_WAIT_MS, 'the node logs the refusal');
  });

  it('the coordinator ignores a stranger\'s disable and spoofed heartbeats: the view stays as it was', async () => {
    group = await ReplicaGroup.create();
    const before = await group.startAll();
    const spoofs = [
      '{"id":1,"type":"disable","nodeId":0}',
      ...Array.from({ length: 68 }, (_v, i) => JSON.stringify({ id: 2 + i, type: 'heartbeat', report: { nodeId: i % 3, incarnation: 'forged', phase: 'ready', lastSeq: 1e9, lastSeqView: 1e6 } })),
    ].join('\n') + '\n';
    const answer = await strangerSends({ port: group.coordinatorAddress.port }, Buffer.from(spoofs));
    expect(answer).to.match(/^PENNCLOUD-AUTH 1 [0-9a-f]{32}\nDENIED /);
    expect(answer).not.to.contain('"type"');
    const client = group.client();
    await client.put('after-spoof', 'c', Buffer.from('written on three copies'));
    expect(await group.view()).to.deep.equal(before);
    // Acknowledged with both secondaries in the view: every copy has logged it.
    const lastSeqs = (await Promise.all([0, 1, 2].map((id) => group.nodeStatus(id)))).map((n) => n.log.lastSeq);
    expect(new Set(lastSeqs).size, `last seqs ${lastSeqs.join(', ')}`).to.equal(1);
    expect(group.coordinator!.stderr()).to.match(/refused an unauthenticated peer/);
  });

  it('makes the data directory its user\'s alone: files 0600, directories 0700, the secret among them', async () => {
    group = await ReplicaGroup.create();
    await group.startAll();
    await group.client().put('row', 'c', Buffer.from('v'));
    const loose: string[] = [];
    const walk = (dir: string): void => {
      for (const name of readdirSync(dir)) {
        const path = join(dir, name);
        const stat = statSync(path);
        const mode = stat.mode & 0o777;
        if (stat.isDirectory()) {
          if (mode !== 0o700) loose.push(`${path} ${mode.toString(8)}`);
          walk(path);
        } else if (!stat.isSocket() && mode !== 0o600) {
          loose.push(`${path} ${mode.toString(8)}`);
        }
      }
    };
    expect(statSync(group.dataDir).mode & 0o777).to.equal(0o700);
    walk(group.dataDir);
    expect(loose).to.deep.equal([]);
    expect(readFileSync(join(group.dataDir, 'cluster.secret'), 'latin1')).to.match(/^[0-9a-f]{64}\n$/);
  });
});

describe('security: the dispatcher hears only signed heartbeats of configured frontends (real process)', function () {
  this.timeout(60_000);
  afterEach(() => {
    killAllRoles();
    cleanupTempDirs();
  });

  it('200 spoofed datagrams (unsigned, another secret, a real id with another URL, an unknown id, a replay) send no user elsewhere, and fill no disk', async () => {
    const dir = tempDir();
    const conf = await writeTestConfig(dir, { frontends: 1, patch: (c) => { c.dispatcher = { ...c.dispatcher, heartbeatIntervalMs: 200, frontendTimeoutMs: 60_000 }; } });
    const config = JSON.parse(readFileSync(conf, 'utf8')) as { frontends: { id: number; port: number }[]; dispatcher: { port: number } };
    const data = join(dir, 'data');
    const secret = clusterSecretOf(data);
    const dispatcher = await startRole(['dispatcher', '--conf', conf, '--data', data]);
    const real = `http://127.0.0.1:${config.frontends[0]!.port}`;
    const evil = 'http://evil.example:8080';
    const udp = createSocket('udp4');
    const send = (datagram: Buffer): Promise<void> => new Promise((resolve, reject) => udp.send(datagram, config.dispatcher.port, '127.0.0.1', (err) => (err ? reject(err) : resolve())));
    const where = async (): Promise<string | null> => {
      const res = await fetch(`${dispatcher.ready}/`, { redirect: 'manual' });
      await res.arrayBuffer();
      return res.headers.get('location');
    };
    try {
      const first = encodeHeartbeat({ id: 1, url: real, connections: 0, sentAtMs: Date.now() }, secret);
      await send(first);
      await waitUntil(async () => (await where()) === `${real}/`, ANSWER_WAIT_MS, 'the signed heartbeat of frontend 1 is heard');
      const now = Date.now();
      // One of each kind first (their warnings are among the first logged), then 195 more.
      const kinds = (i: number): Buffer[] => [
        Buffer.from(JSON.stringify({ id: 1, url: evil, connections: 0 })),
        encodeHeartbeat({ id: 1, url: evil, connections: 0, sentAtMs: now + i }, randomBytes(32)),
        encodeHeartbeat({ id: 1, url: evil, connections: 0, sentAtMs: now + 1000 + i }, secret),
        encodeHeartbeat({ id: 7, url: evil, connections: 0, sentAtMs: now + 2000 + i }, secret),
        first,
      ];
      const spoofs = Array.from({ length: 40 }, (_v, i) => kinds(i)).flat();
      const floodStartMs = Date.now();
      for (const datagram of spoofs) await send(datagram);
      await waitUntil(async () => (dispatcher.stderr().match(/ignored a bad heartbeat/g) ?? []).length >= REFUSAL_LINES_PER_WINDOW_MAX, ANSWER_WAIT_MS, 'the spoofs are logged');
      const locations = await Promise.all(Array.from({ length: 60 }, () => where()));
      expect(locations.filter((l) => l !== `${real}/`)).to.deep.equal([]);
      const log = dispatcher.stderr();
      expect(log).to.contain('heartbeat is not signed');
      expect(log).to.contain('does not match this cluster');
      expect(log).to.contain(`claimed ${evil}`);
      expect(log).to.contain('frontend 7 is not in the configuration');
      expect(log).to.contain('replayed');
      // The warnings are capped per window: 200 datagrams do not make 200 lines.
      const windows = Math.floor((Date.now() - floodStartMs) / REFUSAL_LOG_WINDOW_MS) + 1;
      expect((log.match(/ignored a bad heartbeat/g) ?? []).length).to.be.at.most(REFUSAL_LINES_PER_WINDOW_MAX * windows);
    } finally {
      udp.close();
    }
  });
});
