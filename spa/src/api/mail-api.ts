/**
 * The webmail: `/api/mail/...` (docs/api.md). Replies are read through small normalizers, so
 * an address may come as "ann@x" or {name, address} and a time as epoch ms or a date string.
 */
import { ApiError } from './api-error';
import { requestJson, send } from './http';

export type FolderId = 'inbox' | 'drafts' | 'sent' | 'trash';

export const MAIL_FOLDERS: { id: FolderId; label: string }[] = [
  { id: 'inbox', label: 'Inbox' },
  { id: 'drafts', label: 'Drafts' },
  { id: 'sent', label: 'Sent' },
  { id: 'trash', label: 'Trash' },
];

export interface Address {
  name: string;
  address: string;
}

/** Delivery to one outside recipient of a sent message. */
export interface Delivery {
  recipient: string;
  state: string;
  detail: string;
}

export interface MessageSummary {
  id: string;
  from: Address[];
  to: Address[];
  subject: string;
  timeMs: number;
  sizeBytes: number;
  seen: boolean;
  /** Starred (IMAP's \Flagged). */
  starred: boolean;
  /** The start of the text, for the list. */
  snippet: string;
  hasAttachments: boolean;
  deliveries: Delivery[];
}

export interface Attachment {
  index: number;
  filename: string;
  contentType: string;
  sizeBytes: number;
}

export interface Message extends MessageSummary {
  folder: string;
  cc: Address[];
  text: string | null;
  html: string | null;
  attachments: Attachment[];
  messageId: string | null;
  /** The server's warning about the sender (a local address claimed without logging in), or null. */
  senderWarning: string | null;
  /** The HTML loads images from the network (shown only when the reader asks). */
  remoteImages: boolean;
}

export interface MessagePage {
  messages: MessageSummary[];
  nextCursor: string | null;
  unread: number | null;
  total: number | null;
}

/** Messages per page of a folder. */
export const MESSAGES_PER_PAGE = 25;

type Loose = Record<string, unknown>;

/** A page of a folder, newest first. */
export async function listMessages(folder: FolderId, cursor: string | null, signal?: AbortSignal): Promise<MessagePage> {
  const query = new URLSearchParams({ limit: String(MESSAGES_PER_PAGE) });
  if (cursor !== null) query.set('cursor', cursor);
  const reply = await requestJson<Loose>('GET', `/api/mail/folders/${folder}?${query}`, { signal });
  const list = (reply.messages ?? reply.entries ?? reply.items ?? []) as Loose[];
  return {
    messages: list.map(summaryOf),
    nextCursor: typeof reply.nextCursor === 'string' && reply.nextCursor !== '' ? reply.nextCursor : null,
    unread: numberOr(reply.unread ?? (reply.folder as Loose | undefined)?.unread, null),
    total: numberOr(reply.total ?? (reply.folder as Loose | undefined)?.total, null),
  };
}

/** A message found by a search, with the folder it is in now. */
export interface FoundMessage extends MessageSummary {
  folder: FolderId;
}

/** A page of the messages matching `query` (from:, to:, subject: narrow a word), newest first. */
export async function searchMail(query: string, folder: FolderId | null, cursor: string | null): Promise<{ messages: FoundMessage[]; nextCursor: string | null }> {
  const params = new URLSearchParams({ q: query, limit: String(MESSAGES_PER_PAGE) });
  if (folder !== null) params.set('folder', folder);
  if (cursor !== null) params.set('cursor', cursor);
  const reply = await requestJson<Loose>('GET', `/api/mail/search?${params}`);
  const list = (reply.messages ?? []) as Loose[];
  return {
    messages: list.map((m) => ({ ...summaryOf(m), folder: (MAIL_FOLDERS.some((f) => f.id === m.folder) ? m.folder : 'inbox') as FolderId })),
    nextCursor: typeof reply.nextCursor === 'string' && reply.nextCursor !== '' ? reply.nextCursor : null,
  };
}

