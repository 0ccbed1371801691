/**
 * The webmail: a mailbox per user with Inbox, Sent and Trash, raw RFC 5322 messages kept in a
 * storage volume of their own (`mail:<user>`), a header index for listing, local delivery,
 * and an outbound queue in the store for other domains (the transport delivers from it).
 */
import { Readable } from 'node:stream';
import { PennError } from '../protocol/errors.js';
import { encodeRecord } from './json-record.js';
import type { KvTable } from './kv-table.js';
import { composeMessage, type OutgoingAttachment } from './mail-compose.js';
import { Mailbox, MAIL_PAGE_DEFAULT, type MailPage } from './mail-index.js';
import {
  isMessageId, MAIL_FOLDERS, newMessageId,
  sortKey, type DeliveryState, type FolderCounts, type MailFolder, type MessageSummary, type UidState,
} from './mail-records.js';
import { parseAddressList, type MailAddress } from './mime/address-list.js';
import { parseMessage, type ParsedMessage } from './mime/mime-parser.js';
import { wireSize } from './mime/wire-size.js';
import { rowKey } from './row-keys.js';
import type { StorageService, Volume } from './storage-service.js';

export interface MailOptions {
  /** Addresses `user@domain` are local. */
  domain: string;
  messageBytesMax: number;
  /** Bytes of mail each user may keep. */
  quotaBytes: number;
  now?: () => number;
}

/** What the mail service needs to know of accounts. */
export interface AccountDirectory {
  exists(username: string): Promise<boolean>;
}

/** Recipients one message may have (to and cc together). */
export const RECIPIENTS_MAX = 100;
/**
 * Room over messageBytesMax for the Received header the SMTP server adds (RFC 5321 §4.4): the
 * limit advertised with SIZE (RFC 1870) holds for the client's bytes, not for our trace.
 */
export const TRACE_HEADER_BYTES_MAX = 1024;
/** Messages POP3 offers in one session, and IMAP in one folder (the newest ones). */
export const MAILDROP_MESSAGES_MAX = 10_000;

/**
 * The newest Sent messages an APPEND to Sent is compared with: a client that submitted by SMTP
 * AUTH (which already filed a Sent copy) and then saves its own copy gets the one copy.
 */
export const SENT_DUPLICATE_WINDOW = 50;

/** UID writes one listing has in flight when a folder's messages first get their UIDs. */
export const UID_WRITES_IN_FLIGHT_MAX = 16;

/** A folder as IMAP numbers it: every message with its UID, in UID order. */
export interface UidListing extends UidState {
  messages: MessageSummary[];
}

/** What an IMAP APPEND gives besides the bytes. */
export interface AppendRequest {
  seen: boolean;
  flags: string[];
  /** The INTERNALDATE; now when absent. */
  arrivedMs?: number;
}

/** A job of the outbound queue: one message to one outside recipient. */
export interface OutboundJob {
  user: string;
  messageId: string;
  from: string;
  recipient: string;
  attempts: number;
  nextAttemptMs: number;
  enqueuedMs: number;
}

/** The row of the outbound queue; columns are `<messageId>/<recipient>`. */
export const OUTBOUND_ROW = rowKey('outbound', 'queue');

export interface SendRequest {
  to: string[];
  cc: string[];
  subject: string;
  text: string;
  html?: string;
  attachments: OutgoingAttachment[];
  /** Id of one of the sender's messages being answered. */
  inReplyTo?: string;
  /** Id of one of the sender's messages being forwarded (its attachments go along). */
  forwardOf?: string;
}

export interface ReadMessage {
  summary: MessageSummary;
  folder: MailFolder;
  parsed: ParsedMessage;
}

export class MailService {
  private readonly now: () => number;

