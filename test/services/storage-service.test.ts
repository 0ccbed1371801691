import { expect } from 'chai';
import type { KvClient } from '../../lib/kvclient/kv-client.js';
import { isPennError } from '../../lib/protocol/errors.js';
import { LIST_PAGE_ENTRIES_MAX, StorageService } from '../../lib/services/storage-service.js';
import { QuotaLedger } from '../../lib/services/quota-ledger.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { UPLOAD_STALE_MS } from '../../lib/services/content-writer.js';
import { childColumn, encodeLink, nodeRow } from '../../lib/services/fs-records.js';
import { MOVE_SETTLE_MS } from '../../lib/services/volume-tree.js';
import { ManualClock, piecesOf, readAll, startStore, stopStore } from './service-cluster.js';

/** Every chunk row in the store (three tablets, no splits at these sizes). */
async function chunkRows(kv: KvClient): Promise<string[]> {
  const rows: string[] = [];
  for (const start of ['', 'i', 'r']) rows.push(...(await kv.listRows(start)).rows.filter((r) => r.includes(':chunk:')));
  return rows;
}

const CHUNK = 16 * 1024;

function bytes(seed: number, size: number): Buffer {
  const out = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) out[i] = (i * 31 + seed * 7 + (i >> 8)) & 0xff;
  return out;
}

