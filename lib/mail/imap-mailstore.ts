/**
 * What the IMAP server needs of the mail service: checking a password, and a user's folders
 * with UIDs, flags and message bytes. Kept narrow so the protocol engine knows nothing of the
 * store (mail-imap-store.ts adapts the mail service to it).
 */
import type { MailAddress } from '../services/mime/address-list.js';

/** The folders every mailbox has, by IMAP name, with their RFC 6154 SPECIAL-USE attribute. */
export const IMAP_FOLDERS: readonly { name: string; folder: string; specialUse: string | null }[] = [
  { name: 'INBOX', folder: 'inbox', specialUse: null },
  { name: 'Drafts', folder: 'drafts', specialUse: '\\Drafts' },
  { name: 'Sent', folder: 'sent', specialUse: '\\Sent' },
  { name: 'Trash', folder: 'trash', specialUse: '\\Trash' },
];

export interface ImapMessage {
  uid: number;
  /** The mail service's id of the message. */
  id: string;
  /** \Seen: the webmail's read state. */
  seen: boolean;
  /** The other flags: \Flagged, \Answered, \Deleted, \Draft and keywords. */
  flags: readonly string[];
  /** RFC822.SIZE: octets with CRLF line ends. */
  size: number;
  /** INTERNALDATE. */
  arrivedMs: number;
  /** The Date header (or arrival), for SENTSINCE and the like. */
  dateMs: number;
  from: readonly MailAddress[];
  to: readonly MailAddress[];
  cc: readonly MailAddress[];
  subject: string;
}

/** A folder as one listing saw it, in UID order. */
export interface ImapFolderView {
  uidValidity: number;
  uidNext: number;
  messages: ImapMessage[];
}

/** Where a message was filed: its folder's UIDVALIDITY and its UID. */
export interface FolderUid {
  uidValidity: number;
  uid: number;
}

/** One user's mail, for the life of a session. */
export interface ImapAccount {
  /** A folder with UIDs (`folder` is a mail-service folder: inbox, sent, ...). */
  listing(folder: string): Promise<ImapFolderView>;
  /** A value that changes with any change to the folder: a cheap test before a new listing. */
  changeStamp(folder: string): Promise<string | null>;
  /** The message's octets, every line end a CRLF; NOT_FOUND once it is gone. */
  read(id: string): Promise<Buffer>;
  setFlags(id: string, seen: boolean, flags: readonly string[]): Promise<void>;
  /** Files a message; returns its UID there (RFC 4315 APPENDUID). */
  append(folder: string, raw: Buffer, options: { seen: boolean; flags: readonly string[]; arrivedMs?: number }): Promise<FolderUid>;
  /** Copies a message to a folder; returns the copy's UID there (RFC 4315 COPYUID). */
  copy(id: string, folder: string): Promise<FolderUid>;
  /** Moves a message to a folder; returns its UID there. */
  move(id: string, folder: string): Promise<FolderUid>;
  /** Removes a message for good (EXPUNGE of a \Deleted message). */
  expunge(id: string): Promise<void>;
}

export interface ImapStore {
  /** True for the user's password; throws RATE_LIMITED while log-ins are throttled. Never logs the password. */
  authenticate(username: string, password: string, remoteAddress: string): Promise<boolean>;
  open(username: string): ImapAccount;
}