/** Unread messages per folder: `GET /api/mail/folders` -> {folders: [{name, total, unread}]}. */
export async function unreadCounts(signal?: AbortSignal): Promise<Record<FolderId, number | null>> {
  const reply = await requestJson<Loose>('GET', '/api/mail/folders', { signal });
  const counts: Record<FolderId, number | null> = { inbox: null, drafts: null, sent: null, trash: null };
  for (const f of (reply.folders ?? []) as Loose[]) {
    const name = String(f.name ?? '').toLowerCase();
    if (name in counts) counts[name as FolderId] = numberOr(f.unread, null);
  }
  return counts;
}

/** One message, parsed (reading it marks it seen). */
export async function readMessage(id: string, signal?: AbortSignal): Promise<Message> {
  const reply = await requestJson<Loose>('GET', `/api/mail/messages/${encodeURIComponent(id)}`, { signal });
  // The reply carries the stored summary under `message` and the parsed message beside it.
  const m = { ...(reply.message as Loose | undefined), ...reply } as Loose;
  const attachments = (m.attachments ?? []) as Loose[];
  return {
    ...summaryOf(m),
    folder: String(m.folder ?? ''),
    cc: addressesOf(m.cc),
    text: typeof m.text === 'string' ? m.text : null,
    html: typeof m.html === 'string' ? m.html : null,
    messageId: typeof m.messageId === 'string' ? m.messageId : null,
    senderWarning: typeof m.senderWarning === 'string' && m.senderWarning !== '' ? m.senderWarning : null,
    remoteImages: m.remoteImages === true,
    attachments: attachments.map((a, i) => ({
      index: numberOr(a.index ?? a.n, i) ?? i,
      filename: String(a.filename ?? a.name ?? `attachment-${i + 1}`),
      contentType: String(a.contentType ?? a.type ?? 'application/octet-stream'),
      sizeBytes: numberOr(a.size ?? a.sizeBytes, 0) ?? 0,
    })),
  };
}

export function attachmentUrl(messageId: string, index: number): string {
  return `/api/mail/messages/${encodeURIComponent(messageId)}/attachments/${index}`;
}

/** The message's HTML as a sandboxed page (see mail/html-frame.tsx). */
export function messageHtmlUrl(messageId: string, remoteImages = false): string {
  return `/api/mail/messages/${encodeURIComponent(messageId)}/html${remoteImages ? '?images=1' : ''}`;
}

export function rawMessageUrl(messageId: string): string {
  return `/api/mail/messages/${encodeURIComponent(messageId)}/raw`;
}

export interface Outgoing {
  to: string[];
  cc: string[];
  subject: string;
  text: string;
  inReplyTo?: string;
  forwardOf?: string;
  /** The saved draft this message (or newer draft) replaces; its attachments go along. */
  draftOf?: string;
  attachments: File[];
}

/** Sends a message: JSON, or multipart when it carries attachments. */
export async function sendMessage(message: Outgoing): Promise<void> {
  await postMessage('/api/mail/send', message);
}

/** Saves a message being written to Drafts; the draft's id (pass it as `draftOf` next time). */
export async function saveDraft(message: Outgoing): Promise<string> {
  const reply = await postMessage('/api/mail/drafts', message);
  return String(((await reply.json()) as { message: { id: string } }).message.id);
}

async function postMessage(path: string, message: Outgoing): Promise<Response> {
  const draft = { to: message.to.join(', '), cc: message.cc.join(', '), subject: message.subject, text: message.text };
  const fields = {
    to: message.to, cc: message.cc, subject: message.subject, text: message.text,
    inReplyTo: message.inReplyTo, forwardOf: message.forwardOf, draftOf: message.draftOf,
  };
  if (message.attachments.length === 0) return send('POST', path, { json: fields, resume: { kind: 'draft', draft } });
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const v of value) form.append(name, v);
    else form.append(name, value);
  }
  for (const file of message.attachments) form.append('attachments', file, file.name);
  return send('POST', path, { body: form, resume: { kind: 'draft', draft } });
}

/** Moves a message to Trash, or removes it for good when it is in Trash. */
/**
 * Waits (a long poll of up to 25 s) until something changes in the mailbox; `since` is the
 * stamp of the last answer (null: answer at once with the stamp now).
 */
export async function waitForMailChange(since: string | null, signal: AbortSignal): Promise<{ stamp: string; changed: boolean }> {
  const query = since === null ? 'waitMs=0' : `since=${encodeURIComponent(since)}`;
  return requestJson('GET', `/api/mail/changes?${query}`, { signal, quietUnauthenticated: true });
}

