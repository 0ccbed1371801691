/**
 * Downloading files and folders as one ZIP through a real frontend and KV nodes, checked by
 * outside readers: Python's zipfile (every CRC) and Info-ZIP's `unzip -t`. The archive's length
 * is known before its first byte; names in UTF-8; a folder comes with everything under it.
 */
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanupTempDirs, killAllRoles, tempDir } from '../support/roles.js';
import { ApiClient, bytesFor, closeKvClients, errorOf, startCloud, type Cloud } from './cloud.js';

/** Longest an outside reader may take over one archive. */
const READER_TIMEOUT_MS = 60_000;

function run(command: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { timeout: READER_TIMEOUT_MS, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err !== null) reject(new Error(`${command} failed: ${err.message}\n${stdout}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

/** Python's reading of an archive: every entry's name and the SHA-256 of its bytes; testzip() checks each CRC. */
const READ_ZIP = `
import hashlib, json, sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
bad = z.testzip()
print(json.dumps({"bad": bad, "entries": [[i.filename, hashlib.sha256(z.read(i)).hexdigest(), i.file_size] for i in z.infolist()]}))
`;

describe('api: download as ZIP (real KV nodes and a frontend; read by Python and unzip)', function () {
  this.timeout(120_000);
  let cloud: Cloud;
  let ann: ApiClient;

  before(async () => {
    cloud = await startCloud({ frontends: 1, drive: { chunkBytes: 16 * 1024 } });
    ann = await new ApiClient(cloud.urls[0]!).signUpAndLogIn('ann');
  });
  after(() => {
    closeKvClients();
    killAllRoles();
    cleanupTempDirs();
  });

  it('streams chosen files and a whole folder tree; Python checks every CRC and unzip tests it', async () => {
    const big = bytesFor(3, 700_000);
    const small = Buffer.from('plain text\n');
    await ann.mkdir('/Holiday/Day 1', '?parents=1');
    await ann.put('/Holiday/Day 1/beach.jpg', big);
    await ann.put('/Holiday/empty.txt', '');
    await ann.put('/Holiday/Zürich café.txt', small);
    await ann.put('/notes.txt', 'notes');
    const reply = await ann.request('GET', `/api/zip?path=${encodeURIComponent('/Holiday')}&path=/notes.txt`);
    expect(reply.status, reply.body.toString().slice(0, 200)).to.equal(200);
    expect(reply.headers.get('content-type')).to.equal('application/zip');
    expect(reply.headers.get('content-disposition')).to.contain('PennCloud download.zip');
    expect(Number(reply.headers.get('content-length'))).to.equal(reply.body.length);

    const file = join(tempDir(), 'download.zip');
    writeFileSync(file, reply.body);
    const read = JSON.parse(await run('python3', ['-c', READ_ZIP, file])) as { bad: string | null; entries: [string, string, number][] };
    expect(read.bad).to.equal(null);
    const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
    expect(read.entries).to.deep.equal([
      ['Holiday/', sha(Buffer.alloc(0)), 0],
      ['Holiday/Day 1/', sha(Buffer.alloc(0)), 0],
      ['Holiday/Day 1/beach.jpg', sha(big), big.length],
      // A folder's entries in the drive's name order (by bytes: "Z" before "e").
      ['Holiday/Zürich café.txt', sha(small), small.length],
      ['Holiday/empty.txt', sha(Buffer.alloc(0)), 0],
      ['notes.txt', sha(Buffer.from('notes')), 5],
    ]);
    const tested = await run('unzip', ['-t', file]);
    expect(tested).to.contain('No errors detected');
  });

  it('names a single folder after it, and refuses what it cannot do with a clear error', async () => {
    const one = await ann.request('GET', '/api/zip?path=/Holiday');
    expect(one.status).to.equal(200);
    expect(one.headers.get('content-disposition')).to.contain('Holiday.zip');
    for (const [query, status, reason] of [['', 400, 'BAD_PATH'], ['?path=/', 400, 'ROOT'], ['?path=/nope', 404, 'NO_SUCH_PATH']] as const) {
      const reply = await ann.request('GET', `/api/zip${query}`);
      expect(reply.status, query).to.equal(status);
      expect(errorOf(reply).reason).to.equal(reason);
    }
    const bob = await new ApiClient(cloud.urls[0]!).signUpAndLogIn('bob');
    expect((await bob.request('GET', '/api/zip?path=/Holiday')).status).to.equal(404);
  });
});
