import { expect } from 'chai';
import { setTimeout as sleep } from 'node:timers/promises';
import type { KvClient } from '../../lib/kvclient/kv-client.js';
import { PennError } from '../../lib/protocol/errors.js';
import { READ_AHEAD_BYTES_MAX } from '../../lib/services/content-reader.js';
import { UPLOAD_BYTES_IN_FLIGHT_MAX } from '../../lib/services/content-writer.js';
import type { KvTable } from '../../lib/services/kv-table.js';
import { StorageService } from '../../lib/services/storage-service.js';
import { piecesOf, readAll, startStore, stopStore } from './service-cluster.js';

/** Chunks of 1 MiB, the drive's default and the largest value the test store takes. */
const BIG_CHUNK = 1024 * 1024;
/** Polls while waiting for a count to reach its value and hold still (20 s at most). */
const SETTLE_POLLS_MAX = 2_000;
const SETTLE_POLL_MS = 10;
/** How long a count must hold still to be taken as final. */
const STILL_MS = 100;

function bytes(seed: number, size: number): Buffer {
  const out = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) out[i] = (i * 13 + seed * 5 + (i >> 9)) & 0xff;
  return out;
}

/** The store as the services see it, counting chunk operations and failing the ones asked to. */
class CountingTable implements KvTable {
  putsInFlight = 0;
  putsInFlightPeak = 0;
  getsStarted = 0;
  getsInFlight = 0;
  /** Chunk rows whose PUT is refused (by chunk index). */
  readonly failingChunks = new Set<number>();
  /** While set, chunk PUTs wait for it (and count as in flight) before they reach the store. */
  private gate: Promise<void> | null = null;
  private openGate: (() => void) | null = null;

  holdPuts(): void {
    this.gate = new Promise((resolve) => { this.openGate = resolve; });
  }

  releasePuts(): void {
    this.openGate?.();
    this.gate = null;
  }

  constructor(private readonly kv: KvClient) {}

  async get(row: string, column: string): Promise<Buffer | null> {
    if (!row.includes(':chunk:')) return this.kv.get(row, column);
    this.getsStarted++;
    this.getsInFlight++;
    try {
      return await this.kv.get(row, column);
    } finally {
      this.getsInFlight--;
    }
  }

  async put(row: string, column: string, value: Buffer): Promise<void> {
    if (!row.includes(':chunk:')) return this.kv.put(row, column, value);
    this.putsInFlight++;
    this.putsInFlightPeak = Math.max(this.putsInFlightPeak, this.putsInFlight);
    try {
      if (this.gate !== null) await this.gate;
      if (this.failingChunks.has(Number(row.slice(row.lastIndexOf(':') + 1)))) {
        // Refused after a turn, while the writes sent beside it are still on their way.
        await sleep(1);
        throw new PennError('UNAVAILABLE', 'the store refused the chunk');
      }
      await this.kv.put(row, column, value);
    } finally {
      this.putsInFlight--;
    }
  }

  cput(row: string, column: string, expected: Buffer | null, value: Buffer): ReturnType<KvTable['cput']> {
    return this.kv.cput(row, column, expected, value);
  }

  delete(row: string, column: string): Promise<boolean> {
    return this.kv.delete(row, column);
  }

  listColumns(row: string, options: { after?: string | null; limit?: number }): ReturnType<KvTable['listColumns']> {
    return this.kv.listColumns(row, options);
  }
}

