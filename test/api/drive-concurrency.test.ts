import { expect } from 'chai';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { cleanupTempDirs, killAllRoles } from '../support/roles.js';
import { allRows, ApiClient, bytesFor, closeKvClients, errorOf, startCloud, streamingPut, type Cloud, type StreamedReply } from './cloud.js';

const CHUNK = 64 * 1024;
/** Longest wait for the uploads to have begun (their quota reservations visible). */
const UPLOADS_STARTED_WAIT_MS = 30_000;

/** A body that sends its first half, then waits for `gate` before sending the rest. */
async function* gatedBody(data: Buffer, gate: Promise<void>): AsyncGenerator<Buffer> {
  const half = Math.floor(data.length / 2);
  yield data.subarray(0, half);
  await gate;
  for (let at = half; at < data.length; at += 16 * 1024) yield data.subarray(at, Math.min(data.length, at + 16 * 1024));
}

/** Polls the usage counter until it reaches `bytes` (the uploads resolved their folder and reserved). */
async function waitForUsage(api: ApiClient, bytes: number): Promise<void> {
  const deadline = Date.now() + UPLOADS_STARTED_WAIT_MS;
  for (;;) {
    const used = (await api.get('/')).json().usage.usedBytes;
    if (used === bytes) return;
    if (Date.now() > deadline) throw new Error(`usage stayed at ${used}, expected ${bytes}`);
    await sleep(20);
  }
}

