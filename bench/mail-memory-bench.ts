/**
 * `npm run bench:mail`: how much memory big mail costs, on a real cloud (a replicated group of
 * three KV nodes, a frontend, the SMTP server), with 1 MiB chunks as in production.
 *   1. Peak RSS of the frontend while 1, then 6, webmail sends of an 18 MiB attachment run at
 *      once (multipart, as the browser sends them; bob@localhost is the recipient, so each send
 *      stores a Sent copy and an Inbox copy).
 *   2. Peak RSS of the SMTP process while 4 clients send a 24 MiB message each at once.
 * Each peak is printed beside the idle RSS of the same process (measured in the same run, before
 * its first round) and beside the bound this code states for it: idle, plus the transfer budget twice
 * (chunks on their way to the store, and their copies in the store client's frames), plus a
 * few chunks of each transfer's own (MAIL_SENDS_IN_FLIGHT_MAX sends for the frontend, one
 * message per client for SMTP).
 */
import { readFileSync } from 'node:fs';
import nodemailer from 'nodemailer';
import { setLogLevel } from '../lib/protocol/log.js';
import { MAIL_SENDS_IN_FLIGHT_MAX } from '../lib/services/send-slots.js';
import { TRANSFER_BUDGET_BYTES } from '../lib/services/transfer-budget.js';
import { HEADER_SECTION_BYTES_MAX } from '../lib/services/mime/message-scan.js';
import { ApiClient, MARK, startCloud } from '../test/api/cloud.js';
import { cleanupTempDirs, killAllRoles, startRole } from '../test/support/roles.js';

const MIB = 1024 * 1024;
const CHUNK_BYTES = MIB;
const ATTACHMENT_BYTES = 18 * MIB;
const SMTP_MESSAGE_BYTES = 24 * MIB;
const SMTP_CLIENTS = 4;
const SEND_COUNTS = [1, 6];
/** Largest message of the bench cloud: room for 24 MiB and an 18 MiB attachment in base64. */
const MESSAGE_BYTES_MAX = 26 * MIB;
/** How often RSS is sampled while a round runs. */
const SAMPLE_INTERVAL_MS = 20;
/** Bound on one round (sends and deliveries of up to 6 × 18 MiB on three fsyncing replicas). */
const ROUND_TIMEOUT_MS = 600_000;
/**
 * Chunks a transfer holds of its own, past the budget: the one being filled, its first write
 * in flight, and one being read ahead, each also once in the store client's frame. A webmail
 * send runs its staging, its composing and its copies one after the other.
 */
const OWN_CHUNKS_PER_TRANSFER = 6;
/**
 * Freed chunk buffers are memory outside V8's heap, given back only when the collector runs;
 * V8 starts a collection once such memory has grown by its external allocation soft limit
 * (64 MiB) since the last one. So up to that much garbage may be in RSS at a peak.
 */
const COLLECTOR_SLACK_BYTES = 64 * MIB;

/** RSS of a process in bytes (VmRSS of /proc/<pid>/status). */
function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (m === null) throw new Error(`no VmRSS for process ${pid}`);
  return Number(m[1]) * 1024;
}

/** Runs `work` while sampling the peak RSS of `pid`. */
async function peakRss(pid: number, work: () => Promise<void>): Promise<number> {
  let peak = rssOf(pid);
  const timer = setInterval(() => { peak = Math.max(peak, rssOf(pid)); }, SAMPLE_INTERVAL_MS);
  let deadline: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      work(),
      new Promise((_, reject) => { deadline = setTimeout(() => reject(new Error(`a round took over ${ROUND_TIMEOUT_MS} ms`)), ROUND_TIMEOUT_MS); }),
    ]);
  } finally {
    clearInterval(timer);
    clearTimeout(deadline);
  }
  return Math.max(peak, rssOf(pid));
}

/** A multipart form as a browser sends it: a few fields and one file. */
function form(subject: string, attachment: Buffer): { body: Buffer; type: string } {
  const boundary = `benchform${Math.random().toString(16).slice(2)}`;
  const field = (k: string, v: string): string => `--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`;
  return {
    body: Buffer.concat([
      Buffer.from(field('to', 'bob@localhost') + field('subject', subject) + field('text', 'the file is attached')),
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="attachment"; filename="big.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`),
      attachment,
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]),
    type: `multipart/form-data; boundary=${boundary}`,
  };
}

