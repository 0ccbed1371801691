import { expect } from 'chai';
import type { KvClient } from '../../lib/kvclient/kv-client.js';
import { AttachmentStaging, STAGED_STALE_MS, STAGING_FOLDER } from '../../lib/services/mail-staging.js';
import { StorageService } from '../../lib/services/storage-service.js';
import { ManualClock, piecesOf, readAll, startStore, stopStore } from './service-cluster.js';

const CHUNK = 4096;

describe('services: staged webmail attachments on real KV nodes', function () {
  this.timeout(120_000);
  let kv: KvClient;

  beforeEach(async () => { kv = await startStore(); });
  afterEach(stopStore);

  it('stages a stream, reads it back as a stream, and discards it', async () => {
    const clock = new ManualClock();
    const volume = new StorageService(kv, { chunkBytes: CHUNK, now: clock.now }).volume('mail:ann', 1 << 30);
    const staging = new AttachmentStaging(() => volume, clock.now);
    const data = Buffer.alloc(10 * CHUNK + 17, 0x5a);
    const staged = await staging.stage('ann', piecesOf(data));
    expect(staged.size).to.equal(data.length);
    expect((await readAll(staging.open('ann', staged)())).equals(data)).to.equal(true);
    await staging.discard('ann', [staged]);
    expect((await volume.list(STAGING_FOLDER)).entries).to.deep.equal([]);
    expect((await volume.usage()).usedBytes).to.equal(0);
  });

  it('a staged file left by a send that died is removed by a later send once it is stale, and not before', async () => {
    const clock = new ManualClock();
    const volume = new StorageService(kv, { chunkBytes: CHUNK, now: clock.now }).volume('mail:ann', 1 << 30);
    const staging = new AttachmentStaging(() => volume, clock.now);
    const orphan = await staging.stage('ann', piecesOf(Buffer.alloc(100, 1)));
    clock.advance(STAGED_STALE_MS - 1);
    const fresh = await staging.stage('ann', piecesOf(Buffer.alloc(100, 2)));
    expect((await volume.list(STAGING_FOLDER)).entries.map((e) => e.path).sort()).to.deep.equal([orphan.path, fresh.path].sort());
    clock.advance(2);
    const later = await staging.stage('ann', piecesOf(Buffer.alloc(100, 3)));
    expect((await volume.list(STAGING_FOLDER)).entries.map((e) => e.path).sort()).to.deep.equal([fresh.path, later.path].sort());
  });
});