describe('api: drive changes racing with uploads (real KV nodes and frontends)', function () {
  this.timeout(120_000);
  let cloud: Cloud;
  let ann: ApiClient;

  beforeEach(async () => {
    cloud = await startCloud({ frontends: 2, drive: { chunkBytes: CHUNK, quotaBytes: 64 * 1024 * 1024 } });
    ann = await new ApiClient(cloud.urls[0]!).signUpAndLogIn('ann');
  });

  afterEach(() => {
    closeKvClients();
    killAllRoles();
    cleanupTempDirs();
  });

  function startUploads(folder: string, gate: Promise<void>): { files: { name: string; data: Buffer }[]; replies: Promise<StreamedReply[]> } {
    const files = Array.from({ length: 6 }, (_v, i) => ({ name: `part-${i}.bin`, data: bytesFor(200 + i, 3 * CHUNK + i * 1111) }));
    const replies = Promise.all(files.map((f, i) => streamingPut(`${cloud.urls[i % 2]}/api/files${folder}/${f.name}`, ann.cookie, gatedBody(f.data, gate), f.data.length)));
    return { files, replies };
  }

  it('a folder moved while files are uploaded into it receives them all at its new place', async () => {
    await ann.mkdir('/inbox');
    await ann.mkdir('/archive');
    let open!: () => void;
    const gate = new Promise<void>((r) => { open = r; });
    const { files, replies } = startUploads('/inbox', gate);
    await waitForUsage(ann, files.reduce((s, f) => s + f.data.length, 0));
    const moved = await ann.move('/inbox', '/archive/inbox');
    expect(moved.status).to.equal(200);
    open();
    for (const reply of await replies) expect(reply).to.have.property('status', 201);
    expect((await ann.get('/inbox')).status).to.equal(404);
    expect(await ann.names('/archive/inbox')).to.deep.equal(files.map((f) => f.name));
    for (const f of files) expect((await ann.get(`/archive/inbox/${f.name}`)).body.equals(f.data), f.name).to.equal(true);
  });

  it('a folder deleted while files are uploaded into it takes them along: 404, no chunk and no quota left over', async () => {
    await ann.mkdir('/doomed');
    await ann.put('/keep.txt', 'kept');
    let open!: () => void;
    const gate = new Promise<void>((r) => { open = r; });
    const { files, replies } = startUploads('/doomed', gate);
    await waitForUsage(ann, 4 + files.reduce((s, f) => s + f.data.length, 0));
    expect((await ann.remove('/doomed', '?recursive=1&permanent=1')).status).to.equal(204);
    open();
    for (const reply of await replies) {
      expect(reply).to.have.property('status', 404);
      if ('status' in reply) expect(JSON.parse(reply.body.toString()).error.message).to.contain('was deleted meanwhile');
    }
    expect(await ann.names('/')).to.deep.equal(['keep.txt']);
    expect((await ann.get('/')).json().usage.usedBytes).to.equal(4);
    const rows = await allRows(cloud.kvClient());
    expect(rows.filter((r) => r.includes(':chunk:'))).to.have.length(1);
  });

  it('an upload the client abandons midway leaves no file, no chunks and no charge', async () => {
    await ann.put('/keep.txt', 'kept');
    const declared = 10 * CHUNK;
    const socket = connect(Number(new URL(cloud.urls[0]!).port), '127.0.0.1');
    await new Promise<void>((r) => socket.once('connect', () => r()));
    socket.write(`PUT /api/files/abandoned.bin HTTP/1.1\r\nHost: x\r\nCookie: ${ann.cookie}\r\n`
      + `X-PennCloud-Request: 1\r\nContent-Length: ${declared}\r\n\r\n`);
    socket.write(bytesFor(400, 3 * CHUNK + 5));
    // The reservation shows the upload has begun; then the client vanishes.
    await waitForUsage(ann, 4 + declared);
    socket.destroy();
    await waitForUsage(ann, 4);
    expect(await ann.names('/')).to.deep.equal(['keep.txt']);
    const deadline = Date.now() + UPLOADS_STARTED_WAIT_MS;
    let chunks = -1;
    while (Date.now() < deadline) {
      chunks = (await allRows(cloud.kvClient())).filter((r) => r.includes(':chunk:')).length;
      if (chunks === 1) break;
      await sleep(50);
    }
    expect(chunks).to.equal(1);
  });

  it('an upload whose frontend is killed gives its space and chunks back once it is stale', async () => {
    killAllRoles();
    cloud = await startCloud({ frontends: 2, kvRequestTimeoutMs: 2_000, drive: { chunkBytes: CHUNK, quotaBytes: 64 * 1024 * 1024, uploadStaleMs: 4_000 } });
    ann = await new ApiClient(cloud.urls[0]!).signUpAndLogIn('ann');
    await ann.put('/keep.txt', 'kept');
    const data = bytesFor(500, 6 * CHUNK);
    const upload = streamingPut(`${cloud.urls[0]}/api/files/lost.bin`, ann.cookie, gatedBody(data, new Promise(() => undefined)), data.length);
    await waitForUsage(ann, 4 + data.length);
    const deadline = Date.now() + UPLOADS_STARTED_WAIT_MS;
    while ((await allRows(cloud.kvClient())).filter((r) => r.includes(':chunk:')).length < 1 + 3) {
      if (Date.now() > deadline) throw new Error('the upload never wrote its first chunks');
      await sleep(20);
    }
    cloud.frontends[0]!.child.kill('SIGKILL');
    expect(await upload).to.have.property('error');
    // Frontend 2 carries on; the next upload to the volume after the stale period reclaims.
    const other = new ApiClient(cloud.urls[1]!);
    other.cookie = ann.cookie;
    let used = -1;
    while (Date.now() < deadline + 30_000) {
      expect((await other.put('/tiny.txt', 'tiny')).status).to.be.oneOf([200, 201]);
      used = (await other.get('/')).json().usage.usedBytes;
      if (used === 8) break;
      await sleep(250);
    }
    expect(used).to.equal(8);
    expect(await other.names('/')).to.deep.equal(['keep.txt', 'tiny.txt']);
    expect((await allRows(cloud.kvClient())).filter((r) => r.includes(':chunk:'))).to.have.length(2);
  });

  it('a file replaced while it is downloaded: the reader gets the old bytes whole, or an error, never a mix', async () => {
    const before = bytesFor(300, 40 * CHUNK);
    const after = bytesFor(301, 40 * CHUNK);
    await ann.put('/movie.bin', before);
    const res = await fetch(`${cloud.urls[0]}/api/files/movie.bin`, { headers: { cookie: ann.cookie! } });
    expect(res.status).to.equal(200);
    const reader = res.body!.getReader();
    const first = await reader.read();
    expect((await ann.put('/movie.bin', after)).status).to.equal(200);
    const parts: Buffer[] = [Buffer.from(first.value!)];
    let failed = false;
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        parts.push(Buffer.from(value));
      }
    } catch {
      failed = true;
    }
    const got = Buffer.concat(parts);
    if (!failed) expect(got.equals(before)).to.equal(true);
    else expect(before.subarray(0, got.length).equals(got)).to.equal(true);
    expect((await ann.get('/movie.bin')).body.equals(after)).to.equal(true);
  });

  it('concurrent renames of one file to different names: one wins, nothing is lost or doubled', async () => {
    await ann.put('/a.txt', 'content');
    const replies = await Promise.all(['/b.txt', '/c.txt', '/d.txt', '/e.txt'].map((to) => ann.move('/a.txt', to)));
    const won = replies.filter((r) => r.status === 200);
    expect(won.length).to.be.at.least(1);
    for (const r of replies.filter((x) => x.status !== 200)) expect([404, 409]).to.include(r.status);
    const names = await ann.names('/');
    expect(names).to.have.length(1);
    expect((await ann.get(`/${names[0]}`)).body.toString()).to.equal('content');
    expect(errorOf(await ann.get('/a.txt')).code).to.equal('NOT_FOUND');
  });
});
