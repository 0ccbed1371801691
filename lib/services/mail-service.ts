/**
 * The webmail: a mailbox per user with Inbox, Sent and Trash, raw RFC 5322 messages kept in a
 * storage volume of their own (`mail:<user>`), a header index for listing, local delivery,
 * and an outbound queue in the store for other domains (the transport delivers from it).
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { PennError } from '../protocol/errors.js';
import { encodeRecord } from './json-record.js';
import type { KvTable } from './kv-table.js';
import { composeMessageStream, type OutgoingAttachment } from './mail-compose.js';
import { AttachmentStaging } from './mail-staging.js';
import { Mailbox, MAIL_PAGE_DEFAULT, type MailPage } from './mail-index.js';
import {
  isMessageId, MAIL_FOLDERS, newMessageId,
  sortKey, type DeliveryState, type FolderCounts, type MailFolder, type MessageSummary, type UidState,
} from './mail-records.js';
import { parseAddressList, type MailAddress } from './mime/address-list.js';
import { MessageScan } from './mime/message-scan.js';
import { parseMessage, type ParsedMessage } from './mime/mime-parser.js';
import { MailSearch, MAIL_SEARCH_PAGE_DEFAULT, SEARCH_PREFIX_BYTES_MAX, type MailQuery, type MailSearchPage } from './mail-search.js';
import { SendSlots } from './send-slots.js';
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
  /**
   * Id of the sender's draft this message (or newer draft) replaces: its attachments go along,
   * and it is deleted once the message is sent or the newer draft saved.
   */
  draftOf?: string;
}

/** Where a stored message is to go: a folder of a user, with its summary's own fields. */
interface MessageTarget {
  user: string;
  folder: MailFolder;
  seen: boolean;
  /** IMAP flags besides \Seen (an APPEND with flags). */
  flags?: string[];
  delivery: DeliveryState[];
  senderWarning?: string | null;
}

export interface ReadMessage {
  summary: MessageSummary;
  folder: MailFolder;
  parsed: ParsedMessage;
}

export class MailService {
  private readonly now: () => number;
  /** Bounds the webmail sends this service (one frontend) works on at once. */
  readonly sendSlots = new SendSlots();
  /** Where the attachments of webmail sends wait while their message is composed. */
  readonly staging: AttachmentStaging;

