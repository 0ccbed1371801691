import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { KvClient } from '../../lib/kvclient/kv-client.js';
import { cleanupTempDirs, clusterSecretOf, killAllRoles, runPenncloud, startRole, stopRole, tempDir, writeTestConfig, type RoleProcess, isListening } from '../support/roles.js';
import { ApiClient, errorOf, MARK } from './cloud.js';


interface Nodes {
  frontends: Array<{ id: string; url: string; state: string }>;
  storage: Array<{ name: string; id: number; state: string; status: { memoryBytes: number; tablets: unknown[] } | null; process: { state: string } | null }>;
  supervised: boolean;
}

describe('api: the admin API (a whole cloud under penncloud up)', function () {
  this.timeout(240_000);
  let up: RoleProcess;
  let conf: Record<string, any>;
  let operator: ApiClient;
  let ann: ApiClient;
  let kv: KvClient;

  before(async () => {
    const dir = tempDir();
    const file = await writeTestConfig(dir, { frontends: 2, patch: (c) => { c.admins = ['operator']; } });
    conf = JSON.parse(readFileSync(file, 'utf8'));
    up = await startRole(['up', '--conf', file, '--data', join(dir, 'data')]);
    const url = `http://127.0.0.1:${conf.frontends[0]!.port}`;
    const added = await runPenncloud(['admin', 'add', 'operator', '--conf', file, '--data', join(dir, 'data')], 'correct horse\n');
    expect(added.code, added.stderr).to.equal(0);
    operator = new ApiClient(url);
    expect((await operator.logIn('operator', 'correct horse')).status).to.equal(200);
    ann = await new ApiClient(url).signUpAndLogIn('ann');
    kv = new KvClient({ cluster: conf.kv, valueBytesMax: 8 * 1024 * 1024, requestTimeoutMs: 30_000, secret: clusterSecretOf(join(dir, 'data')) });
  });
  after(async () => {
    kv.close();
    await stopRole(up);
    killAllRoles();
    cleanupTempDirs();
  });

  it('is for admins only: anyone else gets 403, no session 401', async () => {
    const reply = await ann.request('GET', '/api/admin/nodes');
    expect(reply.status).to.equal(403);
    expect(errorOf(reply).reason).to.equal('NOT_ADMIN');
    expect((await ann.request('POST', '/api/admin/nodes/frontend-2/disable', { headers: MARK })).status).to.equal(403);
    expect((await new ApiClient(operator.baseUrl).request('GET', '/api/admin/tablets')).status).to.equal(401);
    expect(await isListening(conf.frontends[1]!.port), 'a refused disable stopped nothing').to.equal(true);
    // The session says who may open the console, so the browser app needs no trial request.
    expect((await ann.request('GET', '/api/session')).json().user.admin).to.equal(false);
    expect((await operator.request('GET', '/api/session')).json().user.admin).to.equal(true);
  });

  it('the supervisor\'s control port refuses a stranger\'s "stop frontend-2" and logs it; frontend-2 keeps serving', async () => {
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port: conf.supervisor.port });
      const got: Buffer[] = [];
      const timer = setTimeout(() => reject(new Error(`the control port did not close; read ${Buffer.concat(got).toString()}`)), 15_000);
      socket.on('connect', () => socket.write('{"id":1,"type":"stop","name":"frontend-2"}\n'));
      socket.on('data', (d: Buffer) => got.push(d));
      socket.on('error', () => undefined);
      socket.on('close', () => {
        clearTimeout(timer);
        resolve(Buffer.concat(got).toString());
      });
    });
    expect(answer).to.match(/^PENNCLOUD-AUTH 1 [0-9a-f]{32}\nDENIED /);
    expect(answer).not.to.contain('"ok"');
    expect(await isListening(conf.frontends[1]!.port), 'frontend-2 still serves').to.equal(true);
    expect(up.stderr()).to.match(/control port: refused an unauthenticated peer/);
  });

  it('lists every frontend and storage node, with the figures each node reports', async () => {
    const nodes = (await operator.request('GET', '/api/admin/nodes')).json() as Nodes;
    expect(nodes.supervised).to.equal(true);
    expect(nodes.frontends.map((f) => [f.id, f.state])).to.deep.equal([['frontend-1', 'ALIVE'], ['frontend-2', 'ALIVE']]);
    expect(nodes.storage.map((n) => n.name)).to.deep.equal(['kvnode-0', 'kvnode-1', 'kvnode-2']);
    for (const n of nodes.storage) {
      expect(n.state).to.be.oneOf(['STARTING', 'RECOVERING', 'PRIMARY', 'SECONDARY', 'DOWN', 'DISABLED']);
      expect(n.status, `${n.name} answers STATUS`).to.not.equal(null);
      expect(n.status!.memoryBytes).to.be.a('number');
      expect(n.process!.state).to.equal('running');
    }
  });

  it('disables a frontend (its process stops and stays stopped) and restarts it', async () => {
    const disabled = await operator.request('POST', '/api/admin/nodes/frontend-2/disable', { headers: MARK });
    expect(disabled.status, disabled.body.toString()).to.equal(200);
    expect(await isListening(conf.frontends[1]!.port)).to.equal(false);
    let nodes = (await operator.request('GET', '/api/admin/nodes')).json() as Nodes;
    expect(nodes.frontends[1]!.state).to.equal('DISABLED');
    const restarted = await operator.request('POST', '/api/admin/nodes/frontend-2/restart', { headers: MARK });
    expect(restarted.status, restarted.body.toString()).to.equal(200);
    expect(await isListening(conf.frontends[1]!.port)).to.equal(true);
    nodes = (await operator.request('GET', '/api/admin/nodes')).json() as Nodes;
    expect(nodes.frontends[1]!.state).to.equal('ALIVE');
    expect((await operator.request('POST', '/api/admin/nodes/frontend-9/disable', { headers: MARK })).status).to.equal(404);
    expect((await operator.request('POST', '/api/admin/nodes/dispatcher/disable', { headers: MARK })).status).to.equal(404);
  });

  it('disables a storage node as if killed and restarts it', async () => {
    expect((await operator.request('POST', '/api/admin/nodes/kvnode-2/disable', { headers: MARK })).status).to.equal(200);
    expect(await isListening(conf.kv.nodes[2]!.port)).to.equal(false);
    let nodes = (await operator.request('GET', '/api/admin/nodes')).json() as Nodes;
    expect(nodes.storage[2]!.state).to.equal('DISABLED');
    expect(nodes.storage[2]!.process!.state).to.equal('stopped');
    expect((await operator.request('POST', '/api/admin/nodes/kvnode-2/restart', { headers: MARK })).status).to.equal(200);
    expect(await isListening(conf.kv.nodes[2]!.port)).to.equal(true);
    nodes = (await operator.request('GET', '/api/admin/nodes')).json() as Nodes;
    expect(nodes.storage[2]!.state).to.not.equal('DISABLED');
  });

  it('restart of a running storage node starts a new process of it, which serves again', async () => {
    const pidOf = async (): Promise<number | undefined> => ((await operator.request('GET', '/api/admin/nodes')).json() as { storage: Array<{ process: { pid?: number } | null }> }).storage[1]!.process?.pid;
    const before = await pidOf();
    expect(before).to.be.a('number');
    expect((await operator.request('POST', '/api/admin/nodes/kvnode-1/restart', { headers: MARK })).status).to.equal(200);
    const after = await pidOf();
    expect(after, 'a new process').to.be.a('number').and.not.equal(before);
    expect(await isListening(conf.kv.nodes[1]!.port)).to.equal(true);
  });

  it('shows the tablet map with each group\'s view', async () => {
    const map = (await operator.request('GET', '/api/admin/tablets')).json();
    expect(map.tablets).to.deep.equal([{ start: '', group: 0 }]);
    expect(map.views).to.have.length(1);
    expect(map.views[0]).to.have.keys(['group', 'view', 'primary', 'secondaries']);
    expect(map.nodes.map((n: { id: number }) => n.id)).to.deep.equal([0, 1, 2]);
  });

  it('pages through raw data ten cells at a time, text or hex, long values cut, with next and previous', async () => {
    await kv.put('zz:admin-test', 'a-text', Buffer.from('hello, operator'));
    await kv.put('zz:admin-test', 'b-binary', Buffer.from([0, 1, 2, 0xff, 0xfe]));
    await kv.put('zz:admin-test', 'c-long', Buffer.from('x'.repeat(1000)));
    for (let i = 0; i < 25; i++) await kv.put(`zz:admin-test-${String(i).padStart(2, '0')}`, 'n', Buffer.from(String(i)));
    const pages: Array<{ cells: Array<{ row: string; column: string; size: number; encoding: string; value: string; truncated: boolean }>; next: string | null; previous: string | null }> = [];
    let cursor: string | null = null;
    for (let i = 0; i < 1000; i++) {
      const query: string = cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`;
      const reply = await operator.request('GET', `/api/admin/data?tablet=&limit=10${query}`);
      expect(reply.status, reply.body.toString()).to.equal(200);
      const page = reply.json();
      pages.push(page);
      if (page.next === null) break;
      expect(page.cells).to.have.length(10);
      cursor = page.next;
    }
    const cells = pages.flatMap((p) => p.cells);
    const keys = cells.map((c) => `${c.row}\u0000${c.column}`);
    expect(new Set(keys).size, 'no cell twice').to.equal(keys.length);
    expect([...keys].sort(), 'in key order').to.deep.equal(keys);
    const find = (column: string): typeof cells[number] => cells.find((c) => c.row === 'zz:admin-test' && c.column === column)!;
    expect(find('a-text')).to.include({ encoding: 'text', value: 'hello, operator', size: 15, truncated: false });
    expect(find('b-binary')).to.include({ encoding: 'hex', value: '000102fffe', size: 5 });
    expect(find('c-long')).to.include({ encoding: 'text', size: 1000, truncated: true });
    expect(find('c-long').value.length).to.be.lessThan(1000);
    expect(cells.filter((c) => c.row.startsWith('zz:admin-test-'))).to.have.length(25);
    // Previous from the third page is the second page again.
    expect(pages.length).to.be.greaterThan(2);
    const back = (await operator.request('GET', `/api/admin/data?tablet=&limit=10&cursor=${encodeURIComponent(pages[2]!.previous!)}`)).json();
    expect(back.cells).to.deep.equal(pages[1]!.cells);
    expect(pages[0]!.previous).to.equal(null);
    expect((await operator.request('GET', '/api/admin/data?cursor=garbage')).status).to.equal(400);
    expect((await operator.request('GET', '/api/admin/data?tablet=nope')).status).to.equal(404);
  });
});
