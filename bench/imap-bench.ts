/**
 * `npm run bench:imap`: a mail client's first sync of an Inbox over IMAP, on a real store.
 *   The Inbox holds MESSAGES messages (`--messages N`), filled through the mail service. A raw
 *   IMAP client then does what Thunderbird does on a new account: SELECT INBOX (which gives every
 *   message its UID), then UID FETCH 1:* of UID, RFC822.SIZE, FLAGS and the header fields it
 *   shows. Reported: messages/s of the header fetch, the first SELECT's time, and a second sync
 *   (UIDs already given). Beside it, in the same run, the reference: the same Inbox listed
 *   through the webmail's API, page by page (100 summaries a page), messages/s. Then IDLE: the
 *   time from a delivery to the EXISTS an idling client is told (target: under 2 s).
 */
import { connect, type Socket } from 'node:net';
import { readFileSync } from 'node:fs';
import { setLogLevel } from '../lib/protocol/log.js';
import { MailService } from '../lib/services/mail-service.js';
import { StorageService } from '../lib/services/storage-service.js';
import { ApiClient, startCloud } from '../test/api/cloud.js';
import { cleanupTempDirs, killAllRoles, startRole } from '../test/support/roles.js';

const MIB = 1024 * 1024;
const MESSAGES_DEFAULT = 1000;
/** Deliveries in flight while filling (each charges the user's usage and counts by CPUT). */
const FILL_CONCURRENCY = 4;
/** Bound on one IMAP command of the benchmark (a header fetch of 10,000 messages included). */
const COMMAND_TIMEOUT_MS = 600_000;
/** Deliveries timed from the store to an idling client. */
const IDLE_SAMPLES = 10;
const HEADER_FIELDS = 'FROM TO CC SUBJECT DATE MESSAGE-ID PRIORITY X-PRIORITY REFERENCES NEWSGROUPS IN-REPLY-TO CONTENT-TYPE REPLY-TO';

/** A raw IMAP connection: one command at a time, the reply read up to its tagged line. */
class RawImap {
  private buffer = '';
  private waiter: (() => void) | null = null;
  private tagNumber = 0;

  private constructor(private readonly socket: Socket) {
    socket.on('data', (d: Buffer) => {
      this.buffer += d.toString('latin1');
      this.waiter?.();
    });
  }

