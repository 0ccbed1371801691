/**
 * A user's mailbox in the store: per folder an index row (one column per message, newest
 * first, holding its summary), a row of message locations by id, and a counts cell per folder.
 * Raw messages live elsewhere (a storage volume); this is what makes a folder of 10,000
 * messages list its first page with one column listing and a page of reads.
 */
import { PennError } from '../protocol/errors.js';
import { casUpdate } from './cas-update.js';
import { encodeRecord } from './json-record.js';
import type { KvTable } from './kv-table.js';
import { randomBytes } from 'node:crypto';
import {
  decodeCounts, decodeLocation, decodeSummary, decodeUidState, MAIL_FOLDERS, sortKey,
  type FolderCounts, type MailFolder, type MessageLocation, type MessageSummary, type UidState,
} from './mail-records.js';
import { rowKey } from './row-keys.js';

/** Messages one listing page holds at most. */
export const MAIL_PAGE_MAX = 100;
export const MAIL_PAGE_DEFAULT = 50;

export interface MailPage {
  messages: MessageSummary[];
  /** Pass back as `cursor` for the next (older) page; null at the end. */
  nextCursor: string | null;
}

export class Mailbox {
  constructor(private readonly kv: KvTable, readonly user: string) {}

  private indexRow(folder: MailFolder): string {
    return rowKey('mailbox', `${this.user}/index/${folder}`);
  }

  private locationRow(): string {
    return rowKey('mailbox', `${this.user}/where`);
  }

  private countsRow(): string {
    return rowKey('mailbox', `${this.user}/counts`);
  }

  /** One cell per folder: its UIDVALIDITY and UIDNEXT. */
  private uidsRow(): string {
    return rowKey('mailbox', `${this.user}/uids`);
  }

  /**
   * One cell per folder rewritten after every change a mail client sees there (a message in or
   * out, its read state or flags), so a watcher (IMAP IDLE) polls one cell, not a folder.
   */
  private changesRow(): string {
    return rowKey('mailbox', `${this.user}/changes`);
  }

  /** A value that differs after any such change to `folder` (null before the first). */
  async changeStamp(folder: MailFolder): Promise<string | null> {
    const bytes = await this.kv.get(this.changesRow(), folder);
    return bytes === null ? null : bytes.toString('latin1');
  }

  private async touch(...folders: MailFolder[]): Promise<void> {
    for (const folder of folders) {
      await this.kv.put(this.changesRow(), folder, Buffer.from(`${Date.now()}.${randomBytes(6).toString('hex')}`, 'latin1'));
    }
  }

  /** A folder's UID state, made on first use with a UIDVALIDITY from the clock (seconds). */
  async uidState(folder: MailFolder, nowMs: number): Promise<UidState> {
    return this.reserveUids(folder, 0, nowMs);
  }

  /**
   * Takes `count` fresh UIDs of `folder` (compare-and-put on its UID cell, so two sessions never
   * get the same ones) and returns the state before the reservation: UIDs uidNext..uidNext+count-1.
   */
  async reserveUids(folder: MailFolder, count: number, nowMs: number): Promise<UidState> {
    return casUpdate(this.kv, this.uidsRow(), folder, (current) => {
      const before = current === null ? { uidValidity: Math.max(1, Math.floor(nowMs / 1000) % 2 ** 32), uidNext: 1 } : decodeUidState(current);
      if (current !== null && count === 0) return { skip: true, result: before };
      return { next: encodeRecord({ uidValidity: before.uidValidity, uidNext: before.uidNext + count } satisfies UidState), result: before };
    });
  }

  /** Files a new message in `folder`. The location is written last: until then it is invisible by id. */
  async add(folder: MailFolder, summary: MessageSummary): Promise<void> {
    const key = sortKey(summary.arrivedMs, summary.id);
    await this.kv.put(this.indexRow(folder), key, encodeRecord(summary));
    await this.bump(folder, 1, summary.seen ? 0 : 1);
    await this.kv.put(this.locationRow(), summary.id, encodeRecord({ folder, sortKey: key, restoreTo: null } satisfies MessageLocation));
    await this.touch(folder);
  }

  /** Where message `id` is; NOT_FOUND if this user has no such message. */
  async locate(id: string): Promise<MessageLocation> {
    const bytes = await this.kv.get(this.locationRow(), id);
    if (bytes === null) throw new PennError('NOT_FOUND', `no message ${id}`);
    return decodeLocation(bytes);
  }

  async summary(id: string): Promise<{ location: MessageLocation; summary: MessageSummary }> {
    const location = await this.locate(id);
    const bytes = await this.kv.get(this.indexRow(location.folder), location.sortKey);
    if (bytes === null) throw new PennError('NOT_FOUND', `no message ${id}`);
    return { location, summary: decodeSummary(bytes) };
  }