/** The messages of a message's conversation, in every folder, oldest first. */
export async function conversationOf(id: string, signal?: AbortSignal): Promise<FoundMessage[]> {
  const reply = await requestJson<Loose>('GET', `/api/mail/messages/${encodeURIComponent(id)}/conversation`, { signal });
  return ((reply.messages ?? []) as Loose[]).map((m) => ({
    ...summaryOf(m), folder: (MAIL_FOLDERS.some((f) => f.id === m.folder) ? m.folder : 'inbox') as FolderId,
  }));
}

/** Moves a message to another folder. */
export async function moveMessage(id: string, folder: FolderId): Promise<void> {
  await send('POST', `/api/mail/messages/${encodeURIComponent(id)}/move`, { json: { folder } });
}

/** Marks a message read or unread, starred or not. */
export async function markMessage(id: string, marks: { seen?: boolean; starred?: boolean }): Promise<void> {
  await send('POST', `/api/mail/messages/${encodeURIComponent(id)}/marks`, { json: marks });
}

export async function deleteMessage(id: string): Promise<void> {
  await send('DELETE', `/api/mail/messages/${encodeURIComponent(id)}`);
}

/** Puts a message from Trash back where it was. */
export async function restoreMessage(id: string): Promise<void> {
  await send('POST', `/api/mail/messages/${encodeURIComponent(id)}/restore`);
}

/** True when the server has no webmail API: its mail routes answer "no such resource". */
export function mailMissing(err: unknown): boolean {
  return err instanceof ApiError && err.status === 404 && /^no such resource/i.test(err.message);
}

function summaryOf(m: Loose): MessageSummary {
  return {
    id: String(m.id),
    from: addressesOf(m.from),
    to: addressesOf(m.to),
    subject: typeof m.subject === 'string' ? m.subject : '',
    timeMs: timeOf(m.receivedMs ?? m.arrivedMs ?? m.dateMs ?? m.date ?? m.time),
    sizeBytes: numberOr(m.size ?? m.sizeBytes, 0) ?? 0,
    seen: m.seen === true || m.unread === false,
    starred: Array.isArray(m.flags) && m.flags.includes('\\Flagged'),
    snippet: typeof m.snippet === 'string' ? m.snippet : '',
    hasAttachments: m.hasAttachments === true || (Array.isArray(m.attachments) && m.attachments.length > 0),
    deliveries: deliveriesOf(m.delivery ?? m.deliveries),
  };
}

function addressesOf(value: unknown): Address[] {
  if (value === undefined || value === null) return [];
  const list = Array.isArray(value) ? value : [value];
  return list.flatMap((v): Address[] => {
    if (typeof v === 'string') return v.split(',').map((s) => s.trim()).filter(Boolean).map(parseAddress);
    if (typeof v === 'object' && v !== null && typeof (v as Loose).address === 'string') {
      return [{ name: String((v as Loose).name ?? ''), address: String((v as Loose).address) }];
    }
    return [];
  });
}

function parseAddress(text: string): Address {
  const angle = /^(.*)<([^<>]+)>\s*$/.exec(text);
  return angle ? { name: angle[1]!.trim().replace(/^"|"$/g, ''), address: angle[2]!.trim() } : { name: '', address: text };
}

function deliveriesOf(value: unknown): Delivery[] {
  if (!Array.isArray(value)) {
    if (typeof value === 'object' && value !== null && 'state' in value) return deliveriesOf([value]);
    return [];
  }
  return value.filter((d): d is Loose => typeof d === 'object' && d !== null).map((d) => ({
    recipient: String(d.recipient ?? d.to ?? ''),
    state: String(d.state ?? d.status ?? 'queued'),
    detail: String(d.detail ?? d.message ?? d.error ?? ''),
  }));
}

function timeOf(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'string') {
    const parsed = Date.parse(value);
    if (!Number.isNaN(parsed)) return parsed;
  }
  return 0;
}

function numberOr<T>(value: unknown, fallback: T): number | T {
  return typeof value === 'number' && Number.isFinite(value) ? value : fallback;
}

/** "Ann Lee" or "ann@localhost", for lists. */
export function displayName(a: Address): string {
  return a.name !== '' ? a.name : a.address;
}