describe('services: the storage service on real KV nodes', function () {
  this.timeout(120_000);
  let kv: KvClient;
  let storage: StorageService;

  beforeEach(async () => {
    kv = await startStore();
    storage = new StorageService(kv, { chunkBytes: CHUNK });
  });
  afterEach(stopStore);

  it('keeps volumes apart: the same path in two volumes is two files (drive and mail share the layer)', async () => {
    const drive = storage.volume('drive:ann', 1 << 30);
    const mail = storage.volume('mail:ann', 1 << 30);
    await drive.writeFile('/Inbox', piecesOf(Buffer.from('a drive file')), null);
    await mail.createFolder('/Inbox');
    await mail.writeFile('/Inbox/1.eml', piecesOf(Buffer.from('Subject: hi\r\n\r\nbody')), null);
    expect((await drive.stat('/Inbox')).type).to.equal('file');
    expect((await mail.list('/Inbox')).entries.map((e) => e.name)).to.deep.equal(['1.eml']);
    const { read, node } = await mail.openFile('/Inbox/1.eml');
    expect((await readAll(read(0, node.size - 1))).toString()).to.equal('Subject: hi\r\n\r\nbody');
    expect((await drive.usage()).usedBytes).to.equal(12);
    expect((await mail.usage()).usedBytes).to.equal(19);
  });

  it('30 concurrent uploads and 10 folder creations in one folder: every entry is listed', async () => {
    const volume = storage.volume('drive:ann', 1 << 30);
    await volume.createFolder('/box');
    const files = Array.from({ length: 30 }, (_v, i) => ({ name: `file-${String(i).padStart(2, '0')}`, data: bytes(i, CHUNK * (i % 3) + i) }));
    await Promise.all([
      ...files.map((f) => volume.writeFile(`/box/${f.name}`, piecesOf(f.data), f.data.length)),
      ...Array.from({ length: 10 }, (_v, i) => volume.createFolder(`/box/sub-${i}`)),
    ]);
    const names = (await volume.list('/box')).entries.map((e) => e.name);
    expect(names).to.have.length(40);
    expect(names.filter((n) => n.startsWith('file-'))).to.deep.equal(files.map((f) => f.name));
    for (const f of files) {
      const { read, node } = await volume.openFile(`/box/${f.name}`);
      expect(node.size).to.equal(f.data.length);
      expect((await readAll(read(0, node.size - 1))).equals(f.data)).to.equal(true);
    }
    expect((await volume.usage()).usedBytes).to.equal(files.reduce((s, f) => s + f.data.length, 0));
  });

  it('two racing deletes of one folder: one succeeds, the other finds nothing; the quota is released once', async () => {
    const volume = storage.volume('drive:ann', 1 << 30);
    await volume.createFolder('/a/b', { parents: true });
    await volume.writeFile('/a/b/f', piecesOf(bytes(1, 3 * CHUNK)), null);
    await volume.writeFile('/keep', piecesOf(bytes(2, 100)), null);
    const results = await Promise.allSettled([volume.remove('/a', { recursive: true }), volume.remove('/a', { recursive: true })]);
    expect(results.filter((r) => r.status === 'fulfilled')).to.have.length(1);
    const failed = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(isPennError(failed.reason, 'NOT_FOUND')).to.equal(true);
    expect((await volume.usage()).usedBytes).to.equal(100);
  });

  it('two folders moved into each other at once: at most one move wins and both stay reachable', async () => {
    const volume = storage.volume('drive:ann', 1 << 30);
    const walk = async (path: string, seen: string[]): Promise<void> => {
      for (const entry of (await volume.list(path)).entries) {
        seen.push(entry.id);
        if (entry.type === 'folder') await walk(entry.path, seen);
      }
    };
    for (let round = 0; round < 15; round++) {
      const base = `/round-${round}`;
      const a = (await volume.createFolder(`${base}/a`, { parents: true })).node;
      const b = (await volume.createFolder(`${base}/b`)).node;
      const results = await Promise.allSettled([volume.move(`${base}/a`, `${base}/b/a`), volume.move(`${base}/b`, `${base}/a/b`)]);
      expect(results.filter((r) => r.status === 'fulfilled').length, `round ${round}`).to.be.at.most(1);
      for (const r of results) {
        if (r.status === 'rejected') expect(r.reason, `round ${round}`).to.include({ code: 'CONFLICT', reason: 'MOVE_INTO_ITSELF' });
      }
      const seen: string[] = [];
      await walk(base, seen);
      expect(seen.sort(), `round ${round}`).to.deep.equal([a.id, b.id].sort());
    }
  });

  it('an entry left by a move cut short keeps its name busy only until it is clearly not a move in progress', async () => {
    const clock = new ManualClock();
    const volume = new StorageService(kv, { chunkBytes: CHUNK, now: clock.now }).volume('drive:ann', 1 << 30);
    const file = (await volume.writeFile('/a.txt', piecesOf(Buffer.from('original')), null)).node;
    const dst = (await volume.createFolder('/dst')).node;
    // As if a move of /a.txt to /dst/b.txt had linked the new entry and then its frontend died.
    await kv.put(nodeRow('drive:ann', dst.id), childColumn('b.txt'), encodeLink({ id: file.id, type: 'file', linkedMs: clock.nowMs }));
    expect((await volume.list('/dst')).entries).to.deep.equal([]);
    const busy = await volume.writeFile('/dst/b.txt', piecesOf(Buffer.from('new')), null).catch((e: unknown) => e);
    expect(busy).to.include({ code: 'CONFLICT', reason: 'NAME_BUSY' });
    clock.advance(MOVE_SETTLE_MS);
    const made = await volume.writeFile('/dst/b.txt', piecesOf(Buffer.from('new')), null);
    expect(made.created).to.equal(true);
    expect((await volume.list('/dst')).entries.map((e) => [e.name, e.size])).to.deep.equal([['b.txt', 3]]);
    const { read, node } = await volume.openFile('/a.txt');
    expect(node.id).to.equal(file.id);
    expect((await readAll(read(0, node.size - 1))).toString()).to.equal('original');
  });

  it('pages a folder of more entries than one page holds', async () => {
    const volume = storage.volume('drive:ann', 1 << 30);
    await volume.createFolder('/many');
    const count = LIST_PAGE_ENTRIES_MAX + 50;
    const names = Array.from({ length: count }, (_v, i) => `d${String(i).padStart(5, '0')}`);
    for (let i = 0; i < names.length; i += 100) {
      await Promise.all(names.slice(i, i + 100).map((n) => volume.createFolder(`/many/${n}`)));
    }
    const first = await volume.list('/many');
    expect(first.entries).to.have.length(LIST_PAGE_ENTRIES_MAX);
    expect(first.nextCursor).to.equal(names[LIST_PAGE_ENTRIES_MAX - 1]);
    const second = await volume.list('/many', { cursor: first.nextCursor });
    expect(second.entries.map((e) => e.name)).to.deep.equal(names.slice(LIST_PAGE_ENTRIES_MAX));
    expect(second.nextCursor).to.equal(null);
  });

  it('the usage counter loses no charge when 40 writers race on it', async () => {
    const ledger = new QuotaLedger(kv, 'drive:ann', 1_000);
    await Promise.all(Array.from({ length: 40 }, () => ledger.reserve(7)));
    expect(await ledger.usedBytes()).to.equal(280);
    await Promise.all(Array.from({ length: 40 }, () => ledger.release(7)));
    expect(await ledger.usedBytes()).to.equal(0);
    const err = await ledger.reserve(1_001).catch((e: unknown) => e);
    expect(isPennError(err, 'QUOTA_EXCEEDED')).to.equal(true);
    expect(await ledger.usedBytes()).to.equal(0);
  });

  it('an upload whose writer fell silent is reclaimed by the next upload; the writer then stops', async () => {
    const clock = new ManualClock();
    const volume = new StorageService(kv, { chunkBytes: CHUNK, now: clock.now }).volume('drive:ann', 1 << 30);
    let open!: () => void;
    const gate = new Promise<void>((r) => { open = r; });
    async function* stalled(): AsyncGenerator<Buffer> {
      yield bytes(1, 5 * CHUNK);
      await gate;
      yield bytes(2, 3 * CHUNK);
    }
    const first = volume.writeFile('/stalled.bin', stalled(), 8 * CHUNK).catch((e: unknown) => e);
    const deadline = Date.now() + 30_000;
    while ((await chunkRows(kv)).length < 5) {
      if (Date.now() > deadline) throw new Error('the first upload never wrote its chunks');
      await sleep(10);
    }
    expect(await volume.usage()).to.deep.equal({ usedBytes: 8 * CHUNK, quotaBytes: 1 << 30 });
    // As if its frontend had died: nothing is heard from it for longer than the stale limit.
    clock.advance(UPLOAD_STALE_MS + 1);
    await volume.writeFile('/next.bin', piecesOf(bytes(3, 100)), 100);
    expect((await volume.usage()).usedBytes).to.equal(100);
    expect(await chunkRows(kv)).to.have.length(1);
    open();
    const err = await first;
    expect(err).to.include({ code: 'UNAVAILABLE', reason: 'UPLOAD_EXPIRED' });
    expect((await volume.list('/')).entries.map((e) => e.name)).to.deep.equal(['next.bin']);
    expect((await volume.usage()).usedBytes).to.equal(100);
    expect(await chunkRows(kv)).to.have.length(1);
  });

  it('a failed upload (the source breaks midway) leaves no file, no chunks and no charge', async () => {
    const volume = storage.volume('drive:ann', 1 << 30);
    async function* broken(): AsyncGenerator<Buffer> {
      yield bytes(3, 5 * CHUNK);
      throw new Error('client went away');
    }
    const err = await volume.writeFile('/partial', broken(), 10 * CHUNK).catch((e: unknown) => e);
    expect((err as Error).message).to.equal('client went away');
    expect((await volume.list('/')).entries).to.deep.equal([]);
    expect((await volume.usage()).usedBytes).to.equal(0);
    for (const start of ['', 'i', 'r']) {
      const { rows } = await kv.listRows(start);
      expect(rows.filter((r) => r.includes(':chunk:')), `tablet "${start}"`).to.deep.equal([]);
    }
  });

  it('purges trash entries past the retention time, oldest first, and gives their bytes back', async () => {
    const clock = new ManualClock();
    const timed = new StorageService(kv, { chunkBytes: CHUNK, now: clock.now, trashRetentionMs: 10_000 });
    const volume = timed.volume('drive:tess', 1 << 30);
    await volume.writeFile('/old.bin', piecesOf(bytes(1, 3 * CHUNK)), null);
    await volume.writeFile('/mid.bin', piecesOf(bytes(2, CHUNK)), null);
    await volume.writeFile('/new.bin', piecesOf(bytes(3, 100)), null);
    await volume.trash.put('/old.bin');
    clock.advance(4_000);
    await volume.trash.put('/mid.bin');
    clock.advance(4_000);
    await volume.trash.put('/new.bin');
    expect((await volume.usage()).usedBytes).to.equal(4 * CHUNK + 100);
    clock.advance(2_000);
    // old.bin has been in the trash for exactly the retention time: it goes; the others stay.
    expect((await volume.trash.list(null, 10)).entries.map((e) => e.name)).to.deep.equal(['mid.bin', 'new.bin']);
    expect((await volume.usage()).usedBytes).to.equal(CHUNK + 100);
    clock.advance(4_000);
    expect((await volume.trash.list(null, 10)).entries.map((e) => e.name)).to.deep.equal(['new.bin']);
    expect((await volume.usage()).usedBytes).to.equal(100);
    expect((await chunkRows(kv)).length).to.equal(1);
  });
});
