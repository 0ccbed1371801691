import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KvStore, KvStoreOptions } from '../../lib/kvserver/kv-store.js';
import { openKvStore } from '../../lib/kvserver/recovery.js';
import { installTablet, removeTablet } from '../../lib/kvserver/tablet-ownership.js';
import type { KvReplyBody } from '../../lib/protocol/kv-wire.js';
import { setLogLevel } from '../../lib/protocol/log.js';
import { storeOptions } from './store-options.js';

const ORIGIN = { clientId: '0000000000000001', requestId: 1 };

describe('store: tablet ownership changes at run time', function () {
  let dir: string;
  let options: KvStoreOptions;
  let store: KvStore;

  const get = async (row: string): Promise<KvReplyBody> => store.execute({ op: 'GET', row, column: 'c' }, ORIGIN);

  beforeEach(async () => {
    setLogLevel('silent');
    dir = mkdtempSync(join(tmpdir(), 'penncloud-owner-'));
    options = storeOptions(dir);
    store = await openKvStore(options, [{ start: '', end: 'm' }]);
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('gives a tablet up, takes it back from a snapshot, and keeps that across a restart', async () => {
    await store.execute({ op: 'PUT', row: 'apple', column: 'c', value: Buffer.from('red') }, ORIGIN);
    const snapshot = await store.snapshotTablet('');
    expect(await removeTablet(store, '')).to.equal(true);
    expect((await get('apple')).status).to.equal('WRONG_TABLET');
    expect(await removeTablet(store, '')).to.equal(false);

    await installTablet(store, { start: '', end: 'm' }, snapshot!.bytes);
    await installTablet(store, { start: 'm', end: null });
    const apple = await get('apple');
    expect(apple.status === 'VALUE' && apple.value.toString()).to.equal('red');
    await store.execute({ op: 'PUT', row: 'zebra', column: 'c', value: Buffer.from('striped') }, { ...ORIGIN, requestId: 2 });
    let overlap: unknown;
    await installTablet(store, { start: 'k', end: 'p' }).catch((err: unknown) => { overlap = err; });
    expect(String(overlap)).to.match(/overlaps/);

    await store.close();
    store = await openKvStore(options, [{ start: '', end: 'm' }]);
    expect(store.status().tablets.map((t) => [t.start, t.end])).to.deep.equal([['', 'm'], ['m', null]]);
    const zebra = await get('zebra');
    expect(zebra.status === 'VALUE' && zebra.value.toString()).to.equal('striped');
    const again = await get('apple');
    expect(again.status === 'VALUE' && again.value.toString()).to.equal('red');
  });
});
