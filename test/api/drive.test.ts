import { expect } from 'chai';
import { rawExchange } from '../support/http-harness.js';
import { cleanupTempDirs, killAllRoles } from '../support/roles.js';
import { allRows, ApiClient, bytesFor, closeKvClients, errorOf, MARK, startCloud, streamingPut, type Cloud } from './cloud.js';

/** Small chunks, so modest files span many chunks and chunk boundaries are easy to hit. */
const CHUNK = 64 * 1024;

function multipart(boundary: string, files: { field: string; filename: string; data: Buffer; type?: string }[], fields: Record<string, string> = {}): Buffer {
  const parts: Buffer[] = [];
  for (const [name, value] of Object.entries(fields)) {
    parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`));
  }
  for (const f of files) {
    parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${f.field}"; filename="${f.filename}"\r\n`
      + `Content-Type: ${f.type ?? 'application/octet-stream'}\r\n\r\n`));
    parts.push(f.data, Buffer.from('\r\n'));
  }
  parts.push(Buffer.from(`--${boundary}--\r\n`));
  return Buffer.concat(parts);
}

describe('api: the drive (real KV nodes and frontends)', function () {
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

  it('creates (201) and replaces (200) a file by PUT; downloads it byte-exact from either frontend', async () => {
    const first = bytesFor(1, 5 * CHUNK + 123);
    const created = await ann.put('/data.bin', first);
    expect(created.status).to.equal(201);
    expect(created.json().file).to.include({ type: 'file', name: 'data.bin', path: '/data.bin', size: first.length });
    const id = created.json().file.id;
    expect(id).to.match(/^[0-9a-f]{32}$/);
    const other = new ApiClient(cloud.urls[1]!);
    other.cookie = ann.cookie;
    const got = await other.get('/data.bin');
    expect(got.status).to.equal(200);
    expect(got.body.equals(first)).to.equal(true);
    expect(got.headers.get('content-length')).to.equal(String(first.length));
    expect(got.headers.get('accept-ranges')).to.equal('bytes');

    const second = bytesFor(2, 2 * CHUNK);
    const replaced = await other.put('/data.bin', second);
    expect(replaced.status).to.equal(200);
    expect(replaced.json().file).to.include({ id, size: second.length });
    expect((await ann.get('/data.bin')).body.equals(second)).to.equal(true);
    // The old content's chunks were reclaimed: only the new file's two chunks remain.
    const chunkRows = (await allRows(cloud.kvClient())).filter((r) => r.includes(':chunk:'));
    expect(chunkRows).to.have.length(2);
    expect((await ann.get('/')).json().usage.usedBytes).to.equal(second.length);
  });

  it('stores empty, text and binary files exactly, with Content-Type and an RFC 6266 Content-Disposition', async () => {
    expect((await ann.put('/empty', Buffer.alloc(0))).status).to.equal(201);
    const empty = await ann.get('/empty');
    expect(empty.status).to.equal(200);
    expect(empty.body.length).to.equal(0);
    const text = 'Grüße, Welt\r\nline two\n\u0000 and a NUL\n';
    expect((await ann.put('/%C3%A9t%C3%A9%20notes.txt', text)).status).to.equal(201);
    const got = await ann.get('/%C3%A9t%C3%A9%20notes.txt');
    expect(got.body.toString('utf8')).to.equal(text);
    expect(got.headers.get('content-type')).to.equal('text/plain; charset=utf-8');
    expect(got.headers.get('content-disposition')).to.equal(`attachment; filename="_t_ notes.txt"; filename*=UTF-8''%C3%A9t%C3%A9%20notes.txt`);
    expect(got.headers.get('x-content-type-options')).to.equal('nosniff');
    const all = Buffer.from(Array.from({ length: 256 * 300 }, (_v, i) => i % 256));
    await ann.put('/all.bin', all);
    expect((await ann.get('/all.bin')).body.equals(all)).to.equal(true);
    await ann.put('/page.html', '<script>alert(1)</script>');
    const html = await ann.get('/page.html?inline=1');
    expect(html.headers.get('content-type')).to.equal('text/html; charset=utf-8');
    expect(html.headers.get('content-disposition')).to.match(/^attachment;/);
    expect(html.headers.get('content-security-policy')).to.contain('sandbox');
    await ann.put('/pic.png', bytesFor(14, 300));
    const picture = await ann.get('/pic.png?inline=1');
    expect(picture.headers.get('content-type')).to.equal('image/png');
    expect(picture.headers.get('content-disposition')).to.equal(`inline; filename="pic.png"; filename*=UTF-8''pic.png`);
    const head = await ann.request('HEAD', '/api/files/all.bin');
    expect(head.status).to.equal(200);
    expect(head.headers.get('content-length')).to.equal(String(all.length));
    expect(head.body.length).to.equal(0);
  });

  it('serves single byte ranges (206), across chunk boundaries, and 416 outside the file', async () => {
    const data = bytesFor(3, 3 * CHUNK + 1000);
    await ann.put('/video.mp4', data);
    const cases: [string, number, number][] = [
      ['bytes=0-0', 0, 0],
      ['bytes=10-19', 10, 19],
      [`bytes=${CHUNK - 5}-${2 * CHUNK + 5}`, CHUNK - 5, 2 * CHUNK + 5],
      [`bytes=${3 * CHUNK}-`, 3 * CHUNK, data.length - 1],
      ['bytes=-100', data.length - 100, data.length - 1],
      [`bytes=100-${data.length + 5000}`, 100, data.length - 1],
    ];
    for (const [range, start, end] of cases) {
      const reply = await ann.get('/video.mp4', { range });
      expect(reply.status, range).to.equal(206);
      expect(reply.headers.get('content-range')).to.equal(`bytes ${start}-${end}/${data.length}`);
      expect(reply.headers.get('content-type')).to.equal('video/mp4');
      expect(reply.body.equals(data.subarray(start, end + 1)), range).to.equal(true);
    }
    const outside = await ann.get('/video.mp4', { range: `bytes=${data.length}-` });
    expect(outside.status).to.equal(416);
    expect(outside.headers.get('content-range')).to.equal(`bytes */${data.length}`);
    expect(errorOf(outside).code).to.equal('RANGE_NOT_SATISFIABLE');
    const several = await ann.get('/video.mp4', { range: 'bytes=0-1,5-6' });
    expect(several.status).to.equal(200);
    expect(several.body.equals(data)).to.equal(true);
  });

  it('creates folders (409 when taken, ?parents=1 for a chain), lists them in pages', async () => {
    const made = await ann.mkdir('/docs');
    expect(made.status).to.equal(201);
    expect(made.json().folder).to.include({ type: 'folder', name: 'docs', path: '/docs' });
    const again = await ann.mkdir('/docs');
    expect(again.status).to.equal(409);
    expect(errorOf(again)).to.include({ code: 'CONFLICT', reason: 'NAME_TAKEN' });
    const orphan = await ann.mkdir('/a/b/c');
    expect(orphan.status).to.equal(404);
    expect(errorOf(orphan).message).to.equal('no such file or folder: /a');
    expect((await ann.mkdir('/a/b/c', '?parents=1')).status).to.equal(201);
    expect((await ann.mkdir('/a/b/c', '?parents=1')).status).to.equal(200);
    expect((await ann.mkdir('/a/b', '?parents=maybe')).status).to.equal(400);
    expect(await ann.names('/a/b')).to.deep.equal(['c']);
    await ann.put('/docs/file', 'x');
    const overFile = await ann.mkdir('/docs/file/sub', '?parents=1');
    expect(overFile.status).to.equal(409);
    expect(errorOf(overFile).reason).to.equal('NOT_A_FOLDER');
    for (const path of ['/docs/file/inner.txt', '/docs/file/deeper/inner.txt']) {
      const underFile = await ann.put(path, 'x');
      expect(underFile.status).to.equal(409);
      expect(errorOf(underFile)).to.include({ reason: 'NOT_A_FOLDER', message: '/docs/file is a file, not a folder' });
    }

    for (const name of ['e', 'b', 'd', 'a', 'c']) await ann.put(`/docs/${name}.txt`, name);
    const listed = await ann.get('/docs');
    expect(listed.json().folder).to.include({ path: '/docs', type: 'folder' });
    expect(listed.json().entries.map((e: { name: string }) => e.name)).to.deep.equal(['a.txt', 'b.txt', 'c.txt', 'd.txt', 'e.txt', 'file']);
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 10; page++) {
      const reply = await ann.get(`/docs?limit=2${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`);
      const body = reply.json();
      expect(body.entries.length).to.be.at.most(2);
      seen.push(...body.entries.map((e: { name: string }) => e.name));
      cursor = body.nextCursor;
      if (cursor === null) break;
    }
    expect(seen).to.deep.equal(['a.txt', 'b.txt', 'c.txt', 'd.txt', 'e.txt', 'file']);
    expect((await ann.get('/docs?limit=0')).status).to.equal(400);
    expect((await ann.get('/nowhere')).status).to.equal(404);
  });

  it('refuses bad names with 400 naming the problem; a file over a folder is 409 IS_A_FOLDER', async () => {
    for (const path of ['/a%01b', '/' + 'x'.repeat(256), '/back%5Cslash']) {
      const reply = await ann.put(path, 'x');
      expect(reply.status, path).to.equal(400);
      expect(errorOf(reply).reason).to.equal('BAD_NAME');
    }
    await ann.put('/x', 'x');
    for (const to of ['/..', '/a/../x', '/.']) {
      const reply = await ann.move('/x', to);
      expect(reply.status, to).to.equal(400);
      expect(errorOf(reply)).to.include({ reason: 'BAD_NAME' });
      expect(errorOf(reply).message).to.match(/is not allowed$/);
    }
    expect(errorOf(await ann.put('/' + 'x'.repeat(256), 'x')).message).to.contain('longer than 255 bytes');
    await ann.remove('/x', '?permanent=1');
    await ann.mkdir('/box');
    const over = await ann.put('/box', 'x');
    expect(over.status).to.equal(409);
    expect(errorOf(over).reason).to.equal('IS_A_FOLDER');
    const root = await ann.put('/', 'x');
    expect(root.status).to.equal(409);
    expect(await ann.names('/')).to.deep.equal(['box']);
  });

  it('renames and moves: ids stay fixed, the old path is gone, bytes follow; conflicts and cycles are refused', async () => {
    const data = bytesFor(4, 3 * CHUNK);
    await ann.mkdir('/src/inner', '?parents=1');
    const file = (await ann.put('/src/inner/f.bin', data)).json().file;
    const folder = (await ann.get('/src')).json().folder;
    await ann.mkdir('/dst');

    const renamed = await ann.move('/src/inner/f.bin', '/src/inner/g.bin');
    expect(renamed.status).to.equal(200);
    expect(renamed.json().node).to.include({ id: file.id, path: '/src/inner/g.bin', name: 'g.bin' });
    expect((await ann.get('/src/inner/f.bin')).status).to.equal(404);

    const moved = await ann.move('/src', '/dst/src2');
    expect(moved.status).to.equal(200);
    expect(moved.json().node).to.include({ id: folder.id, path: '/dst/src2' });
    expect(await ann.names('/')).to.deep.equal(['dst']);
    const after = await ann.get('/dst/src2/inner/g.bin');
    expect(after.body.equals(data)).to.equal(true);
    expect((await ann.get('/dst/src2/inner')).json().entries[0].id).to.equal(file.id);

    const cycle = await ann.move('/dst', '/dst/src2/inner/dst');
    expect(cycle.status).to.equal(409);
    expect(errorOf(cycle)).to.include({ reason: 'MOVE_INTO_ITSELF' });
    const self = await ann.move('/dst/src2', '/dst/src2/x');
    expect(errorOf(self).reason).to.equal('MOVE_INTO_ITSELF');
    await ann.put('/dst/taken', 'x');
    const taken = await ann.move('/dst/src2/inner/g.bin', '/dst/taken');
    expect(taken.status).to.equal(409);
    expect(errorOf(taken).reason).to.equal('NAME_TAKEN');
    expect((await ann.get('/dst/taken')).body.toString()).to.equal('x');
    expect((await ann.move('/missing', '/m2')).status).to.equal(404);
    expect((await ann.move('/dst/taken', '/nowhere/taken')).status).to.equal(404);
    expect((await ann.move('/', '/x')).status).to.equal(400);
    const badBody = await ann.request('POST', '/api/move', { json: { from: '/dst' } });
    expect(badBody.status).to.equal(400);
    expect(errorOf(badBody).message).to.contain('"from"');
    expect(await ann.names('/dst')).to.deep.equal(['src2', 'taken']);
  });

  it('deletes files and folders for good with ?permanent=1: a non-empty folder needs ?recursive=1; every chunk is reclaimed', async () => {
    await ann.mkdir('/tree/a/b', '?parents=1');
    await ann.put('/tree/a/one.bin', bytesFor(5, 2 * CHUNK + 7));
    await ann.put('/tree/a/b/two.bin', bytesFor(6, 3 * CHUNK));
    await ann.put('/keep.txt', 'keep me');
    expect((await ann.get('/')).json().usage.usedBytes).to.equal(5 * CHUNK + 7 + 7);
    const refused = await ann.remove('/tree', '?permanent=1');
    expect(refused.status).to.equal(409);
    expect(errorOf(refused)).to.include({ reason: 'NOT_EMPTY' });
    expect(errorOf(refused).message).to.contain('recursive=1');
    expect(await ann.names('/tree/a')).to.deep.equal(['b', 'one.bin']);
    expect((await ann.remove('/tree/a/one.bin', '?permanent=1')).status).to.equal(204);
    expect((await ann.get('/tree/a/one.bin')).status).to.equal(404);
    expect((await ann.remove('/tree/a/one.bin', '?permanent=1')).status).to.equal(404);
    expect((await ann.remove('/tree', '?recursive=1&permanent=1')).status).to.equal(204);
    expect(await ann.names('/')).to.deep.equal(['keep.txt']);
    expect((await ann.get('/tree/a/b/two.bin')).status).to.equal(404);
    expect((await ann.remove('/')).status).to.equal(400);
    expect((await ann.remove('/', '?permanent=1')).status).to.equal(400);
    expect((await ann.get('/')).json().usage.usedBytes).to.equal(7);
    const rows = await allRows(cloud.kvClient());
    expect(rows.filter((r) => r.includes(':chunk:'))).to.have.length(1);
    // Only the root's row and keep.txt's row hold nodes now.
    expect(rows.filter((r) => r.includes(':node:drive:ann/'))).to.have.length(2);
  });

  it('uploads one or more files by multipart/form-data into a folder', async () => {
    await ann.mkdir('/up');
    const one = bytesFor(7, CHUNK + 3);
    const two = bytesFor(8, 10);
    const body = multipart('XyZ', [{ field: 'a', filename: 'one.bin', data: one }, { field: 'b', filename: 'C:\\Users\\ann\\two.txt', data: two, type: 'text/plain' }], { note: 'ignored' });
    const reply = await ann.request('POST', '/api/files/up', { body, headers: { ...MARK, 'content-type': 'multipart/form-data; boundary=XyZ' } });
    expect(reply.status).to.equal(201);
    expect(reply.json().files.map((f: { path: string; size: number }) => [f.path, f.size])).to.deep.equal([['/up/one.bin', one.length], ['/up/two.txt', 10]]);
    expect((await ann.get('/up/one.bin')).body.equals(one)).to.equal(true);
    expect((await ann.get('/up/two.txt')).body.equals(two)).to.equal(true);

    const missing = await ann.request('POST', '/api/files/nope', { body, headers: { ...MARK, 'content-type': 'multipart/form-data; boundary=XyZ' } });
    expect(missing.status).to.equal(404);
    const notMultipart = await ann.request('POST', '/api/files/up', { body: 'raw', headers: { ...MARK, 'content-type': 'application/octet-stream' } });
    expect(notMultipart.status).to.equal(415);
    const noFiles = await ann.request('POST', '/api/files/up', { body: multipart('B', [], { x: 'y' }), headers: { ...MARK, 'content-type': 'multipart/form-data; boundary=B' } });
    expect(noFiles.status).to.equal(400);
    expect(errorOf(noFiles).message).to.contain('no file');
    const truncated = await ann.request('POST', '/api/files/up', { body: body.subarray(0, body.length - 40), headers: { ...MARK, 'content-type': 'multipart/form-data; boundary=XyZ' } });
    expect(truncated.status).to.equal(400);
    expect(await ann.names('/up')).to.deep.equal(['one.bin', 'two.txt']);
  });

  it('requires a session for every drive endpoint', async () => {
    const anonymous = new ApiClient(cloud.urls[0]!);
    const replies = await Promise.all([
      anonymous.get('/'), anonymous.put('/x', 'x'), anonymous.mkdir('/x'), anonymous.move('/a', '/b'), anonymous.remove('/x'),
      anonymous.request('POST', '/api/files/', { body: multipart('Q', [{ field: 'f', filename: 'f', data: Buffer.from('x') }]), headers: { ...MARK, 'content-type': 'multipart/form-data; boundary=Q' } }),
    ]);
    for (const reply of replies) {
      expect(reply.status).to.equal(401);
      expect(errorOf(reply).code).to.equal('UNAUTHENTICATED');
    }
    expect(await ann.names('/')).to.deep.equal([]);
  });

  it('keeps users apart: every endpoint with the other user\'s paths finds nothing of theirs', async () => {
    await ann.mkdir('/secret');
    await ann.put('/secret/plan.txt', 'ann only');
    const bob = await new ApiClient(cloud.urls[1]!).signUpAndLogIn('bob');
    expect(await bob.names('/')).to.deep.equal([]);
    expect((await bob.get('/secret')).status).to.equal(404);
    expect((await bob.get('/secret/plan.txt')).status).to.equal(404);
    expect((await bob.get('/secret/plan.txt', { range: 'bytes=0-3' })).status).to.equal(404);
    expect((await bob.move('/secret/plan.txt', '/mine.txt')).status).to.equal(404);
    expect((await bob.move('/secret', '/mine')).status).to.equal(404);
    expect((await bob.remove('/secret/plan.txt')).status).to.equal(404);
    expect((await bob.remove('/secret', '?recursive=1')).status).to.equal(404);
    expect((await bob.put('/secret/plan.txt', 'bob was here')).status).to.equal(404);
    expect((await bob.request('POST', '/api/files/secret', { body: multipart('Q', [{ field: 'f', filename: 'x', data: Buffer.from('x') }]), headers: { ...MARK, 'content-type': 'multipart/form-data; boundary=Q' } })).status).to.equal(404);
    // Bob's own tree may use the same names; it is a different tree.
    expect((await bob.mkdir('/secret')).status).to.equal(201);
    expect((await bob.put('/secret/plan.txt', 'bob plan')).status).to.equal(201);
    expect((await bob.remove('/secret', '?recursive=1&permanent=1')).status).to.equal(204);
    expect((await ann.get('/secret/plan.txt')).body.toString()).to.equal('ann only');
    expect(await ann.names('/secret')).to.deep.equal(['plan.txt']);
    expect((await ann.get('/')).json().usage.usedBytes).to.equal(8);
    expect((await bob.get('/')).json().usage.usedBytes).to.equal(0);
  });

  it('20 concurrent uploads into one folder through two frontends are all listed, byte-exact', async () => {
    await ann.mkdir('/inbox');
    const other = new ApiClient(cloud.urls[1]!);
    other.cookie = ann.cookie;
    const files = Array.from({ length: 20 }, (_v, i) => ({ name: `f${String(i).padStart(2, '0')}.bin`, data: bytesFor(100 + i, CHUNK + i * 997) }));
    const replies = await Promise.all(files.map((f, i) => (i % 2 === 0 ? ann : other).put(`/inbox/${f.name}`, f.data)));
    expect(replies.map((r) => r.status)).to.deep.equal(files.map(() => 201));
    expect(await ann.names('/inbox')).to.deep.equal(files.map((f) => f.name));
    for (const f of files) expect((await other.get(`/inbox/${f.name}`)).body.equals(f.data), f.name).to.equal(true);
    const total = files.reduce((sum, f) => sum + f.data.length, 0);
    expect((await ann.get('/')).json().usage.usedBytes).to.equal(total);
  });

  it('concurrent folder creation for one name: exactly one 201, the rest 409, one folder', async () => {
    const replies = await Promise.all(Array.from({ length: 10 }, () => ann.mkdir('/same')));
    expect(replies.filter((r) => r.status === 201)).to.have.length(1);
    expect(replies.filter((r) => r.status === 409)).to.have.length(9);
    expect(await ann.names('/')).to.deep.equal(['same']);
  });

  it('a quota refuses an upload before it is read when too large, and stops one without a length as it passes', async () => {
    killAllRoles();
    cloud = await startCloud({ drive: { chunkBytes: CHUNK, quotaBytes: 10 * CHUNK } });
    const api = await new ApiClient(cloud.urls[0]!).signUpAndLogIn('ann');
    expect((await api.put('/fits.bin', bytesFor(9, 4 * CHUNK))).status).to.equal(201);
    const tooBig = await api.put('/big.bin', bytesFor(10, 7 * CHUNK));
    expect(tooBig.status).to.equal(403);
    expect(errorOf(tooBig)).to.include({ code: 'QUOTA_EXCEEDED', reason: 'QUOTA_EXCEEDED' });
    expect(errorOf(tooBig).message).to.contain(`${6 * CHUNK} of the quota of ${10 * CHUNK} bytes are free`);
    // Refused on the head alone: a client that waits for 100 Continue never sends the body.
    const port = Number(new URL(cloud.urls[0]!).port);
    const raw = await rawExchange(port, `PUT /api/files/huge.bin HTTP/1.1\r\nHost: x\r\nCookie: ${api.cookie}\r\n`
      + `X-PennCloud-Request: 1\r\nContent-Length: ${100 * CHUNK}\r\nExpect: 100-continue\r\n\r\n`, { until: '"}}' });
    expect(raw).to.match(/^HTTP\/1\.1 403 /);
    expect(raw).to.not.contain('100 Continue');
    expect(raw).to.contain('QUOTA_EXCEEDED');
    // A chunked body (no Content-Length) is stopped while it streams.
    async function* pieces(): AsyncGenerator<Buffer> {
      for (let i = 0; i < 20; i++) yield bytesFor(11, CHUNK);
    }
    const chunked = await streamingPut(`${cloud.urls[0]}/api/files/stream.bin`, api.cookie, pieces(), null);
    expect(chunked).to.have.property('status', 403);
    if ('status' in chunked) expect(JSON.parse(chunked.body.toString()).error.reason).to.equal('QUOTA_EXCEEDED');
    const big = bytesFor(12, 7 * CHUNK);
    const multi = await api.request('POST', '/api/files/', { body: multipart('Q', [{ field: 'f', filename: 'm.bin', data: big }]), headers: { ...MARK, 'content-type': 'multipart/form-data; boundary=Q' } });
    expect(multi.status).to.equal(403);
    expect(await api.names('/')).to.deep.equal(['fits.bin']);
    expect((await api.get('/')).json().usage).to.deep.equal({ usedBytes: 4 * CHUNK, quotaBytes: 10 * CHUNK });
    // Nothing of the refused uploads stays behind in the store.
    expect((await allRows(cloud.kvClient())).filter((r) => r.includes(':chunk:'))).to.have.length(4);
    // A multipart file (no length of its own) that fits the last free bytes is taken.
    const last = bytesFor(13, 6 * CHUNK);
    const fitting = await api.request('POST', '/api/files/', { body: multipart('Q', [{ field: 'f', filename: 'last.bin', data: last }]), headers: { ...MARK, 'content-type': 'multipart/form-data; boundary=Q' } });
    expect(fitting.status).to.equal(201);
    expect((await api.get('/last.bin')).body.equals(last)).to.equal(true);
    expect((await api.get('/')).json().usage.usedBytes).to.equal(10 * CHUNK);
    // Freeing space makes room again.
    expect((await api.remove('/fits.bin', '?permanent=1')).status).to.equal(204);
    expect((await api.remove('/last.bin', '?permanent=1')).status).to.equal(204);
    expect((await api.put('/big.bin', big)).status).to.equal(201);
  });
});
