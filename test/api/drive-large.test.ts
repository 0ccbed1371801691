import { expect } from 'chai';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { CHUNKS_PER_RUN } from '../../lib/services/chunk-rows.js';
import { cleanupTempDirs, killAllRoles } from '../support/roles.js';
import { allRows, ApiClient, closeKvClients, startCloud, streamingPut, type Cloud } from './cloud.js';

const MIB = 1024 * 1024;
/** The file: 200 MiB, made on the fly and never held whole on either side. */
const FILE_BYTES = 200 * MIB;
const PIECE_BYTES = MIB;
/**
 * How far above its idle size the frontend's resident memory may grow while it moves the file.
 * Its working set is a few 1 MiB chunks (reads ahead, writes in flight, socket buffers) plus
 * garbage not yet collected; a frontend that buffered the file would pass this by far.
 */
const RSS_GROWTH_BYTES_MAX = 80 * MIB;
const RSS_SAMPLE_INTERVAL_MS = 50;

/** The frontend's resident set size, from /proc/<pid>/status (VmRSS, in kB). */
function residentBytes(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (match === null) throw new Error(`no VmRSS for process ${pid}`);
  return Number(match[1]) * 1024;
}

/** Samples a process's RSS until stopped; resolves with the peak. */
function sampleRss(pid: number): { stop(): number } {
  let peak = residentBytes(pid);
  const timer = setInterval(() => { peak = Math.max(peak, residentBytes(pid)); }, RSS_SAMPLE_INTERVAL_MS);
  return { stop: () => { clearInterval(timer); return Math.max(peak, residentBytes(pid)); } };
}

describe('api: a 200 MiB file through a frontend (real KV nodes)', function () {
  this.timeout(600_000);
  let cloud: Cloud;

  afterEach(() => {
    closeKvClients();
    killAllRoles();
    cleanupTempDirs();
  });

  it('uploads and downloads byte-exact while the frontend\'s memory stays flat; chunks spread over every tablet', async () => {
    cloud = await startCloud({ drive: { chunkBytes: MIB, quotaBytes: 1024 * MIB } });
    const api = await new ApiClient(cloud.urls[0]!).signUpAndLogIn('ann');
    const pid = cloud.frontends[0]!.child.pid!;
    const idle = residentBytes(pid);

    const sent = createHash('sha256');
    async function* body(): AsyncGenerator<Buffer> {
      for (let at = 0; at < FILE_BYTES; at += PIECE_BYTES) {
        const piece = randomBytes(Math.min(PIECE_BYTES, FILE_BYTES - at));
        sent.update(piece);
        yield piece;
      }
    }
    const uploadRss = sampleRss(pid);
    const reply = await streamingPut(`${cloud.urls[0]}/api/files/big.bin`, api.cookie, body(), FILE_BYTES);
    const uploadPeak = uploadRss.stop();
    expect(reply).to.have.property('status', 201);

    const downloadRss = sampleRss(pid);
    const received = createHash('sha256');
    let receivedBytes = 0;
    await new Promise<void>((resolve, reject) => {
      httpGet(`${cloud.urls[0]}/api/files/big.bin`, { headers: { cookie: api.cookie! } }, (res) => {
        if (res.statusCode !== 200) reject(new Error(`download: ${res.statusCode}`));
        res.on('data', (d: Buffer) => { received.update(d); receivedBytes += d.length; });
        res.on('end', resolve);
        res.on('error', reject);
      }).on('error', reject);
    });
    const downloadPeak = downloadRss.stop();

    expect(receivedBytes).to.equal(FILE_BYTES);
    expect(received.digest('hex')).to.equal(sent.digest('hex'));
    const figures = { idleMiB: idle / MIB, uploadPeakMiB: uploadPeak / MIB, downloadPeakMiB: downloadPeak / MIB };
    expect(uploadPeak - idle, JSON.stringify(figures)).to.be.below(RSS_GROWTH_BYTES_MAX);
    expect(downloadPeak - idle, JSON.stringify(figures)).to.be.below(RSS_GROWTH_BYTES_MAX);
    if (process.env.PENNCLOUD_TEST_FIGURES) process.stdout.write(`      rss: ${JSON.stringify(figures)}\n`);

    // The chunks lie in runs of 64: each run's rows share one spread prefix and follow each
    // other in key order (one tablet), and the runs spread over the key space independently.
    const kv = cloud.kvClient();
    const chunks = (await allRows(kv)).filter((r) => r.includes(':chunk:'));
    expect(chunks).to.have.length(FILE_BYTES / MIB);
    const runs = new Map<string, number[]>();
    for (const row of chunks) {
      const [spread, , contentId, run, index] = row.split(':');
      const key = `${spread}:${contentId}:${run}`;
      runs.set(key, [...(runs.get(key) ?? []), Number(index)]);
    }
    expect(runs.size).to.equal(Math.ceil(FILE_BYTES / MIB / CHUNKS_PER_RUN));
    for (const [key, indexes] of runs) {
      const run = Number(key.split(':')[2]);
      const first = run * CHUNKS_PER_RUN;
      expect(indexes, `run ${run}`).to.deep.equal(Array.from({ length: indexes.length }, (_v, i) => first + i));
    }
  });
});
