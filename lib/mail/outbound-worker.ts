/**
 * Outbound delivery: reads the queue the mail service keeps in the store (so it survives
 * restarts), finds the recipient domain's mail hosts, and hands each message over with
 * nodemailer. A passing failure (4xx, no connection) is retried with a doubling delay; a
 * refusal (5xx), too many attempts or too much time sends the sender a bounce. The Sent copy
 * shows each recipient's delivery state throughout.
 */
import nodemailer from 'nodemailer';
import { PennError } from '../protocol/errors.js';
import type { Logger } from '../protocol/log.js';
import { sourceAddressFor } from '../protocol/source-address.js';
import { encodeRecord } from '../services/json-record.js';
import type { KvTable } from '../services/kv-table.js';
import { composeMessage } from '../services/mail-compose.js';
import type { DeliveryState } from '../services/mail-records.js';
import { OUTBOUND_ROW, type MailService, type OutboundJob } from '../services/mail-service.js';
import { parseMessage } from '../services/mime/mime-parser.js';
import type { MailHost } from './mx-lookup.js';

/** Jobs read from the queue per pass. */
export const QUEUE_PAGE_JOBS = 100;
/** Deliveries in flight at once. */
export const DELIVERIES_CONCURRENT_MAX = 8;
/** Bounds of one SMTP conversation with a remote host. */
export const SMTP_CONNECT_TIMEOUT_MS = 15_000;
export const SMTP_SOCKET_TIMEOUT_MS = 60_000;

export interface OutboundOptions {
  kv: KvTable;
  mail: MailService;
  lookup: { hostsFor(domain: string): Promise<MailHost[]> };
  logger: Logger;
  port: number;
  /** The SMTP server's configured host: deliveries leave from it (lib/protocol/source-address.ts). */
  sourceHost?: string;
  retry: { delayMs: number; delayMaxMs: number; attemptsMax: number; expiryMs: number };
  pollMs: number;
  now?: () => number;
}

type Outcome = { kind: 'delivered'; detail: string } | { kind: 'temporary'; detail: string } | { kind: 'permanent'; detail: string };

export class OutboundWorker {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = false;
  private readonly now: () => number;

  constructor(private readonly options: OutboundOptions) {
    this.now = options.now ?? Date.now;
  }

  start(): void {
    const tick = (): void => {
      if (this.stopped) return;
      this.running = this.pass().catch((err: unknown) => this.options.logger.warn('outbound pass failed', { err: (err as Error).message }))
        .finally(() => {
          this.running = null;
          if (!this.stopped) this.timer = setTimeout(tick, this.options.pollMs);
        });
    };
    tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    await this.running;
  }

  /** One look at the queue: every job that is due is attempted once. */
  async pass(): Promise<void> {
    const due: Array<{ column: string; job: OutboundJob }> = [];
    let after: string | null = null;
    for (;;) {
      const page = await this.options.kv.listColumns(OUTBOUND_ROW, { after, limit: QUEUE_PAGE_JOBS });
      for (const c of page.columns) {
        const bytes = await this.options.kv.get(OUTBOUND_ROW, c.column);
        if (bytes === null) continue;
        const job = JSON.parse(bytes.toString('utf8')) as OutboundJob;
        if (job.nextAttemptMs <= this.now()) due.push({ column: c.column, job });
      }
      if (!page.more || page.columns.length === 0) break;
      after = page.columns[page.columns.length - 1]!.column;
    }
    for (let i = 0; i < due.length; i += DELIVERIES_CONCURRENT_MAX) {
      await Promise.all(due.slice(i, i + DELIVERIES_CONCURRENT_MAX).map((d) => this.attempt(d.column, d.job)));
    }
  }