  constructor(
    private readonly kv: KvTable,
    private readonly storage: StorageService,
    private readonly accounts: AccountDirectory,
    readonly options: MailOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.staging = new AttachmentStaging((user) => this.volume(user), this.now);
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

  /** A page of `user`'s messages matching `query` (mail-search.ts), newest first. */
  async search(user: string, query: MailQuery, cursor: string | null, limit = MAIL_SEARCH_PAGE_DEFAULT): Promise<MailSearchPage> {
    const mailbox = this.mailbox(user);
    return new MailSearch(this.kv, mailbox).search(query, cursor, limit);
  }

  /**
   * The messages of `id`'s conversation in every folder of `user`, oldest first
   * (CONVERSATION_MESSAGES_MAX at most). Copies of one message (mail to oneself is in Inbox and
   * Sent) count once: the copy asked about, else the first found.
   */
  async conversation(user: string, id: string): Promise<(MessageSummary & { folder: MailFolder })[]> {
    checkId(id);
    const mailbox = this.mailbox(user);
    const { summary } = await mailbox.summary(id);
    if (summary.threadId === undefined) return [];
    const page = await new MailSearch(this.kv, mailbox).thread(summary.threadId, CONVERSATION_MESSAGES_MAX);
    const byMessage = new Map<string, MessageSummary & { folder: MailFolder }>();
    for (const m of page.reverse()) {
      const key = m.messageId ?? m.id;
      if (!byMessage.has(key) || m.id === id) byMessage.set(key, m);
    }
    return [...byMessage.values()].sort((a, b) => a.arrivedMs - b.arrivedMs || a.id.localeCompare(b.id));
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

  /** The raw bytes of one of the user's messages as a stream from the store, and their count. */
  async rawStream(user: string, id: string): Promise<{ size: number; stream: Readable }> {
    checkId(id);
    await this.mailbox(user).locate(id);
    const file = await this.volume(user).openFile(`/${id}.eml`);
    return { size: file.node.size, stream: file.node.size === 0 ? Readable.from([]) : file.read(0, file.node.size - 1) };
  }

  /**
   * The webmail's marks on a message: read or unread, starred or not (a star is IMAP's
   * \Flagged, so mail clients see it too). Either may be left out.
   */
  async mark(user: string, id: string, marks: { seen?: unknown; starred?: unknown }): Promise<MessageSummary> {
    checkId(id);
    for (const [name, value] of Object.entries(marks)) {
      if (value !== undefined && typeof value !== 'boolean') throw new PennError('BAD_REQUEST', `${name} must be true or false`, { reason: 'BAD_MARK' });
    }
    if (marks.seen === undefined && marks.starred === undefined) {
      throw new PennError('BAD_REQUEST', 'send {"seen": true|false} and/or {"starred": true|false}', { reason: 'BAD_MARK' });
    }
    return this.mailbox(user).update(id, (s) => {
      const flags = (s.flags ?? []).filter((f) => f !== FLAGGED);
      if (marks.starred === true || (marks.starred === undefined && (s.flags ?? []).includes(FLAGGED))) flags.push(FLAGGED);
      return { ...s, seen: typeof marks.seen === 'boolean' ? marks.seen : s.seen, flags };
    });
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

  /**
   * Waits until something a mail client sees changes in any of `user`'s folders (a message in
   * or out, read state, flags), or `waitMs` passes; the mailbox's stamp then. With `since` null
   * (or already different) it answers at once. A watcher polls the folders' change cells every
   * MAIL_CHANGES_POLL_MS; the webmail holds one such request open to see new mail at once.
   */
  async waitForChange(user: string, since: string | null, waitMs: number, signal?: AbortSignal): Promise<{ stamp: string; changed: boolean }> {
    const box = this.mailbox(user);
    const stampNow = async () => {
      const stamps = await Promise.all(MAIL_FOLDERS.map((f) => box.changeStamp(f)));
      return createHash('sha256').update(stamps.map((s) => s ?? '').join('|')).digest('base64url').slice(0, 22);
    };
    const deadline = Date.now() + Math.min(waitMs, MAIL_CHANGES_WAIT_MS_MAX);
    for (;;) {
      const stamp = await stampNow();
      if (since === null || stamp !== since) return { stamp, changed: since !== null };
      if (Date.now() >= deadline || signal?.aborted) return { stamp, changed: false };
      await sleep(Math.min(MAIL_CHANGES_POLL_MS, Math.max(0, deadline - Date.now())));
    }
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
    if (request.draftOf !== undefined) attachments.push(...await this.draftAttachments(user, request.draftOf));
    const nowMs = this.now();
    const id = newMessageId(nowMs);
    const composed = composeMessageStream({
      from: { name: '', address: `${user}@${this.domain}` }, to, cc, subject: request.subject, text: request.text,
      ...(request.html === undefined ? {} : { html: request.html }),
      attachments, messageId: `${id}@${this.domain}`, dateMs: nowMs,
      ...(inReplyTo === undefined ? {} : { inReplyTo }), ...(references === undefined ? {} : { references }),
    });
    const outside = recipients.filter((r) => this.localUser(r) === null);
    const delivery: DeliveryState[] = outside.map((recipient) => ({ recipient, state: 'queued', detail: 'waiting to be sent', attempts: 0, updatedMs: nowMs }));
    const sent = await this.storeStream({ user, folder: 'sent', seen: true, delivery }, id, composed, this.options.messageBytesMax,
      `a message of more than ${this.options.messageBytesMax} bytes cannot be sent`, nowMs);
    for (const r of recipients) {
      const local = this.localUser(r);
      if (local !== null) await this.copyStored(sent, user, { user: local, folder: 'inbox', seen: false, delivery: [] });
    }
    for (const recipient of outside) await this.enqueue({ user, messageId: id, from: `${user}@${this.domain}`, recipient, attempts: 0, nextAttemptMs: nowMs, enqueuedMs: nowMs });
    if (request.draftOf !== undefined) await this.dropDraft(user, request.draftOf);
    return sent;
  }

  /**
   * Saves a message being written into Drafts (flagged \Draft, read): recipients may be
   * missing or half-typed (what does not parse as an address is left out). With `draftOf`, the
   * newer draft takes the older one's attachments besides its own, and the older one goes.
   */
  async saveDraft(user: string, request: SendRequest): Promise<MessageSummary> {
    const lenient = (list: string[]) => list.flatMap((entry) => parseAddressList(entry)).slice(0, RECIPIENTS_MAX);
    const attachments = [...request.attachments];
    if (request.draftOf !== undefined) attachments.push(...await this.draftAttachments(user, request.draftOf));
    if (request.forwardOf !== undefined) {
      const original = (await this.read(user, request.forwardOf, false)).parsed;
      for (const a of original.attachments) attachments.push({ filename: a.filename, contentType: a.contentType, content: a.content });
    }
    let inReplyTo: string | undefined;
    if (request.inReplyTo !== undefined) inReplyTo = (await this.read(user, request.inReplyTo, false)).parsed.messageId ?? undefined;
    const nowMs = this.now();
    const id = newMessageId(nowMs);
    const composed = composeMessageStream({
      from: { name: '', address: `${user}@${this.domain}` }, to: lenient(request.to), cc: lenient(request.cc),
      subject: request.subject, text: request.text, ...(request.html === undefined ? {} : { html: request.html }),
      attachments, messageId: `${id}@${this.domain}`, dateMs: nowMs, ...(inReplyTo === undefined ? {} : { inReplyTo }),
    });
    const saved = await this.storeStream({ user, folder: 'drafts', seen: true, flags: [DRAFT_FLAG], delivery: [] }, id, composed,
      this.options.messageBytesMax, `a draft of more than ${this.options.messageBytesMax} bytes cannot be saved`, nowMs);
    if (request.draftOf !== undefined) await this.dropDraft(user, request.draftOf);
    return saved;
  }

  /** The attachments of draft `id` of `user` (BAD_REQUEST when it is not in Drafts). */
  private async draftAttachments(user: string, id: string): Promise<OutgoingAttachment[]> {
    const draft = await this.read(user, id, false);
    if (draft.folder !== 'drafts') throw new PennError('BAD_REQUEST', `message ${id} is not a draft`, { reason: 'NOT_A_DRAFT' });
    return draft.parsed.attachments.map((a) => ({ filename: a.filename, contentType: a.contentType, content: a.content }));
  }

  /** Deletes a replaced draft for good (one already gone, by a racing save, is fine). */
  private async dropDraft(user: string, id: string): Promise<void> {
    await this.removeForGood(user, id).catch((err: unknown) => {
      if (!(err instanceof PennError && err.code === 'NOT_FOUND')) throw err;
    });
  }

  /**
   * A message that arrived by SMTP, as its bytes arrive: written once, as they come, to its
   * first local recipient's Inbox (or the sender's Sent copy), then copied from the store to
   * each other one, chunk by chunk; outside recipients (only for an authenticated sender) go to
   * the outbound queue. Memory stays a few chunks whatever the size.
   */
  async accept(envelope: { from: string; recipients: string[]; authenticatedUser: string | null; senderWarning?: string | null },
    source: AsyncIterable<Uint8Array>): Promise<void> {
    const recipients = dedupe(envelope.recipients.map((r) => r.toLowerCase()));
    const outside = recipients.filter((r) => this.localUser(r) === null);
    if (outside.length > 0 && envelope.authenticatedUser === null) throw new PennError('FORBIDDEN', 'relaying needs a logged-in sender');
    const targets: MessageTarget[] = [];
    for (const r of recipients) {
      const local = this.localUser(r);
      if (local === null) continue;
      if (!(await this.accounts.exists(local))) throw new PennError('NOT_FOUND', `there is no user ${r}`);
      targets.push({ user: local, folder: 'inbox', seen: false, delivery: [], senderWarning: envelope.senderWarning ?? null });
    }
    // A logged-in client submits as the webmail does: the sender keeps a Sent copy, whoever
    // the recipients are.
    const nowMs = this.now();
    const sender = envelope.authenticatedUser === null ? null : envelope.authenticatedUser.toLowerCase();
    if (sender !== null) {
      const delivery: DeliveryState[] = outside.map((recipient) => ({ recipient, state: 'queued', detail: 'waiting to be sent', attempts: 0, updatedMs: nowMs }));
      targets.push({ user: sender, folder: 'sent', seen: true, delivery });
    }
    if (targets.length === 0) throw new PennError('BAD_REQUEST', 'the message has no recipient here');
    const first = targets[0]!;
    const stored = await this.storeStream(first, newMessageId(nowMs), source, this.options.messageBytesMax + TRACE_HEADER_BYTES_MAX,
      `at most ${this.options.messageBytesMax} bytes`, nowMs);
    let sentId = first.folder === 'sent' ? stored.id : null;
    for (const target of targets.slice(1)) {
      const copy = await this.copyStored(stored, first.user, target);
      if (target.folder === 'sent') sentId = copy.id;
    }
    if (sender === null || sentId === null) return;
    for (const recipient of outside) await this.enqueue({ user: sender, messageId: sentId, from: envelope.from, recipient, attempts: 0, nextAttemptMs: nowMs, enqueuedMs: nowMs });
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
    return this.storeStream({ user, folder, seen: extra.seen, flags: extra.flags, delivery: extra.delivery }, id, [raw], Number.MAX_SAFE_INTEGER, '', extra.arrivedMs);
  }

  /**
   * Writes a message into `target` from a stream, learning its summary on the way (message-scan.ts);
   * past `bytesMax` the write stops with TOO_LARGE (`tooLarge` says why) and nothing is kept.
   */
  private async storeStream(target: MessageTarget, id: string, source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, bytesMax: number,
    tooLarge: string, arrivedMs: number): Promise<MessageSummary> {
    const scan = new MessageScan();
    // The first bytes are kept for the search index (its body words come from the text at the start).
    const prefix: Buffer[] = [];
    let prefixBytes = 0;
    async function* scanned(): AsyncIterable<Uint8Array> {
      for await (const piece of source) {
        scan.push(piece);
        if (scan.size > bytesMax) throw new PennError('TOO_LARGE', tooLarge);
        if (prefixBytes < SEARCH_PREFIX_BYTES_MAX) {
          const kept = Buffer.from(piece.subarray(0, SEARCH_PREFIX_BYTES_MAX - prefixBytes));
          prefix.push(kept);
          prefixBytes += kept.length;
        }
        yield piece;
      }
    }
    await this.volume(target.user).writeFile(`/${id}.eml`, scanned(), null);
    const { head } = scan.finish();
    // The header section alone, as a message of its own: what a listing shows.
    const parsed = parseMessage(Buffer.concat([head, Buffer.from('\r\n')]));
    const summary: MessageSummary = {
      id,
      from: parsed.from,
      to: parsed.to,
      cc: parsed.cc,
      subject: parsed.subject,
      dateMs: parsed.dateMs ?? arrivedMs,
      threadId: parsed.references[0] ?? parsed.inReplyTo ?? parsed.messageId ?? `${id}@${this.domain}`,
      arrivedMs,
      size: scan.size,
      wireBytes: scan.wireBytes,
      seen: target.seen,
      ...(parsed.messageId === null ? {} : { messageId: parsed.messageId }),
      ...(target.flags === undefined || target.flags.length === 0 ? {} : { flags: target.flags }),
      hasAttachments: scan.hasAttachments,
      delivery: target.delivery,
      ...(target.senderWarning ? { senderWarning: target.senderWarning } : {}),
    };
    await this.fileMessage(target, summary, prefix);
    return summary;
  }

  /** Copies a stored message of `owner` into `target`, chunk by chunk through the store's streams. */
  private async copyStored(stored: MessageSummary, owner: string, target: MessageTarget): Promise<MessageSummary> {
    const file = await this.volume(owner).openFile(`/${stored.id}.eml`);
    const arrivedMs = this.now();
    const id = newMessageId(arrivedMs);
    const source = file.node.size === 0 ? Readable.from([]) : file.read(0, file.node.size - 1);
    await this.volume(target.user).writeFile(`/${id}.eml`, source, file.node.size);
    // A copy is a new message of its own folder: no UID or flags of the original come along.
    const { senderWarning: _warning, uid: _uid, flags: _flags, ...rest } = stored;
    const summary: MessageSummary = {
      ...rest, id, arrivedMs, seen: target.seen, delivery: target.delivery,
      ...(target.senderWarning ? { senderWarning: target.senderWarning } : {}),
    };
    const prefix = file.node.size === 0 ? [] : await collect(file.read(0, Math.min(file.node.size, SEARCH_PREFIX_BYTES_MAX) - 1));
    await this.fileMessage(target, summary, prefix);
    return summary;
  }

  /**
   * Files a stored message in its folder: into the search index first (words of its headers,
   * and of the text in `prefix`, its first bytes), then the mailbox, where it becomes visible.
   */
  private async fileMessage(target: MessageTarget, summary: MessageSummary, prefix: Buffer[]): Promise<void> {
    const mailbox = this.mailbox(target.user);
    const text = prefix.length === 0 ? null : parseMessage(Buffer.concat(prefix)).text;
    const snippet = snippetOf(text);
    if (snippet !== '') summary.snippet = snippet;
    await new MailSearch(this.kv, mailbox).add(summary, text);
    await mailbox.add(target.folder, summary);
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

/** The bytes of a stream (a bounded one: the caller limits its length). */
async function collect(stream: AsyncIterable<Uint8Array>): Promise<Buffer[]> {
  const pieces: Buffer[] = [];
  for await (const piece of stream) pieces.push(Buffer.from(piece));
  return pieces;
}

/** The IMAP flag of a draft (RFC 3501 §2.3.2), which mail clients show in their Drafts. */
const DRAFT_FLAG = '\\Draft';
/** The IMAP flag the webmail's star is (RFC 3501 §2.3.2). */
const FLAGGED = '\\Flagged';
/** Characters of a message's snippet in the list. */
export const SNIPPET_CHARS_MAX = 160;

/** The start of a text body as the list shows it: quoted lines left out, white space folded. */
function snippetOf(text: string | null): string {
  if (text === null) return '';
  const lines = text.split(/\r?\n/).filter((line) => !line.startsWith('>'));
  const folded = lines.join(' ').replace(/\s+/g, ' ').trim();
  return folded.length <= SNIPPET_CHARS_MAX ? folded : `${folded.slice(0, SNIPPET_CHARS_MAX - 1).trimEnd()}…`;
}

/** Messages of one conversation shown beside a message. */
export const CONVERSATION_MESSAGES_MAX = 100;
/** Longest one wait for a mailbox change may last (a long poll answers before proxies give up on it). */
export const MAIL_CHANGES_WAIT_MS_MAX = 25_000;
/** How often a waiting watcher looks at the change cells: new mail shows within this and a round trip. */
export const MAIL_CHANGES_POLL_MS = 500;
