/**
 * Share links through real frontends and KV nodes, opened with curl by someone without an
 * account: a file (Range works, so video plays), a folder and what is under it (nothing
 * outside), a password (counted wrong guesses), revoking, and the trash.
 */
import { expect } from 'chai';
import { join } from 'node:path';
import { curl, jsonOf } from '../support/curl.js';
import { cleanupTempDirs, killAllRoles, tempDir } from '../support/roles.js';
import { ApiClient, bytesFor, closeKvClients, errorOf, MARK, startCloud, type Cloud } from './cloud.js';

describe('api: share links (curl without an account, real frontends and KV nodes)', function () {
  this.timeout(120_000);
  let cloud: Cloud;
  let ann: ApiClient;

  before(async () => {
    cloud = await startCloud({ frontends: 2, drive: { chunkBytes: 16 * 1024 } });
    ann = await new ApiClient(cloud.urls[0]!).signUpAndLogIn('ann');
  });
  after(() => {
    closeKvClients();
    killAllRoles();
    cleanupTempDirs();
  });

  async function share(body: Record<string, unknown>): Promise<{ token: string; url: string }> {
    const reply = await ann.request('POST', '/api/shares', { json: body });
    expect(reply.status, reply.body.toString()).to.equal(201);
    return reply.json().share;
  }

  it('a file link serves the bytes to anyone, by ranges too, and follows the file when it is renamed', async () => {
    const video = bytesFor(21, 200_000);
    await ann.put('/clip.mp4', video);
    const link = await share({ path: '/clip.mp4' });
    expect(link.url).to.equal(`/s/${link.token}`);
    expect(link.token).to.match(/^[A-Za-z0-9_-]{22}$/);

    const about = await curl([`${cloud.urls[1]}/api/public/shares/${link.token}`]);
    expect(about.status).to.equal(200);
    expect(jsonOf(about).file).to.include({ name: 'clip.mp4', size: 200_000 });
    const whole = await curl([`${cloud.urls[1]}/api/public/shares/${link.token}/content`]);
    expect(whole.status).to.equal(200);
    expect(whole.body.equals(video)).to.equal(true);
    expect(whole.headers).to.match(/^content-disposition: attachment; filename="clip.mp4"/im);
    const part = await curl(['-H', 'Range: bytes=100000-100099', `${cloud.urls[0]}/api/public/shares/${link.token}/content?inline=1`]);
    expect(part.status).to.equal(206);
    expect(part.headers).to.match(/^content-range: bytes 100000-100099\/200000/im);
    expect(part.headers).to.match(/^content-type: video\/mp4/im);
    expect(part.headers).to.match(/^content-disposition: inline/im);
    expect(part.body.equals(video.subarray(100_000, 100_100))).to.equal(true);

    expect((await ann.move('/clip.mp4', '/holiday.mp4')).status).to.equal(200);
    expect(jsonOf(await curl([`${cloud.urls[0]}/api/public/shares/${link.token}`])).file.name).to.equal('holiday.mp4');
    const mine = (await ann.request('GET', '/api/shares')).json().shares;
    expect(mine.find((s: { token: string }) => s.token === link.token)).to.include({ path: '/holiday.mp4', hasPassword: false });
  });

  it('a folder link lists and serves what is under the folder, and nothing outside it', async () => {
    await ann.mkdir('/public/photos', '?parents=1');
    await ann.put('/public/photos/a.jpg', bytesFor(1, 3000));
    await ann.put('/public/readme.txt', 'hello visitors');
    await ann.put('/private.txt', 'not for you');
    const link = await share({ path: '/public' });
    const top = jsonOf(await curl([`${cloud.urls[0]}/api/public/shares/${link.token}`]));
    expect(top.share).to.include({ name: 'public', type: 'folder' });
    expect(top.entries.map((e: { name: string }) => e.name)).to.deep.equal(['photos', 'readme.txt']);
    const inner = jsonOf(await curl([`${cloud.urls[0]}/api/public/shares/${link.token}?path=/photos`]));
    expect(inner.entries.map((e: { path: string }) => e.path)).to.deep.equal(['/photos/a.jpg']);
    const file = await curl([`${cloud.urls[0]}/api/public/shares/${link.token}/content?path=/readme.txt`]);
    expect(file.body.toString()).to.equal('hello visitors');

    for (const path of ['/../private.txt', '/private.txt', '%2e%2e/private.txt']) {
      const reply = await curl([`${cloud.urls[0]}/api/public/shares/${link.token}/content?path=${path}`]);
      expect(reply.status, path).to.be.oneOf([400, 404]);
      expect(reply.body.toString()).to.not.contain('not for you');
    }
    const folderAsFile = await curl([`${cloud.urls[0]}/api/public/shares/${link.token}/content`]);
    expect(folderAsFile.status).to.equal(409);
  });

  it('a password link opens only after the password, per visitor; wrong guesses are counted and refused', async () => {
    await ann.put('/salary.txt', 'secret numbers');
    const link = await share({ path: '/salary.txt', password: 'open sesame', expiresInDays: 7 });
    const base = `${cloud.urls[0]}/api/public/shares/${link.token}`;
    const locked = await curl([base]);
    expect(locked.status).to.equal(401);
    expect(jsonOf(locked).error.reason).to.equal('SHARE_LOCKED');
    expect(locked.body.toString()).to.not.contain('salary');
    expect((await curl([`${base}/content`])).status).to.equal(401);

    const jar = join(tempDir(), 'visitor.jar');
    const wrong = await curl(['-H', 'Content-Type: application/json', '-d', '{"password":"guess"}', `${base}/unlock`], jar);
    expect(wrong.status).to.equal(401);
    expect(jsonOf(wrong).error.reason).to.equal('BAD_SHARE_PASSWORD');
    const right = await curl(['-H', 'Content-Type: application/json', '-d', '{"password":"open sesame"}', `${base}/unlock`], jar);
    expect(right.status).to.equal(204);
    expect(right.headers).to.match(new RegExp(`^set-cookie: penncloud_share=[^;]+;.*Path=/api/public/shares/${link.token}`, 'im'));
    const opened = await curl([`${base}/content`], jar);
    expect(opened.status).to.equal(200);
    expect(opened.body.toString()).to.equal('secret numbers');
    // Another frontend checks the same proof; a visitor without it is still locked out.
    expect((await curl([`${cloud.urls[1]}/api/public/shares/${link.token}/content`], jar)).status).to.equal(200);
    expect((await curl([`${base}/content`])).status).to.equal(401);
    // A forged proof opens nothing.
    expect((await curl(['-H', 'Cookie: penncloud_share=99999999999999.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', `${base}/content`])).status).to.equal(401);

    const statuses: number[] = [];
    for (let i = 0; i < 11; i++) {
      statuses.push((await curl(['-H', 'Content-Type: application/json', '-d', `{"password":"guess ${i}"}`, `${base}/unlock`])).status);
    }
    // The right password cleared the count; ten wrong ones per link are checked in the window.
    expect(statuses.slice(0, 10)).to.deep.equal(new Array(10).fill(401));
    expect(statuses[10]).to.equal(429);
    // Even the right password waits now: guesses cannot go on.
    expect((await curl(['-H', 'Content-Type: application/json', '-d', '{"password":"open sesame"}', `${base}/unlock`])).status).to.equal(429);
  });

  it('revoking ends a link at once; a link sleeps while its file is in the trash; another user cannot touch it', async () => {
    await ann.put('/handout.pdf', 'pdf bytes');
    const link = await share({ path: '/handout.pdf' });
    const base = `${cloud.urls[0]}/api/public/shares/${link.token}`;
    expect((await curl([`${base}/content`])).status).to.equal(200);

    const trashed = (await ann.remove('/handout.pdf')).json().trashed.id as string;
    const asleep = await curl([`${base}/content`]);
    expect(asleep.status).to.equal(404);
    expect(jsonOf(asleep).error.reason).to.equal('NO_SUCH_SHARE');
    expect((await ann.request('GET', '/api/shares')).json().shares.find((s: { token: string }) => s.token === link.token).path).to.equal(null);
    expect((await ann.request('POST', `/api/trash/${trashed}/restore`, { headers: MARK })).status).to.equal(200);
    expect((await curl([`${base}/content`])).body.toString()).to.equal('pdf bytes');

    const bob = await new ApiClient(cloud.urls[1]!).signUpAndLogIn('bob');
    expect((await bob.request('GET', '/api/shares')).json().shares).to.deep.equal([]);
    const steal = await bob.request('DELETE', `/api/shares/${link.token}`, { headers: MARK });
    expect(steal.status).to.equal(404);
    expect((await bob.request('POST', '/api/shares', { json: { path: '/handout.pdf' } })).status).to.equal(404);

    expect((await ann.request('DELETE', `/api/shares/${link.token}`, { headers: MARK })).status).to.equal(204);
    expect((await curl([`${cloud.urls[1]}/api/public/shares/${link.token}/content`])).status).to.equal(404);
    expect((await curl([`${cloud.urls[1]}/api/public/shares/AAAAAAAAAAAAAAAAAAAAAA`])).status).to.equal(404);
  });

  it('names the problem with a bad request', async () => {
    for (const [body, status, reason] of [
      [{ path: '/' }, 400, 'ROOT'], [{}, 400, 'BAD_PATH'], [{ path: '/nothing-here' }, 404, 'NO_SUCH_PATH'],
      [{ path: '/private.txt', expiresInDays: 0 }, 400, 'BAD_SHARE_EXPIRY'], [{ path: '/private.txt', password: 'abc' }, 400, 'BAD_SHARE_PASSWORD'],
    ] as const) {
      const reply = await ann.request('POST', '/api/shares', { json: body });
      expect(reply.status, JSON.stringify(body)).to.equal(status);
      expect(errorOf(reply).reason).to.equal(reason);
    }
    expect((await new ApiClient(cloud.urls[0]!).request('GET', '/api/shares')).status).to.equal(401);
  });
});
