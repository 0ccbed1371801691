/**
 * Folders shared read-only with another user, through real frontends and KV nodes: bob sees
 * ann's folder under "Shared with me", lists and downloads from it (Range works), cannot write
 * to it or see outside it; a rename follows, the trash hides it, and revoking ends it.
 */
import { expect } from 'chai';
import { cleanupTempDirs, killAllRoles } from '../support/roles.js';
import { ApiClient, bytesFor, closeKvClients, errorOf, MARK, startCloud, type Cloud } from './cloud.js';

describe('api: folders shared with users (real KV nodes and frontends)', function () {
  this.timeout(120_000);
  let cloud: Cloud;
  let ann: ApiClient;
  let bob: ApiClient;
  let cara: ApiClient;

  before(async () => {
    cloud = await startCloud({ frontends: 2 });
    ann = await new ApiClient(cloud.urls[0]!).signUpAndLogIn('ann');
    bob = await new ApiClient(cloud.urls[1]!).signUpAndLogIn('bob');
    cara = await new ApiClient(cloud.urls[0]!).signUpAndLogIn('cara');
  });
  after(() => {
    closeKvClients();
    killAllRoles();
    cleanupTempDirs();
  });

  it('bob reads what ann shares with him, by ranges too, and nothing outside it or of anyone else', async () => {
    const report = bytesFor(4, 40_000);
    await ann.mkdir('/Team/Reports', '?parents=1');
    await ann.put('/Team/Reports/q3.pdf', report);
    await ann.put('/Team/readme.txt', 'hello team');
    await ann.put('/private.txt', 'ann only');
    const shared = await ann.request('POST', '/api/shares/users', { json: { path: '/Team', user: 'bob' } });
    expect(shared.status, shared.body.toString()).to.equal(201);
    const id = shared.json().grant.id as string;

    const mine = (await bob.request('GET', '/api/shared')).json().folders;
    expect(mine).to.have.length(1);
    expect(mine[0]).to.include({ owner: 'ann', id, name: 'Team' });
    const top = (await bob.request('GET', `/api/shared/ann/${id}`)).json();
    expect(top.entries.map((e: { name: string }) => e.name)).to.deep.equal(['Reports', 'readme.txt']);
    const inner = (await bob.request('GET', `/api/shared/ann/${id}?path=/Reports`)).json();
    expect(inner.entries.map((e: { path: string }) => e.path)).to.deep.equal(['/Reports/q3.pdf']);
    const part = await bob.request('GET', `/api/shared/ann/${id}/content?path=/Reports/q3.pdf`, { headers: { range: 'bytes=100-199' } });
    expect(part.status).to.equal(206);
    expect(part.body.equals(report.subarray(100, 200))).to.equal(true);

    for (const path of ['/../private.txt', '/private.txt']) {
      const reply = await bob.request('GET', `/api/shared/ann/${id}/content?path=${encodeURIComponent(path)}`);
      expect(reply.status, path).to.be.oneOf([400, 404]);
      expect(reply.body.toString()).to.not.contain('ann only');
    }
    // Read-only: bob's own drive API never names ann's tree, and there is no write route here.
    expect((await bob.request('PUT', `/api/shared/ann/${id}/content?path=/x.txt`, { body: 'x', headers: MARK })).status).to.equal(405);
    expect(await bob.names('/')).to.deep.equal([]);
    // cara has no grant: nothing listed, nothing readable.
    expect((await cara.request('GET', '/api/shared')).json().folders).to.deep.equal([]);
    const refused = await cara.request('GET', `/api/shared/ann/${id}`);
    expect(refused.status).to.equal(404);
    expect(errorOf(refused).reason).to.equal('NO_SUCH_GRANT');
  });

  it('follows a rename, sleeps while the folder is in the trash, and ends when revoked', async () => {
    const id = (await ann.request('GET', '/api/shares/users')).json().grants[0].id as string;
    expect((await ann.move('/Team', '/Team 2026')).status).to.equal(200);
    expect((await bob.request('GET', '/api/shared')).json().folders[0].name).to.equal('Team 2026');
    expect((await ann.request('GET', '/api/shares/users')).json().grants[0]).to.include({ user: 'bob', path: '/Team 2026' });

    const trashed = (await ann.remove('/Team 2026', '?recursive=1')).json().trashed.id as string;
    expect((await bob.request('GET', '/api/shared')).json().folders).to.deep.equal([]);
    expect((await bob.request('GET', `/api/shared/ann/${id}`)).status).to.equal(404);
    expect((await ann.request('POST', `/api/trash/${trashed}/restore`, { headers: MARK })).status).to.equal(200);
    expect((await bob.request('GET', `/api/shared/ann/${id}`)).status).to.equal(200);

    expect((await cara.request('DELETE', `/api/shares/users/bob/${id}`, { headers: MARK })).status).to.equal(404);
    expect((await ann.request('DELETE', `/api/shares/users/bob/${id}`, { headers: MARK })).status).to.equal(204);
    expect((await bob.request('GET', `/api/shared/ann/${id}`)).status).to.equal(404);
    expect((await bob.request('GET', '/api/shared')).json().folders).to.deep.equal([]);
  });

  it('names the problem with a bad grant', async () => {
    await ann.put('/file.txt', 'x');
    await ann.mkdir('/Box');
    for (const [body, status, reason] of [
      [{ path: '/Box', user: 'nobody-here' }, 404, 'NO_SUCH_USER'], [{ path: '/Box', user: 'ann' }, 400, 'SHARE_WITH_SELF'],
      [{ path: '/file.txt', user: 'bob' }, 400, 'NOT_A_FOLDER'], [{ path: '/', user: 'bob' }, 400, 'ROOT'], [{ path: '/Box' }, 400, 'BAD_USERNAME'],
    ] as const) {
      const reply = await ann.request('POST', '/api/shares/users', { json: body });
      expect(reply.status, JSON.stringify(body)).to.equal(status);
      expect(errorOf(reply).reason).to.equal(reason);
    }
  });
});