/** A 24 MiB message of 76-character lines (no line starts with a dot). */
function bigMessage(n: number): Buffer {
  const head = `From: x@example.org\r\nTo: ann@localhost\r\nSubject: big ${n}\r\n\r\n`;
  const line = `${'abcdefghij'.repeat(7)}012345\r\n`;
  return Buffer.from(head + line.repeat(Math.floor((SMTP_MESSAGE_BYTES - head.length) / line.length)), 'latin1');
}

function mib(bytes: number): string {
  return `${(bytes / MIB).toFixed(0)} MiB`;
}

function report(what: string, idle: number, peak: number, bound: number): void {
  const verdict = peak <= bound ? 'within the bound' : 'OVER THE BOUND';
  console.log(`${what.padEnd(44)} idle ${mib(idle).padStart(8)}  peak ${mib(peak).padStart(8)}  (+${mib(peak - idle)})  bound ${mib(bound).padStart(8)}  ${verdict}`);
}

async function main(): Promise<void> {
  setLogLevel('warn');
  const cloud = await startCloud({ mail: { domain: 'localhost', messageBytesMax: MESSAGE_BYTES_MAX }, drive: { chunkBytes: CHUNK_BYTES }, replicated: true });
  try {
    const conf = JSON.parse(readFileSync(cloud.conf, 'utf8')) as { smtp: { port: number } };
    const smtp = await startRole(['smtp', '--conf', cloud.conf, '--data', cloud.dataDir]);
    const ann = await new ApiClient(cloud.urls[0]!).signUpAndLogIn('ann', 'bench password');
    await new ApiClient(cloud.urls[0]!).signUpAndLogIn('bob', 'bench password');
    const frontendPid = cloud.frontends[0]!.child.pid!;
    const smtpPid = smtp.child.pid!;
    const attachment = Buffer.alloc(ATTACHMENT_BYTES);
    for (let i = 0; i < attachment.length; i += 4) attachment.writeUInt32LE((i * 2654435761) >>> 0, i);
    const budgetBound = 2 * TRANSFER_BUDGET_BYTES + COLLECTOR_SLACK_BYTES;
    console.log(`mail memory: ${mib(ATTACHMENT_BYTES)} webmail attachments, ${mib(SMTP_MESSAGE_BYTES)} SMTP messages, ${mib(CHUNK_BYTES)} chunks, 3 replicas`);

    // The reference: the frontend's RSS before its first send (a later round starts from
    // whatever the collector has not yet handed back, which would flatter it).
    const idle = rssOf(frontendPid);
    for (const count of SEND_COUNTS) {
      const forms = Array.from({ length: count }, (_, i) => form(`big ${count}.${i}`, attachment));
      const peak = await peakRss(frontendPid, async () => {
        const replies = await Promise.all(forms.map((f) => ann.request('POST', '/api/mail/send', { body: f.body, headers: { ...MARK, 'content-type': f.type } })));
        for (const r of replies) if (r.status !== 201) throw new Error(`a send answered ${r.status}: ${r.body.toString().slice(0, 300)}`);
      });
      const sendsAtOnce = Math.min(count, MAIL_SENDS_IN_FLIGHT_MAX);
      report(`frontend, ${count} webmail send${count === 1 ? '' : 's'} at once`, idle, peak, idle + budgetBound + sendsAtOnce * OWN_CHUNKS_PER_TRANSFER * CHUNK_BYTES);
    }

    const smtpIdle = rssOf(smtpPid);
    const messages = Array.from({ length: SMTP_CLIENTS }, (_, i) => bigMessage(i));
    const peak = await peakRss(smtpPid, async () => {
      await Promise.all(messages.map(async (raw) => {
        const transport = nodemailer.createTransport({ host: '127.0.0.1', port: conf.smtp.port, secure: false, ignoreTLS: true, socketTimeout: ROUND_TIMEOUT_MS });
        try {
          await transport.sendMail({ envelope: { from: 'x@example.org', to: ['ann@localhost'] }, raw });
        } finally {
          transport.close();
        }
      }));
    });
    report(`smtp, ${SMTP_CLIENTS} messages at once`, smtpIdle, peak, smtpIdle + budgetBound + SMTP_CLIENTS * (OWN_CHUNKS_PER_TRANSFER * CHUNK_BYTES + HEADER_SECTION_BYTES_MAX));
  } finally {
    killAllRoles();
    cleanupTempDirs();
  }
}

main().then(() => process.exit(0), (err: unknown) => {
  console.error(err);
  killAllRoles();
  cleanupTempDirs();
  process.exit(1);
});