  private async attempt(column: string, job: OutboundJob): Promise<void> {
    const log = this.options.logger.child({ message: job.messageId, recipient: job.recipient });
    let raw: Buffer;
    try {
      raw = await this.options.mail.raw(job.user, job.messageId);
    } catch (err) {
      if (err instanceof PennError && err.code === 'NOT_FOUND') {
        // The sender deleted the message for good before it left: nothing to send.
        await this.options.kv.delete(OUTBOUND_ROW, column);
        return;
      }
      throw err;
    }
    const outcome = await this.deliver(job, raw);
    const attempts = job.attempts + 1;
    const nowMs = this.now();
    const state = (s: DeliveryState['state'], detail: string): DeliveryState => ({ recipient: job.recipient, state: s, detail, attempts, updatedMs: nowMs });
    if (outcome.kind === 'delivered') {
      log.info('delivered', { detail: outcome.detail });
      await this.record(job, state('delivered', outcome.detail));
      await this.options.kv.delete(OUTBOUND_ROW, column);
      return;
    }
    const expired = attempts >= this.options.retry.attemptsMax || nowMs - job.enqueuedMs >= this.options.retry.expiryMs;
    if (outcome.kind === 'permanent' || expired) {
      const reason = outcome.kind === 'permanent' ? outcome.detail : `gave up after ${attempts} attempts: ${outcome.detail}`;
      log.warn('delivery failed, bouncing', { reason });
      await this.bounce(job, raw, reason);
      await this.record(job, state('failed', reason));
      await this.options.kv.delete(OUTBOUND_ROW, column);
      return;
    }
    const delay = Math.min(this.options.retry.delayMaxMs, this.options.retry.delayMs * 2 ** (attempts - 1));
    log.info('delivery deferred', { detail: outcome.detail, retryInMs: delay });
    await this.options.kv.put(OUTBOUND_ROW, column, encodeRecord({ ...job, attempts, nextAttemptMs: nowMs + delay } satisfies OutboundJob));
    await this.record(job, state('retrying', outcome.detail));
  }

  /** Tries the domain's hosts in order until one takes the message or refuses it for good. */
  private async deliver(job: OutboundJob, raw: Buffer): Promise<Outcome> {
    const domain = job.recipient.slice(job.recipient.lastIndexOf('@') + 1);
    let hosts: MailHost[];
    try {
      hosts = await this.options.lookup.hostsFor(domain);
    } catch (err) {
      return { kind: 'temporary', detail: (err as Error).message };
    }
    if (hosts.length === 0) return { kind: 'permanent', detail: `the domain ${domain} has no mail server` };
    let last: Outcome = { kind: 'temporary', detail: 'no mail host answered' };
    for (const host of hosts) {
      for (const address of host.addresses) {
        last = await this.sendTo(address, host.host, job, raw);
        if (last.kind !== 'temporary') return last;
      }
    }
    return last;
  }

  private async sendTo(address: string, hostName: string, job: OutboundJob, raw: Buffer): Promise<Outcome> {
    const localAddress = sourceAddressFor(this.options.sourceHost, address);
    const transport = nodemailer.createTransport({
      host: address,
      port: this.options.port,
      ...(localAddress !== undefined ? { localAddress } : {}),
      secure: false,
      name: this.options.mail.domain,
      connectionTimeout: SMTP_CONNECT_TIMEOUT_MS,
      greetingTimeout: SMTP_CONNECT_TIMEOUT_MS,
      socketTimeout: SMTP_SOCKET_TIMEOUT_MS,
      tls: { servername: hostName, rejectUnauthorized: false },
    });
    try {
      const info = await transport.sendMail({ envelope: { from: job.from, to: [job.recipient] }, raw });
      return { kind: 'delivered', detail: `accepted by ${hostName}: ${info.response}` };
    } catch (err) {
      const e = err as Error & { responseCode?: number; response?: string };
      const detail = `${hostName}: ${e.response ?? e.message}`;
      if (e.responseCode !== undefined && e.responseCode >= 500) return { kind: 'permanent', detail };
      return { kind: 'temporary', detail };
    } finally {
      transport.close();
    }
  }

  private async record(job: OutboundJob, state: DeliveryState): Promise<void> {
    await this.options.mail.recordDelivery(job.user, job.messageId, state).catch((err: unknown) => {
      // The Sent copy may be gone (deleted for good); the delivery itself is unaffected.
      if (!(err instanceof PennError && err.code === 'NOT_FOUND')) throw err;
    });
  }

  /** A bounce (RFC 3464 in spirit): who failed and why, with the original attached. */
  private async bounce(job: OutboundJob, raw: Buffer, reason: string): Promise<void> {
    const domain = this.options.mail.domain;
    const original = parseMessage(raw);
    const nowMs = this.now();
    const bounce = await composeMessage({
      from: { name: 'Mail Delivery System', address: `mailer-daemon@${domain}` },
      to: [{ name: '', address: `${job.user}@${domain}` }],
      cc: [],
      subject: `Undelivered mail: ${original.subject || '(no subject)'}`,
      text: `Your message could not be delivered to ${job.recipient}.\n\nReason: ${reason}\n\nThe original message is attached.\n`,
      attachments: [{ filename: 'original-message.eml', contentType: 'message/rfc822', content: raw }],
      messageId: `bounce-${job.messageId}-${nowMs.toString(36)}@${domain}`,
      dateMs: nowMs,
    });
    await this.options.mail.deliverLocal(job.user, bounce);
  }
}