  constructor(
    private readonly kv: KvTable,
    private readonly storage: StorageService,
    private readonly accounts: AccountDirectory,
    readonly options: MailOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  get domain(): string {
    return this.options.domain;
  }

  private mailbox(user: string): Mailbox {
    return new Mailbox(this.kv, user);
  }

  private volume(user: string): Volume {
    return this.storage.volume(`mail:${user}`, this.options.quotaBytes);
  }

  async listFolder(user: string, folder: string, cursor: string | null, limit = MAIL_PAGE_DEFAULT): Promise<MailPage> {
    return this.mailbox(user).list(checkFolder(folder), cursor, limit);
  }

  async counts(user: string): Promise<Record<MailFolder, FolderCounts>> {
    return this.mailbox(user).counts();
  }

  /** Reads and parses a message; `markSeen` flags it read (the webmail's view does). */
  async read(user: string, id: string, markSeen: boolean): Promise<ReadMessage> {
    checkId(id);
    const box = this.mailbox(user);
    let { location, summary } = await box.summary(id);
    const raw = await this.raw(user, id);
    if (markSeen && !summary.seen) summary = await box.update(id, (s) => ({ ...s, seen: true }));
    return { summary, folder: location.folder, parsed: parseMessage(raw) };
  }

  /** The raw bytes of one of the user's messages. */
  async raw(user: string, id: string): Promise<Buffer> {
    checkId(id);
    await this.mailbox(user).locate(id);
    const file = await this.volume(user).openFile(`/${id}.eml`);
    const chunks: Buffer[] = [];
    for await (const chunk of file.read(0, file.node.size - 1)) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }

  /** Marks a message seen (POP3 RETR does, as the webmail's view would). */
  async markSeen(user: string, id: string): Promise<void> {
    await this.mailbox(user).update(id, (s) => (s.seen ? s : { ...s, seen: true }));
  }

  /** Deletion as users expect it: to Trash, and from Trash for good. */
  async delete(user: string, id: string): Promise<'trashed' | 'removed'> {
    checkId(id);
    const box = this.mailbox(user);
    const location = await box.locate(id);
    if (location.folder !== 'trash') {
      await box.move(id, 'trash');
      return 'trashed';
    }
    await this.removeForGood(user, id);
    return 'removed';
  }

  /** Takes a message out of Trash, back to the folder it was deleted from. */
  async restore(user: string, id: string): Promise<MailFolder> {
    checkId(id);
    const box = this.mailbox(user);
    const location = await box.locate(id);
    if (location.folder !== 'trash') throw new PennError('CONFLICT', 'the message is not in Trash', { reason: 'NOT_IN_TRASH' });
    const to = location.restoreTo ?? 'inbox';
    await box.move(id, to);
    return to;
  }

  /** Removes a message and its bytes (POP3 UPDATE, or delete in Trash). */
  async removeForGood(user: string, id: string): Promise<void> {
    checkId(id);
    await this.mailbox(user).remove(id);
    await this.volume(user).remove(`/${id}.eml`).catch((err: unknown) => {
      if (!(err instanceof PennError && err.code === 'NOT_FOUND')) throw err;
    });
  }

  /** The Inbox as POP3 numbers it: oldest first, at most MAILDROP_MESSAGES_MAX. */
  async maildrop(user: string): Promise<MessageSummary[]> {
    return this.mailbox(user).all('inbox', MAILDROP_MESSAGES_MAX);
  }

  /** A value that changes with every change a mail client sees in a folder (IMAP IDLE polls it). */
  async changeStamp(user: string, folder: string): Promise<string | null> {
    return this.mailbox(user).changeStamp(checkFolder(folder));
  }

  /**
   * A folder with IMAP UIDs (RFC 3501 §2.3.1.1): messages that have none yet get fresh ones,
   * oldest first. Callers serialise calls per user (two at once could give out UIDs out of order).
   */
  async uidListing(user: string, folderName: string): Promise<UidListing> {
    const folder = checkFolder(folderName);
    const box = this.mailbox(user);
    const all = await box.all(folder, MAILDROP_MESSAGES_MAX);
    const missing = all.filter((s) => s.uid === undefined);
    if (missing.length > 0) {
      const reserved = await box.reserveUids(folder, missing.length, this.now());
      // Each message's UID is fixed by its place in `missing`, so the writes may run side by side.
      for (let start = 0; start < missing.length; start += UID_WRITES_IN_FLIGHT_MAX) {
        await Promise.all(missing.slice(start, start + UID_WRITES_IN_FLIGHT_MAX).map(async (s, i) => {
          const uid = await box.assignUid(folder, sortKey(s.arrivedMs, s.id), reserved.uidNext + start + i);
          if (uid !== null) s.uid = uid;
        }));
      }
    }
    const state = await box.uidState(folder, this.now());
    const messages = all.filter((s) => s.uid !== undefined).sort((a, b) => a.uid! - b.uid!);
    return { ...state, messages };
  }

  /**
   * Gives one message its UID in its folder now (IMAP UIDPLUS: APPEND and COPY answer with it).
   * Callers serialise it with uidListing per user, as for that.
   */
  async giveUid(user: string, id: string): Promise<UidState & { uid: number }> {
    checkId(id);
    const box = this.mailbox(user);
    const { location, summary } = await box.summary(id);
    if (summary.uid !== undefined) return { ...(await box.uidState(location.folder, this.now())), uid: summary.uid };
    const reserved = await box.reserveUids(location.folder, 1, this.now());
    const uid = await box.assignUid(location.folder, location.sortKey, reserved.uidNext);
    if (uid === null) throw new PennError('NOT_FOUND', `no message ${id}`);
    return { uidValidity: reserved.uidValidity, uidNext: reserved.uidNext + 1, uid };
  }

  /** Sets a message's \Seen state and its other IMAP flags. */
  async setFlags(user: string, id: string, seen: boolean, flags: readonly string[]): Promise<MessageSummary> {
    checkId(id);
    return this.mailbox(user).update(id, (s) => ({ ...s, seen, flags: [...flags] }));
  }

  /** IMAP APPEND (a client's Sent copy or draft): files the message as it is. */
  async append(user: string, folderName: string, raw: Buffer, request: AppendRequest): Promise<MessageSummary> {
    const folder = checkFolder(folderName);
    if (raw.length > this.options.messageBytesMax) throw new PennError('TOO_LARGE', `the message is ${raw.length} bytes; at most ${this.options.messageBytesMax} can be stored`);
    if (folder === 'sent') {
      const messageId = parseMessage(raw).messageId;
      const recent = messageId === null ? [] : (await this.mailbox(user).list('sent', null, SENT_DUPLICATE_WINDOW)).messages;
      const same = recent.find((s) => s.messageId !== undefined && s.messageId === messageId);
      if (same !== undefined) return same;
    }
    const nowMs = this.now();
    return this.store(user, folder, newMessageId(nowMs), raw, { seen: request.seen, flags: request.flags, delivery: [], arrivedMs: request.arrivedMs ?? nowMs });
  }

  /** IMAP COPY: a new message (its own id) with the same bytes, flags and arrival time. */
  async copy(user: string, id: string, folderName: string): Promise<MessageSummary> {
    const folder = checkFolder(folderName);
    const { summary } = await this.mailbox(user).summary(id);
    const raw = await this.raw(user, id);
    return this.store(user, folder, newMessageId(this.now()), raw, { seen: summary.seen, flags: summary.flags ?? [], delivery: [], arrivedMs: summary.arrivedMs });
  }

  /** Moves a message to a folder (IMAP MOVE; the webmail's delete moves to Trash). */
  async move(user: string, id: string, folderName: string): Promise<void> {
    checkId(id);
    await this.mailbox(user).move(id, checkFolder(folderName));
  }

  /**
   * Sends a message written in the webmail: checks every recipient first (unknown local users
   * refuse the whole message), stores the Sent copy, delivers to local Inboxes and queues the
   * rest. Returns the Sent copy's summary.
   */
  async send(user: string, request: SendRequest): Promise<MessageSummary> {
    const to = addresses(request.to, 'to');
    const cc = addresses(request.cc, 'cc');
    if (to.length + cc.length === 0) throw new PennError('BAD_REQUEST', 'a message needs at least one recipient', { reason: 'NO_RECIPIENTS' });
    if (to.length + cc.length > RECIPIENTS_MAX) throw new PennError('BAD_REQUEST', `at most ${RECIPIENTS_MAX} recipients`, { reason: 'TOO_MANY_RECIPIENTS' });
    const recipients = dedupe([...to, ...cc].map((a) => a.address));
    for (const r of recipients) {
      const local = this.localUser(r);
      if (local !== null && !(await this.accounts.exists(local))) {
        throw new PennError('BAD_REQUEST', `there is no user ${r}`, { reason: 'UNKNOWN_RECIPIENT' });
      }
    }
    const attachments = [...request.attachments];
    let inReplyTo: string | undefined;
    let references: string[] | undefined;
    if (request.inReplyTo !== undefined) {
      const original = (await this.read(user, request.inReplyTo, false)).parsed;
      if (original.messageId !== null) {
        inReplyTo = original.messageId;
        references = [...original.references, original.messageId];
      }
    }
    if (request.forwardOf !== undefined) {
      const original = (await this.read(user, request.forwardOf, false)).parsed;
      for (const a of original.attachments) attachments.push({ filename: a.filename, contentType: a.contentType, content: a.content });
    }
    const nowMs = this.now();
    const id = newMessageId(nowMs);
    const raw = await composeMessage({
      from: { name: '', address: `${user}@${this.domain}` }, to, cc, subject: request.subject, text: request.text,
      ...(request.html === undefined ? {} : { html: request.html }),
      attachments, messageId: `${id}@${this.domain}`, dateMs: nowMs,
      ...(inReplyTo === undefined ? {} : { inReplyTo }), ...(references === undefined ? {} : { references }),
    });
    if (raw.length > this.options.messageBytesMax) {
      throw new PennError('TOO_LARGE', `the message is ${raw.length} bytes; at most ${this.options.messageBytesMax} can be sent`);
    }
    const outside = recipients.filter((r) => this.localUser(r) === null);
    const delivery: DeliveryState[] = outside.map((recipient) => ({ recipient, state: 'queued', detail: 'waiting to be sent', attempts: 0, updatedMs: nowMs }));
    const sent = await this.store(user, 'sent', id, raw, { seen: true, delivery, arrivedMs: nowMs });
    for (const r of recipients) {
      const local = this.localUser(r);
      if (local !== null) await this.store(local, 'inbox', newMessageId(this.now()), raw, { seen: false, delivery: [], arrivedMs: this.now() });
    }
    for (const recipient of outside) await this.enqueue({ user, messageId: id, from: `${user}@${this.domain}`, recipient, attempts: 0, nextAttemptMs: nowMs, enqueuedMs: nowMs });
    return sent;
  }

  /**
   * A message that arrived by SMTP: delivered to each local recipient's Inbox; outside
   * recipients (only for an authenticated sender) go to the outbound queue.
   */
  async accept(envelope: { from: string; recipients: string[]; authenticatedUser: string | null }, raw: Buffer): Promise<void> {
    if (raw.length > this.options.messageBytesMax + TRACE_HEADER_BYTES_MAX) throw new PennError('TOO_LARGE', `at most ${this.options.messageBytesMax} bytes`);
    const recipients = dedupe(envelope.recipients.map((r) => r.toLowerCase()));
    const outside = recipients.filter((r) => this.localUser(r) === null);
    if (outside.length > 0 && envelope.authenticatedUser === null) throw new PennError('FORBIDDEN', 'relaying needs a logged-in sender');
    for (const r of recipients) {
      const local = this.localUser(r);
      if (local === null) continue;
      if (!(await this.accounts.exists(local))) throw new PennError('NOT_FOUND', `there is no user ${r}`);
      await this.store(local, 'inbox', newMessageId(this.now()), raw, { seen: false, delivery: [], arrivedMs: this.now() });
    }
    // A logged-in client submits as the webmail does: the sender keeps a Sent copy, whoever
    // the recipients are.
    if (envelope.authenticatedUser !== null) {
      const user = envelope.authenticatedUser.toLowerCase();
      const nowMs = this.now();
      const id = newMessageId(nowMs);
      const delivery: DeliveryState[] = outside.map((recipient) => ({ recipient, state: 'queued', detail: 'waiting to be sent', attempts: 0, updatedMs: nowMs }));
      await this.store(user, 'sent', id, raw, { seen: true, delivery, arrivedMs: nowMs });
      for (const recipient of outside) await this.enqueue({ user, messageId: id, from: envelope.from, recipient, attempts: 0, nextAttemptMs: nowMs, enqueuedMs: nowMs });
    }
  }

  /** Records what became of a queued delivery on the Sent copy. */
  async recordDelivery(user: string, messageId: string, state: DeliveryState): Promise<void> {
    await this.mailbox(user).update(messageId, (s) => ({
      ...s,
      delivery: s.delivery.map((d) => (d.recipient === state.recipient ? state : d)),
    }));
  }

  /** A local notice (such as a bounce) dropped straight into a user's Inbox. */
  async deliverLocal(user: string, raw: Buffer): Promise<void> {
    await this.store(user, 'inbox', newMessageId(this.now()), raw, { seen: false, delivery: [], arrivedMs: this.now() });
  }

  /** `ann@DOMAIN` -> "ann"; null for other domains. */
  localUser(address: string): string | null {
    const at = address.lastIndexOf('@');
    if (at === -1) return null;
    return address.slice(at + 1).toLowerCase() === this.domain ? address.slice(0, at).toLowerCase() : null;
  }

  private async store(user: string, folder: MailFolder, id: string, raw: Buffer,
    extra: { seen: boolean; flags?: string[]; delivery: DeliveryState[]; arrivedMs: number }): Promise<MessageSummary> {
    await this.volume(user).writeFile(`/${id}.eml`, Readable.from([raw]), raw.length);
    const parsed = parseMessage(raw);
    const summary: MessageSummary = {
      id,
      from: parsed.from,
      to: parsed.to,
      cc: parsed.cc,
      subject: parsed.subject,
      dateMs: parsed.dateMs ?? extra.arrivedMs,
      arrivedMs: extra.arrivedMs,
      size: raw.length,
      wireBytes: wireSize(raw),
      seen: extra.seen,
      ...(parsed.messageId === null ? {} : { messageId: parsed.messageId }),
      ...(extra.flags === undefined || extra.flags.length === 0 ? {} : { flags: extra.flags }),
      hasAttachments: parsed.attachments.some((a) => !a.inline || a.contentId === null),
      delivery: extra.delivery,
    };
    await this.mailbox(user).add(folder, summary);
    return summary;
  }

  private async enqueue(job: OutboundJob): Promise<void> {
    await this.kv.put(OUTBOUND_ROW, `${job.messageId}/${job.recipient}`, encodeRecord(job));
  }
}

function checkFolder(folder: string): MailFolder {
  const f = folder.toLowerCase();
  if (!MAIL_FOLDERS.includes(f as MailFolder)) throw new PennError('NOT_FOUND', `no folder "${folder}"; the folders are ${MAIL_FOLDERS.join(', ')}`);
  return f as MailFolder;
}

function checkId(id: string): void {
  if (!isMessageId(id)) throw new PennError('NOT_FOUND', `no message ${id}`);
}

function addresses(list: string[], field: string): MailAddress[] {
  const out: MailAddress[] = [];
  for (const entry of list) {
    const parsed = parseAddressList(entry);
    if (parsed.length === 0) throw new PennError('BAD_REQUEST', `"${entry.slice(0, 100)}" in ${field} is not an e-mail address`, { reason: 'BAD_ADDRESS' });
    out.push(...parsed);
  }
  return out;
}

function dedupe(list: string[]): string[] {
  return [...new Set(list.map((a) => a.toLowerCase()))];
}
