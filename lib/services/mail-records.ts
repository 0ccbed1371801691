/**
 * What the webmail keeps in the store besides the raw messages: a summary per message in its
 * folder's index (so a folder lists without opening any message), where each message is (by
 * id), and per-folder counts. JSON records, checked on read.
 */
import { randomBytes } from 'node:crypto';
import type { MailAddress } from './mime/address-list.js';
import { decodeRecord } from './json-record.js';

export type MailFolder = 'inbox' | 'sent' | 'trash' | 'drafts';
export const MAIL_FOLDERS: readonly MailFolder[] = ['inbox', 'sent', 'trash', 'drafts'];

/** Where a sent message to an outside address stands. */
export interface DeliveryState {
  recipient: string;
  state: 'queued' | 'retrying' | 'delivered' | 'failed';
  detail: string;
  attempts: number;
  updatedMs: number;
}

/** One line of a folder listing. */
export interface MessageSummary {
  id: string;
  from: MailAddress[];
  to: MailAddress[];
  cc: MailAddress[];
  subject: string;
  /** The Date header, or the arrival time when it has none. */
  dateMs: number;
  arrivedMs: number;
  size: number;
  /**
   * Octets as POP3 sends the message, every line end a CRLF (RFC 1939 §11). Absent in
   * summaries written before it was kept; the POP3 server then counts the stored bytes.
   */
  wireBytes?: number;
  seen: boolean;
  /** The Message-ID header (absent in summaries written before it was kept). */
  messageId?: string;
  /**
   * The IMAP UID of the message in its folder (RFC 3501 §2.3.1.1), given when an IMAP session
   * first lists the folder; dropped on a move, so the target folder gives a new one.
   */
  uid?: number;
  /** IMAP flags other than \Seen (which is `seen`): \Flagged, \Answered, \Deleted, \Draft, keywords. */
  flags?: string[];
  hasAttachments: boolean;
  /** The start of the text body, white space folded (for the list; absent in older summaries). */
  snippet?: string;
  /**
   * The conversation it belongs to: the first Message-ID of its References, else its
   * In-Reply-To, else its own Message-ID (RFC 5322 §3.6.4), so a reply joins its original's.
   */
  threadId?: string;
  /** Sent messages only: one entry per outside recipient. */
  delivery: DeliveryState[];
  /**
   * Set by the SMTP server, never by the message: the sender claims one of our addresses but
   * did not log in (conf smtp.localSenderPolicy "mark"). The webmail shows it above the body.
   */
  senderWarning?: string;
}

/** Where a message is: its folder, its index column there, and (in Trash) where it came from. */
export interface MessageLocation {
  folder: MailFolder;
  sortKey: string;
  restoreTo: MailFolder | null;
}

/** A folder's IMAP numbering (RFC 3501 §2.3.1.1): kept with the mailbox, so stable across restarts. */
export interface UidState {
  uidValidity: number;
  /** The UID the next message given one gets; UIDs are never reused within a uidValidity. */
  uidNext: number;
}

export interface FolderCounts {
  total: number;
  unread: number;
}

/** Digits of the inverted time in a sort key: enough for any millisecond time stamp. */
const SORT_DIGITS = 15;
const SORT_BASE_MS = 10 ** SORT_DIGITS - 1;

/** Index columns sort newest first: inverted arrival time, then the id. */
export function sortKey(arrivedMs: number, id: string): string {
  return `${String(SORT_BASE_MS - arrivedMs).padStart(SORT_DIGITS, '0')}.${id}`;
}

/** A new message id: time-ordered, unique, safe in URLs and file names. */
export function newMessageId(nowMs: number): string {
  return `${nowMs.toString(36).padStart(9, '0')}${randomBytes(6).toString('hex')}`;
}

/** True for what newMessageId makes (so an id from a URL cannot name anything else). */
export function isMessageId(value: string): boolean {
  return /^[0-9a-z]{9}[0-9a-f]{12}$/.test(value);
}

export function decodeSummary(bytes: Buffer): MessageSummary {
  return decodeRecord<MessageSummary>(bytes, 'message summary', (v) => typeof v.id === 'string' && typeof v.arrivedMs === 'number' && Array.isArray(v.delivery));
}

export function decodeLocation(bytes: Buffer): MessageLocation {
  return decodeRecord<MessageLocation>(bytes, 'message location', (v) => MAIL_FOLDERS.includes(v.folder) && typeof v.sortKey === 'string');
}

export function decodeCounts(bytes: Buffer | null): FolderCounts {
  if (bytes === null) return { total: 0, unread: 0 };
  return decodeRecord<FolderCounts>(bytes, 'folder counts', (v) => Number.isInteger(v.total) && Number.isInteger(v.unread));
}

export function decodeUidState(bytes: Buffer): UidState {
  return decodeRecord<UidState>(bytes, 'uid state', (v) => Number.isInteger(v.uidValidity) && Number.isInteger(v.uidNext));
}
