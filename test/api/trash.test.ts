/**
 * The drive's trash through real frontends and KV nodes: delete moves to the trash (and still
 * counts against the quota), restore puts things back where they were, even into a folder
 * deleted meanwhile, and deleting from the trash or emptying it frees the space for good.
 */
import { expect } from 'chai';
import { cleanupTempDirs, killAllRoles } from '../support/roles.js';
import { allRows, ApiClient, bytesFor, closeKvClients, errorOf, MARK, startCloud, type Cloud } from './cloud.js';

interface TrashEntryView {
  id: string;
  type: 'file' | 'folder';
  name: string;
  originalPath: string;
  size: number;
  deletedMs: number;
  purgeMs: number;
}

describe('api: the drive trash (real KV nodes and frontends)', function () {
  this.timeout(120_000);
  let cloud: Cloud;
  let ann: ApiClient;

  before(async () => {
    cloud = await startCloud({ frontends: 2, drive: { chunkBytes: 16 * 1024, quotaBytes: 1_000_000 } });
    ann = await new ApiClient(cloud.urls[0]!).signUpAndLogIn('ann');
  });
  after(() => {
    closeKvClients();
    killAllRoles();
    cleanupTempDirs();
  });

  const trash = async (client: ApiClient): Promise<TrashEntryView[]> => {
    const reply = await client.request('GET', '/api/trash');
    expect(reply.status).to.equal(200);
    return reply.json().entries;
  };
  const used = async (client: ApiClient): Promise<number> => (await client.get('/')).json().usage.usedBytes;

  it('a delete moves to the trash, still counted in the quota; restore brings back the bytes at the same path', async () => {
    const content = bytesFor(1, 50_000);
    await ann.mkdir('/docs');
    expect((await ann.put('/docs/plan.bin', content)).status).to.equal(201);
    const deleted = await ann.remove('/docs/plan.bin');
    expect(deleted.status).to.equal(200);
    const entry = deleted.json().trashed as TrashEntryView;
    expect(entry).to.include({ name: 'plan.bin', originalPath: '/docs/plan.bin', type: 'file', size: 50_000 });
    expect(entry.purgeMs - entry.deletedMs).to.equal(30 * 24 * 3600 * 1000);
    expect(await ann.names('/docs')).to.deep.equal([]);
    expect((await ann.get('/docs/plan.bin')).status).to.equal(404);
    expect(await used(ann)).to.equal(50_000);
    // Another frontend lists the same trash.
    const other = new ApiClient(cloud.urls[1]!);
    other.cookie = ann.cookie;
    expect((await trash(other)).map((e) => e.originalPath)).to.deep.equal(['/docs/plan.bin']);

    const restored = await other.request('POST', `/api/trash/${entry.id}/restore`, { headers: MARK });
    expect(restored.status).to.equal(200);
    expect(restored.json().node).to.include({ path: '/docs/plan.bin', size: 50_000 });
    expect((await ann.get('/docs/plan.bin')).body.equals(content)).to.equal(true);
    expect(await trash(ann)).to.deep.equal([]);
    expect(await used(ann)).to.equal(50_000);
  });

  it('a folder goes to the trash whole and comes back whole, even when its parent was deleted for good meanwhile', async () => {
    await ann.mkdir('/work/project', '?parents=1');
    await ann.put('/work/project/a.txt', 'alpha');
    await ann.put('/work/project/b.txt', 'beta');
    const refused = await ann.remove('/work/project');
    expect(refused.status).to.equal(409);
    expect(errorOf(refused).reason).to.equal('NOT_EMPTY');
    const deleted = await ann.remove('/work/project', '?recursive=1');
    expect(deleted.status).to.equal(200);
    const id = deleted.json().trashed.id as string;
    expect((await ann.remove('/work', '?recursive=1&permanent=1')).status).to.equal(204);
    expect(await ann.names('/')).to.not.include('work');

    expect((await ann.request('POST', `/api/trash/${id}/restore`, { headers: MARK })).status).to.equal(200);
    expect(await ann.names('/work/project')).to.deep.equal(['a.txt', 'b.txt']);
    expect((await ann.get('/work/project/b.txt')).body.toString()).to.equal('beta');
  });

  it('restore refuses to overwrite what took the name meanwhile; another user cannot see, restore or delete the entry', async () => {
    await ann.put('/note.txt', 'first');
    const id = (await ann.remove('/note.txt')).json().trashed.id as string;
    await ann.put('/note.txt', 'second');
    const clash = await ann.request('POST', `/api/trash/${id}/restore`, { headers: MARK });
    expect(clash.status).to.equal(409);
    expect(errorOf(clash)).to.include({ reason: 'NAME_TAKEN' });
    expect(errorOf(clash).message).to.contain('/note.txt exists again');
    expect((await ann.get('/note.txt')).body.toString()).to.equal('second');

    const bob = await new ApiClient(cloud.urls[1]!).signUpAndLogIn('bob');
    expect(await trash(bob)).to.deep.equal([]);
    for (const reply of [
      await bob.request('POST', `/api/trash/${id}/restore`, { headers: MARK }),
      await bob.request('DELETE', `/api/trash/${id}`, { headers: MARK }),
    ]) {
      expect(reply.status).to.equal(404);
      expect(errorOf(reply).reason).to.equal('NO_SUCH_TRASH_ENTRY');
    }
    expect((await trash(ann)).map((e) => e.id)).to.include(id);
    expect((await ann.request('POST', '/api/trash/not-an-id/restore', { headers: MARK })).status).to.equal(404);

    // Moved aside, the old one restores.
    expect((await ann.move('/note.txt', '/note (new).txt')).status).to.equal(200);
    expect((await ann.request('POST', `/api/trash/${id}/restore`, { headers: MARK })).status).to.equal(200);
    expect((await ann.get('/note.txt')).body.toString()).to.equal('first');
  });

  it('deleting from the trash and emptying it free the space and every chunk for good', async () => {
    const carol = await new ApiClient(cloud.urls[0]!).signUpAndLogIn('carol');
    await carol.mkdir('/old');
    await carol.put('/old/big.bin', bytesFor(3, 100_000));
    await carol.put('/one.bin', bytesFor(4, 40_000));
    await carol.put('/two.bin', bytesFor(5, 30_000));
    const one = (await carol.remove('/one.bin')).json().trashed.id as string;
    await carol.remove('/two.bin');
    await carol.remove('/old', '?recursive=1');
    expect(await used(carol)).to.equal(170_000);
    expect((await trash(carol)).map((e) => e.name)).to.deep.equal(['one.bin', 'two.bin', 'old']);

    expect((await carol.request('DELETE', `/api/trash/${one}`, { headers: MARK })).status).to.equal(204);
    expect(await used(carol)).to.equal(130_000);
    expect((await carol.request('DELETE', `/api/trash/${one}`, { headers: MARK })).status).to.equal(404);
    const emptied = await carol.request('DELETE', '/api/trash', { headers: MARK });
    expect(emptied.status).to.equal(200);
    expect(emptied.json().removed).to.equal(2);
    expect(emptied.json().usage.usedBytes).to.equal(0);
    expect(await trash(carol)).to.deep.equal([]);
    const rows = await allRows(cloud.kvClient());
    expect(rows.filter((r) => r.includes(':node:drive:carol/'))).to.have.length(0);
  });
});
