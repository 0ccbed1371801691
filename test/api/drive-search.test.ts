/**
 * Searching the drive through real frontends and KV nodes: by words of names (prefixes, any
 * case or accent), by type, anywhere in the tree; renamed, moved, trashed and deleted nodes
 * are found where they are now or not at all; pages hold up; another user's names never show.
 */
import { expect } from 'chai';
import { cleanupTempDirs, killAllRoles } from '../support/roles.js';
import { ApiClient, closeKvClients, errorOf, startCloud, type Cloud } from './cloud.js';

describe('api: drive search (real KV nodes and frontends)', function () {
  this.timeout(120_000);
  let cloud: Cloud;
  let ann: ApiClient;

  before(async () => {
    cloud = await startCloud({ frontends: 2 });
    ann = await new ApiClient(cloud.urls[0]!).signUpAndLogIn('ann');
    await ann.mkdir('/Work/Reports 2026', '?parents=1');
    await ann.mkdir('/Photos/Trip to Zürich', '?parents=1');
    for (const [path, body] of [
      ['/Work/Reports 2026/Q3-report.pdf', '%PDF'], ['/Work/Reports 2026/q4 Report draft.txt', 'draft'],
      ['/Work/budget.xlsx', 'cells'], ['/Photos/Trip to Zürich/IMG_0042.jpg', 'jpeg'],
      ['/Photos/Trip to Zürich/lake.png', 'png'], ['/Photos/holiday-video.mp4', 'mp4'], ['/Résumé.pdf', '%PDF'],
    ]) expect((await ann.put(path!, body!)).status, path).to.equal(201);
  });
  after(() => {
    closeKvClients();
    killAllRoles();
    cleanupTempDirs();
  });

  const search = async (client: ApiClient, query: string): Promise<string[]> => {
    const reply = await client.request('GET', `/api/search?${query}`);
    expect(reply.status, reply.body.toString()).to.equal(200);
    return reply.json().entries.map((e: { path: string }) => e.path).sort();
  };

  it('finds names by word prefixes anywhere in the tree, in any case and with accents folded', async () => {
    expect(await search(ann, 'q=report')).to.deep.equal(['/Work/Reports 2026', '/Work/Reports 2026/Q3-report.pdf', '/Work/Reports 2026/q4 Report draft.txt']);
    expect(await search(ann, 'q=REP%20dra')).to.deep.equal(['/Work/Reports 2026/q4 Report draft.txt']);
    expect(await search(ann, 'q=zurich')).to.deep.equal(['/Photos/Trip to Zürich']);
    expect(await search(ann, 'q=resume')).to.deep.equal(['/Résumé.pdf']);
    expect(await search(ann, 'q=img')).to.deep.equal(['/Photos/Trip to Zürich/IMG_0042.jpg']);
    expect(await search(ann, 'q=0042')).to.deep.equal(['/Photos/Trip to Zürich/IMG_0042.jpg']);
    expect(await search(ann, 'q=nothing-like-this')).to.deep.equal([]);
  });

  it('filters by type, with or without words', async () => {
    expect(await search(ann, 'type=image')).to.deep.equal(['/Photos/Trip to Zürich/IMG_0042.jpg', '/Photos/Trip to Zürich/lake.png']);
    expect(await search(ann, 'type=pdf')).to.deep.equal(['/Résumé.pdf', '/Work/Reports 2026/Q3-report.pdf']);
    expect(await search(ann, 'q=report&type=folder')).to.deep.equal(['/Work/Reports 2026']);
    expect(await search(ann, 'type=video')).to.deep.equal(['/Photos/holiday-video.mp4']);
    const bad = await ann.request('GET', '/api/search?type=spreadsheet');
    expect(bad.status).to.equal(400);
    expect(errorOf(bad)).to.include({ reason: 'BAD_QUERY' });
    expect(errorOf(bad).message).to.contain('folder, image, video');
    const empty = await ann.request('GET', '/api/search?q=%20%2B%20');
    expect(empty.status).to.equal(400);
    expect(errorOf(empty).message).to.contain('type a word');
  });

  it('follows renames and moves, leaves out the trash, forgets what was deleted, and keeps users apart', async () => {
    const other = new ApiClient(cloud.urls[1]!);
    other.cookie = ann.cookie;
    expect((await ann.move('/Work/budget.xlsx', '/Work/Reports 2026/forecast.xlsx')).status).to.equal(200);
    expect(await search(other, 'q=budget')).to.deep.equal([]);
    expect(await search(other, 'q=forecast')).to.deep.equal(['/Work/Reports 2026/forecast.xlsx']);
    expect((await ann.move('/Photos/Trip to Zürich', '/Work/Trip to Zürich')).status).to.equal(200);
    expect(await search(other, 'q=lake')).to.deep.equal(['/Work/Trip to Zürich/lake.png']);

    const trashed = await ann.remove('/Photos/holiday-video.mp4');
    expect(await search(ann, 'q=holiday')).to.deep.equal([]);
    expect((await ann.request('POST', `/api/trash/${trashed.json().trashed.id}/restore`, { headers: { 'x-penncloud-request': '1' } })).status).to.equal(200);
    expect(await search(ann, 'q=holiday')).to.deep.equal(['/Photos/holiday-video.mp4']);
    expect((await ann.remove('/Photos/holiday-video.mp4', '?permanent=1')).status).to.equal(204);
    expect(await search(ann, 'q=holiday')).to.deep.equal([]);

    const bob = await new ApiClient(cloud.urls[0]!).signUpAndLogIn('bob');
    expect(await search(bob, 'q=report')).to.deep.equal([]);
    await bob.put('/report-bob.txt', 'mine');
    expect(await search(bob, 'q=report')).to.deep.equal(['/report-bob.txt']);
    expect(await search(ann, 'q=report')).to.not.include('/report-bob.txt');
    expect((await new ApiClient(cloud.urls[0]!).request('GET', '/api/search?q=report')).status).to.equal(401);
  });

  it('pages through many results with a cursor, each result once', async () => {
    const cara = await new ApiClient(cloud.urls[0]!).signUpAndLogIn('cara');
    await cara.mkdir('/scans');
    for (let i = 0; i < 45; i++) expect((await cara.put(`/scans/scan ${String(i).padStart(2, '0')}.png`, 'x')).status).to.equal(201);
    await cara.put('/notes.txt', 'not a scan');
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 20; page++) {
      const reply = await cara.request('GET', `/api/search?q=scan&type=image&limit=10${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`);
      expect(reply.status).to.equal(200);
      expect(reply.json().entries.length).to.be.at.most(10);
      seen.push(...reply.json().entries.map((e: { name: string }) => e.name));
      cursor = reply.json().nextCursor;
      if (cursor === null) break;
    }
    expect(cursor).to.equal(null);
    expect(seen).to.have.length(45);
    expect(new Set(seen).size).to.equal(45);
  });
});