  static async open(port: number): Promise<RawImap> {
    const socket = connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => { socket.once('connect', resolve); socket.once('error', reject); });
    const client = new RawImap(socket);
    await client.until(/^\* OK .*\r\n/m);
    return client;
  }

  private until(pattern: RegExp): Promise<string> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no reply in ${COMMAND_TIMEOUT_MS} ms: ${this.buffer.slice(-200)}`)), COMMAND_TIMEOUT_MS);
      const check = (): void => {
        const m = pattern.exec(this.buffer);
        if (m === null) return;
        const text = this.buffer.slice(0, m.index + m[0].length);
        this.buffer = this.buffer.slice(m.index + m[0].length);
        this.waiter = null;
        clearTimeout(timer);
        resolve(text);
      };
      this.waiter = check;
      check();
    });
  }

  async command(text: string): Promise<string> {
    const tag = `b${++this.tagNumber}`;
    this.socket.write(`${tag} ${text}\r\n`);
    const reply = await this.until(new RegExp(`(^|\\r\\n)${tag} (OK|NO|BAD)[^\\r]*\\r\\n`));
    if (!new RegExp(`${tag} OK`).test(reply.slice(-200))) throw new Error(`${text}: ${reply.slice(-200)}`);
    return reply;
  }

  /** Sends a line with no tag (DONE) or a tagged command, without waiting. */
  send(line: string): void {
    this.socket.write(`${line}\r\n`);
  }

  /** Waits for the server to say something matching `pattern`. */
  wait(pattern: RegExp): Promise<string> {
    return this.until(pattern);
  }

  close(): void {
    this.socket.destroy();
  }
}

async function sync(port: number): Promise<{ selectMs: number; fetchMs: number; fetched: number; bytes: number }> {
  const imap = await RawImap.open(port);
  await imap.command('LOGIN bench "correct horse"');
  let started = performance.now();
  await imap.command('SELECT INBOX');
  const selectMs = performance.now() - started;
  started = performance.now();
  const reply = await imap.command(`UID FETCH 1:* (UID RFC822.SIZE FLAGS BODY.PEEK[HEADER.FIELDS (${HEADER_FIELDS})])`);
  const fetchMs = performance.now() - started;
  imap.close();
  return { selectMs, fetchMs, fetched: (reply.match(/^\* \d+ FETCH /gm) ?? []).length, bytes: reply.length };
}

async function main(): Promise<void> {
  setLogLevel('warn');
  const flag = process.argv.indexOf('--messages');
  const messages = flag === -1 ? MESSAGES_DEFAULT : Number(process.argv[flag + 1]);
  if (!Number.isInteger(messages) || messages < 1) throw new Error('--messages needs a whole number of messages');
  const cloud = await startCloud({ mail: { domain: 'localhost' } });
  try {
    const conf = JSON.parse(readFileSync(cloud.conf, 'utf8')) as { imap: { port: number } };
    await startRole(['imap', '--conf', cloud.conf, '--data', cloud.dataDir]);
    const api = await new ApiClient(cloud.urls[0]!).signUpAndLogIn('bench', 'correct horse');
    const kv = cloud.kvClient();
    const storage = new StorageService(kv, { chunkBytes: MIB });
    const mail = new MailService(kv, storage, { exists: async () => true }, { domain: 'localhost', messageBytesMax: 25 * MIB, quotaBytes: 1024 * MIB });
    const fillStarted = Date.now();
    let next = 0;
    await Promise.all(Array.from({ length: FILL_CONCURRENCY }, async () => {
      while (next < messages) {
        const n = next++;
        const raw = Buffer.from(`From: Sender ${n} <s${n}@example.org>\r\nTo: bench@localhost\r\nSubject: message ${n}\r\nDate: Mon, 07 Dec 2026 10:00:00 +0000\r\nMessage-ID: <b${n}@example.org>\r\n\r\n${'body text\r\n'.repeat(20)}`);
        await mail.deliverLocal('bench', raw);
      }
    }));
    const fillSeconds = (Date.now() - fillStarted) / 1000;

    const first = await sync(conf.imap.port);
    const second = await sync(conf.imap.port);
    if (first.fetched !== messages || second.fetched !== messages) throw new Error(`fetched ${first.fetched} and ${second.fetched} of ${messages}`);

    // IDLE: from a delivery to the EXISTS an idling client is told, IDLE_SAMPLES times.
    const idle = await RawImap.open(conf.imap.port);
    await idle.command('LOGIN bench "correct horse"');
    await idle.command('SELECT INBOX');
    const pushMs: number[] = [];
    for (let i = 0; i < IDLE_SAMPLES; i++) {
      idle.send(`i${i} IDLE`);
      await idle.wait(/\+ idling\r\n/);
      const sent = performance.now();
      await mail.deliverLocal('bench', Buffer.from(`Subject: pushed ${i}\r\n\r\nnew\r\n`));
      await idle.wait(/\* \d+ EXISTS\r\n/);
      pushMs.push(performance.now() - sent);
      idle.send('DONE');
      await idle.wait(new RegExp(`i${i} OK IDLE terminated\r\n`));
    }
    idle.close();
    pushMs.sort((a, b) => a - b);

    const listStarted = performance.now();
    let listed = 0;
    let cursor: string | null = null;
    do {
      const page = (await api.request('GET', `/api/mail/folders/inbox?limit=100${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`)).json() as { messages: unknown[]; nextCursor: string | null };
      listed += page.messages.length;
      cursor = page.nextCursor;
    } while (cursor !== null);
    const listMs = performance.now() - listStarted;

    const rate = (n: number, ms: number): string => (n / (ms / 1000)).toFixed(0).padStart(7);
    process.stdout.write([
      `imap: first sync of a ${messages}-message Inbox (filled in ${fillSeconds.toFixed(1)} s), messages/s`,
      `  first  SELECT ${first.selectMs.toFixed(0).padStart(6)} ms (gives UIDs)  header FETCH ${first.fetchMs.toFixed(0).padStart(6)} ms  ${rate(messages, first.fetchMs)} msg/s  (${(first.bytes / 1024).toFixed(0)} KiB)`,
      `  second SELECT ${second.selectMs.toFixed(0).padStart(6)} ms               header FETCH ${second.fetchMs.toFixed(0).padStart(6)} ms  ${rate(messages, second.fetchMs)} msg/s`,
      `  reference: webmail API listing, 100 a page         ${listMs.toFixed(0).padStart(6)} ms  ${rate(listed, listMs)} msg/s`,
      `imap: IDLE push, delivery to EXISTS (${IDLE_SAMPLES} deliveries): median ${pushMs[Math.floor(pushMs.length / 2)]!.toFixed(0)} ms, worst ${pushMs[pushMs.length - 1]!.toFixed(0)} ms  target < 2000 ms  ${pushMs[pushMs.length - 1]! < 2000 ? 'met' : 'NOT met'}`,
      '',
    ].join('\n'));
  } finally {
    killAllRoles();
    cleanupTempDirs();
  }
}

main().then(() => process.exit(0), (err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  killAllRoles();
  cleanupTempDirs();
  process.exit(1);
});
