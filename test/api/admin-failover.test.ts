import { expect } from 'chai';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KvClient } from '../../lib/kvclient/kv-client.js';
import { cleanupTempDirs, clusterSecretOf, runPenncloud, freePort, killAllRoles, startRole, stopRole, tempDir, writeTestConfig } from '../support/roles.js';
import { ApiClient, MARK } from './cloud.js';

/** Bound on each wait for the cluster to reach a state (views change within seconds). */
const STATE_WAIT_MS = 60_000;

interface StorageRow { name: string; id: number; state: string }

async function until<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + STATE_WAIT_MS;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting until ${what}`);
}

describe('admin: disabling the primary while a client writes (a whole cloud under penncloud up)', function () {
  this.timeout(300_000);
  afterEach(() => {
    killAllRoles();
    cleanupTempDirs();
  });

  it('writes go on; restarted, the node catches up and holds the same data as the others', async () => {
    const dir = tempDir();
    const data = join(dir, 'data');
    const file = await writeTestConfig(dir, { frontends: 1, patch: (c) => { c.admins = ['operator']; } });
    const conf = JSON.parse(readFileSync(file, 'utf8')) as Record<string, any>;
    const up = await startRole(['up', '--conf', file, '--data', data]);
    const added = await runPenncloud(['admin', 'add', 'operator', '--conf', file, '--data', data], 'correct horse\n');
    expect(added.code, added.stderr).to.equal(0);
    const operator = new ApiClient(`http://127.0.0.1:${conf.frontends[0].port}`);
    expect((await operator.logIn('operator', 'correct horse')).status).to.equal(200);
    const storage = async (): Promise<StorageRow[]> => (await operator.request('GET', '/api/admin/nodes')).json().storage;
    const full = await until('the group has a primary and two secondaries', async () => {
      const rows = await storage();
      const states = rows.map((r) => r.state).sort();
      return states.join() === 'PRIMARY,SECONDARY,SECONDARY' ? rows : undefined;
    });
    const primary = full.find((r) => r.state === 'PRIMARY')!;

    // A client writing without pause, recording what was acknowledged.
    const kv = new KvClient({ cluster: conf.kv, coordinator: conf.coordinator, valueBytesMax: 8 * 1024 * 1024, requestTimeoutMs: 30_000, secret: clusterSecretOf(data) });
    const acknowledged = new Map<string, string>();
    let writing = true;
    let failures = 0;
    const writer = (async () => {
      for (let i = 0; writing; i++) {
        const row = `zz:admin-failover:${String(i).padStart(6, '0')}`;
        try {
          await kv.put(row, 'v', Buffer.from(`value-${i}`));
          acknowledged.set(row, `value-${i}`);
        } catch {
          failures++;
        }
      }
    })();
    const ackedBy = (n: number): Promise<true> => until(`${n} writes are acknowledged`, async () => (acknowledged.size >= n ? true : undefined));
    await ackedBy(50);

    expect((await operator.request('POST', `/api/admin/nodes/${primary.name}/disable`, { headers: MARK })).status).to.equal(200);
    const before = acknowledged.size;
    await until('another node is primary', async () => {
      const rows = await storage();
      return rows.some((r) => r.state === 'PRIMARY' && r.id !== primary.id) && rows.find((r) => r.id === primary.id)!.state === 'DISABLED' ? true : undefined;
    });
    await ackedBy(before + 100);

    expect((await operator.request('POST', `/api/admin/nodes/${primary.name}/restart`, { headers: MARK })).status).to.equal(200);
    await until('the restarted node is a secondary again', async () => ((await storage()).find((r) => r.id === primary.id)!.state === 'SECONDARY' ? true : undefined));
    await ackedBy(acknowledged.size + 50);
    writing = false;
    await writer;
    for (const [row, value] of acknowledged) expect((await kv.get(row, 'v'))?.toString(), row).to.equal(value);
    kv.close();
    expect(await stopRole(up)).to.equal(0);

    // Every replica, started alone on its own data, holds every acknowledged write, and all of
    // them hold exactly the same rows.
    const rowsByNode: string[][] = [];
    for (const node of conf.kv.nodes as Array<{ id: number }>) {
      const solo = { ...conf, kv: { ...conf.kv, nodes: [{ id: node.id, host: '127.0.0.1', port: await freePort() }], groups: [[node.id]], tablets: [{ start: '', group: 0 }] } };
      const soloFile = join(dir, `solo-${node.id}.json`);
      writeFileSync(soloFile, JSON.stringify(solo));
      const role = await startRole(['kvnode', '--id', String(node.id), '--conf', soloFile, '--data', data]);
      const reader = new KvClient({ cluster: solo.kv, valueBytesMax: 8 * 1024 * 1024, requestTimeoutMs: 30_000, secret: clusterSecretOf(data) });
      const rows: string[] = [];
      let after: string | null = null;
      for (;;) {
        const page = await reader.listRows('', { after, limit: 1000 });
        rows.push(...page.rows.filter((r) => r.startsWith('zz:admin-failover:')));
        if (!page.more || page.rows.length === 0) break;
        after = page.rows[page.rows.length - 1]!;
      }
      for (const [row, value] of acknowledged) expect((await reader.get(row, 'v'))?.toString(), `node ${node.id}: ${row}`).to.equal(value);
      // Unacknowledged writes may or may not have landed, but identically everywhere.
      expect(rows.length, `node ${node.id}`).to.be.within(acknowledged.size, acknowledged.size + failures + 1);
      rowsByNode.push(rows);
      reader.close();
      await stopRole(role);
    }
    expect(rowsByNode[1]).to.deep.equal(rowsByNode[0]);
    expect(rowsByNode[2]).to.deep.equal(rowsByNode[0]);
  });
});