describe('services: file bytes to and from the store', function () {
  this.timeout(120_000);
  let kv: KvClient;

  beforeEach(async () => {
    kv = await startStore();
  });
  afterEach(stopStore);

  async function chunkRows(): Promise<string[]> {
    const rows: string[] = [];
    for (const start of ['', 'i', 'r']) rows.push(...(await kv.listRows(start)).rows.filter((r) => r.includes(':chunk:')));
    return rows;
  }

  it('a chunk write the store refuses, among many in flight, fails the upload: no file, no chunks, no charge', async () => {
    const table = new CountingTable(kv);
    const chunks = UPLOAD_BYTES_IN_FLIGHT_MAX / BIG_CHUNK + 8;
    table.failingChunks.add(chunks - 3);
    const volume = new StorageService(table, { chunkBytes: BIG_CHUNK }).volume('drive:ann', 1 << 30);
    const data = bytes(1, chunks * BIG_CHUNK);
    const err = await volume.writeFile('/big.bin', piecesOf(data, 64 * 1024), data.length).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(PennError);
    expect(err).to.include({ code: 'UNAVAILABLE', message: 'the store refused the chunk' });
    expect(table.putsInFlightPeak * BIG_CHUNK).to.be.at.most(UPLOAD_BYTES_IN_FLIGHT_MAX);
    expect((await volume.list('/')).entries).to.deep.equal([]);
    expect((await volume.usage()).usedBytes).to.equal(0);
    expect(await chunkRows()).to.deep.equal([]);
  });

  it('a download the client does not read fetches only a bounded number of chunks ahead, then gives every byte', async () => {
    const table = new CountingTable(kv);
    const volume = new StorageService(table, { chunkBytes: BIG_CHUNK }).volume('drive:ann', 1 << 30);
    const chunks = READ_AHEAD_BYTES_MAX / BIG_CHUNK + 12;
    const data = bytes(2, chunks * BIG_CHUNK - 3);
    await volume.writeFile('/movie.bin', piecesOf(data, 64 * 1024), data.length);
    const { node, read } = await volume.openFile('/movie.bin');
    const stream = read(0, node.size - 1);
    const reader = stream[Symbol.asyncIterator]();
    const first = await reader.next();
    expect(Buffer.from(first.value as Uint8Array).equals(data.subarray(0, BIG_CHUNK))).to.equal(true);
    // The client takes nothing more: once the reads it started are answered, the stream stops.
    let polls = 0;
    let seen = -1;
    while (polls++ < SETTLE_POLLS_MAX && (table.getsInFlight > 0 || seen !== table.getsStarted)) {
      seen = table.getsStarted;
      await sleep(SETTLE_POLL_MS);
    }
    expect(table.getsInFlight).to.equal(0);
    // The chunk taken, one waiting in the stream's buffer, and the read-ahead behind it.
    expect((table.getsStarted - 2) * BIG_CHUNK).to.be.at.most(READ_AHEAD_BYTES_MAX);
    expect(table.getsStarted).to.be.below(chunks);
    const rest = await readAll({ [Symbol.asyncIterator]: () => reader });
    expect(Buffer.concat([Buffer.from(first.value as Uint8Array), rest]).equals(data)).to.equal(true);
    expect(table.getsStarted).to.equal(chunks);
  });

  /**
   * Resolves with `count()` once it is at least `floor` and has held still for STILL_MS
   * (bounded by SETTLE_POLLS_MAX polls): a count that would pass its limit has time to show it.
   */
  async function settled(count: () => number, floor = 0): Promise<number> {
    let value = count();
    let stillMs = 0;
    for (let poll = 0; poll < SETTLE_POLLS_MAX && (value < floor || stillMs < STILL_MS); poll++) {
      await sleep(SETTLE_POLL_MS);
      stillMs = count() === value ? stillMs + SETTLE_POLL_MS : 0;
      value = count();
    }
    return value;
  }

  it('transfers share the frontend\'s budget past one chunk each, and have it whole again when they end or are abandoned', async () => {
    const table = new CountingTable(kv);
    const budgetChunks = 4;
    const storage = new StorageService(table, { chunkBytes: BIG_CHUNK, transferBudgetBytes: budgetChunks * BIG_CHUNK });
    const volume = storage.volume('drive:ann', 1 << 30);
    const data = bytes(3, 12 * BIG_CHUNK);
    const upload = (name: string): Promise<unknown> => volume.writeFile(name, piecesOf(data, 64 * 1024), data.length);

    // Three uploads at once: one write each of their own, and the budget's four between them.
    table.holdPuts();
    const three = Promise.all(['/a', '/b', '/c'].map(upload));
    expect(await settled(() => table.putsInFlight, 3 + budgetChunks)).to.equal(3 + budgetChunks);
    table.releasePuts();
    await three;

    // A download abandoned after its first piece gives back what it read ahead.
    const { node, read } = await volume.openFile('/a');
    const stream = read(0, node.size - 1);
    const first = await stream[Symbol.asyncIterator]().next();
    expect(Buffer.from(first.value as Uint8Array).equals(data.subarray(0, BIG_CHUNK))).to.equal(true);
    // As when the client goes away (the response pump destroys its source).
    const closed = new Promise((resolve) => stream.once('close', resolve));
    stream.destroy();
    await closed;
    await settled(() => table.getsInFlight);

    // One upload alone: its own write and the whole budget again.
    table.holdPuts();
    const alone = upload('/d');
    expect(await settled(() => table.putsInFlight, 1 + budgetChunks)).to.equal(1 + budgetChunks);
    table.releasePuts();
    await alone;
    for (const name of ['a', 'b', 'c', 'd']) {
      const file = await volume.openFile(`/${name}`);
      expect((await readAll(file.read(0, file.node.size - 1))).equals(data), name).to.equal(true);
    }
  });
});
