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
import {
  decodeCounts, decodeLocation, decodeSummary, MAIL_FOLDERS, sortKey,
  type FolderCounts, type MailFolder, type MessageLocation, type MessageSummary,
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

  /** Files a new message in `folder`. The location is written last: until then it is invisible by id. */
  async add(folder: MailFolder, summary: MessageSummary): Promise<void> {
    const key = sortKey(summary.arrivedMs, summary.id);
    await this.kv.put(this.indexRow(folder), key, encodeRecord(summary));
    await this.bump(folder, 1, summary.seen ? 0 : 1);
    await this.kv.put(this.locationRow(), summary.id, encodeRecord({ folder, sortKey: key, restoreTo: null } satisfies MessageLocation));
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
    const next = await casUpdate(this.kv, this.indexRow(location.folder), location.sortKey, (current) => {
      if (current === null) throw new PennError('NOT_FOUND', `no message ${id}`);
      const before = decodeSummary(current);
      wasSeen = before.seen;
      const after = change(before);
      return { next: encodeRecord(after), result: after };
    });
    if (wasSeen !== next.seen) await this.bump(location.folder, 0, next.seen ? -1 : 1);
    return next;
  }

  /** Moves a message to another folder (Trash remembers where it came from). */
  async move(id: string, to: MailFolder): Promise<void> {
    const { location, summary } = await this.summary(id);
    if (location.folder === to) return;
    await this.kv.put(this.indexRow(to), location.sortKey, encodeRecord(summary));
    const next: MessageLocation = { folder: to, sortKey: location.sortKey, restoreTo: to === 'trash' ? location.folder : null };
    await this.kv.put(this.locationRow(), id, encodeRecord(next));
    await this.kv.delete(this.indexRow(location.folder), location.sortKey);
    const unread = summary.seen ? 0 : 1;
    await this.bump(location.folder, -1, -unread);
    await this.bump(to, 1, unread);
  }

  /** Forgets a message: its index entry, location and counts (the caller removes the bytes). */
  async remove(id: string): Promise<MessageSummary> {
    const { location, summary } = await this.summary(id);
    await this.kv.delete(this.locationRow(), id);
    if (await this.kv.delete(this.indexRow(location.folder), location.sortKey)) {
      await this.bump(location.folder, -1, summary.seen ? 0 : -1);
    }
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