  /** Changes a message's summary in place (seen flag, delivery state); counts follow. */
  async update(id: string, change: (s: MessageSummary) => MessageSummary): Promise<MessageSummary> {
    const location = await this.locate(id);
    let wasSeen = false;
    let flagsBefore = '';
    const next = await casUpdate(this.kv, this.indexRow(location.folder), location.sortKey, (current) => {
      if (current === null) throw new PennError('NOT_FOUND', `no message ${id}`);
      const before = decodeSummary(current);
      wasSeen = before.seen;
      flagsBefore = JSON.stringify(before.flags ?? []);
      const after = change(before);
      return { next: encodeRecord(after), result: after };
    });
    if (wasSeen !== next.seen) await this.bump(location.folder, 0, next.seen ? -1 : 1);
    // A delivery state changes nothing a mail client shows.
    if (wasSeen !== next.seen || flagsBefore !== JSON.stringify(next.flags ?? [])) await this.touch(location.folder);
    return next;
  }

  /**
   * Gives the message filed under `key` in `folder` an IMAP UID unless it has one; returns the
   * UID it has then, or null when it is no longer there (moved or removed meanwhile).
   */
  async assignUid(folder: MailFolder, key: string, uid: number): Promise<number | null> {
    return casUpdate(this.kv, this.indexRow(folder), key, (current) => {
      if (current === null) return { skip: true, result: null };
      const s = decodeSummary(current);
      if (s.uid !== undefined) return { skip: true, result: s.uid };
      return { next: encodeRecord({ ...s, uid }), result: uid };
    });
  }

  /** Moves a message to another folder (Trash remembers where it came from). */
  async move(id: string, to: MailFolder): Promise<void> {
    const { location, summary } = await this.summary(id);
    if (location.folder === to) return;
    // RFC 3501 §2.3.1.1: a UID names a message in one folder; the target folder gives its own.
    const { uid: _uid, ...moved } = summary;
    await this.kv.put(this.indexRow(to), location.sortKey, encodeRecord(moved));
    const next: MessageLocation = { folder: to, sortKey: location.sortKey, restoreTo: to === 'trash' ? location.folder : null };
    await this.kv.put(this.locationRow(), id, encodeRecord(next));
    await this.kv.delete(this.indexRow(location.folder), location.sortKey);
    const unread = summary.seen ? 0 : 1;
    await this.bump(location.folder, -1, -unread);
    await this.bump(to, 1, unread);
    await this.touch(location.folder, to);
  }

  /** Forgets a message: its index entry, location and counts (the caller removes the bytes). */
  async remove(id: string): Promise<MessageSummary> {
    const { location, summary } = await this.summary(id);
    await this.kv.delete(this.locationRow(), id);
    if (await this.kv.delete(this.indexRow(location.folder), location.sortKey)) {
      await this.bump(location.folder, -1, summary.seen ? 0 : -1);
    }
    await this.touch(location.folder);
    return summary;
  }

  /** A page of a folder, newest first, after `cursor`. */
  async list(folder: MailFolder, cursor: string | null, limit: number): Promise<MailPage> {
    const page = Math.max(1, Math.min(MAIL_PAGE_MAX, limit));
    const { columns, more } = await this.kv.listColumns(this.indexRow(folder), { after: cursor, limit: page });
    const values = await Promise.all(columns.map((c) => this.kv.get(this.indexRow(folder), c.column)));
    const messages = values.flatMap((v) => (v === null ? [] : [decodeSummary(v)]));
    return { messages, nextCursor: more && columns.length > 0 ? columns[columns.length - 1]!.column : null };
  }

  /** Every entry of a folder, oldest first (for POP3, which numbers a whole maildrop). */
  async all(folder: MailFolder, entriesMax: number): Promise<MessageSummary[]> {
    const out: MessageSummary[] = [];
    let cursor: string | null = null;
    for (;;) {
      const page = await this.list(folder, cursor, MAIL_PAGE_MAX);
      out.push(...page.messages);
      if (page.nextCursor === null || out.length >= entriesMax) break;
      cursor = page.nextCursor;
    }
    return out.slice(0, entriesMax).reverse();
  }

  async counts(): Promise<Record<MailFolder, FolderCounts>> {
    const entries = await Promise.all(MAIL_FOLDERS.map(async (f) => [f, decodeCounts(await this.kv.get(this.countsRow(), f))] as const));
    return Object.fromEntries(entries) as Record<MailFolder, FolderCounts>;
  }

  private async bump(folder: MailFolder, total: number, unread: number): Promise<void> {
    if (total === 0 && unread === 0) return;
    await casUpdate(this.kv, this.countsRow(), folder, (current) => {
      const c = decodeCounts(current);
      const next = { total: Math.max(0, c.total + total), unread: Math.max(0, c.unread + unread) };
      return { next: encodeRecord(next), result: undefined };
    });
  }
}
