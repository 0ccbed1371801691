/**
 * Reading a raw RFC 5322 message for the webmail: its main headers, the text and HTML bodies
 * and the list of attachments (RFC 2045/2046 MIME, nested multiparts). Bounded: past the
 * nesting or part limits the rest is kept as one opaque attachment rather than parsed.
 */
import { parseAddressList, type MailAddress } from './address-list.js';
import { decodeCharset, decodeWords, displayParam, parseHeaderFields, parseStructured, splitHeadAndBody, type HeaderField } from './header-fields.js';
import { decodeTransfer } from './transfer-decoding.js';

/** Deepest multipart nesting parsed (mail clients produce 3 or 4). */
export const MIME_DEPTH_MAX = 12;
/** Most leaf parts collected from one message. */
export const MIME_PARTS_MAX = 500;

export interface MimeAttachment {
  filename: string;
  contentType: string;
  /** Decoded bytes. */
  content: Buffer;
  /** Content-ID for inline parts (without angle brackets), if any. */
  contentId: string | null;
  inline: boolean;
}

export interface ParsedMessage {
  headers: HeaderField[];
  subject: string;
  from: MailAddress[];
  to: MailAddress[];
  cc: MailAddress[];
  replyTo: MailAddress[];
  /** Date header as epoch ms, or null when missing or unreadable. */
  dateMs: number | null;
  messageId: string | null;
  inReplyTo: string | null;
  references: string[];
  text: string | null;
  html: string | null;
  attachments: MimeAttachment[];
}

/** Parses a whole message. Never throws on malformed input: it keeps what it can read. */
export function parseMessage(raw: Buffer): ParsedMessage {
  const { head, body } = splitHeadAndBody(raw);
  const headers = parseHeaderFields(head);
  const field = (name: string): string | undefined => headers.find((h) => h.name === name)?.value;
  const result: ParsedMessage = {
    headers,
    subject: decodeWords(field('subject') ?? ''),
    from: parseAddressList(field('from')),
    to: parseAddressList(field('to')),
    cc: parseAddressList(field('cc')),
    replyTo: parseAddressList(field('reply-to')),
    dateMs: parseDate(field('date')),
    messageId: angleId(field('message-id')),
    inReplyTo: angleId(field('in-reply-to')),
    references: (field('references') ?? '').match(/<[^<>\s]+>/g)?.map((r) => r.slice(1, -1)) ?? [],
    text: null,
    html: null,
    attachments: [],
  };
  walkPart(headers, body, result, 0, { parts: 0 });
  return result;
}

function walkPart(headers: HeaderField[], body: Buffer, out: ParsedMessage, depth: number, count: { parts: number }): void {
  const field = (name: string): string | undefined => headers.find((h) => h.name === name)?.value;
  const type = parseStructured(field('content-type') ?? 'text/plain; charset=us-ascii');
  const mediaType = type.value || 'text/plain';
  const disposition = parseStructured(field('content-disposition'));
  if (mediaType.startsWith('multipart/') && depth < MIME_DEPTH_MAX) {
    const boundary = type.params.get('boundary');
    if (boundary !== undefined && boundary !== '') {
      for (const part of splitMultipart(body, boundary)) {
        if (++count.parts > MIME_PARTS_MAX) return;
        const split = splitHeadAndBody(part);
        walkPart(parseHeaderFields(split.head), split.body, out, depth + 1, count);
      }
      return;
    }
  }
  const content = decodeTransfer(body, field('content-transfer-encoding'));
  const filename = displayParam(disposition, 'filename') ?? displayParam(type, 'name') ?? '';
  const isAttachment = disposition.value === 'attachment' || filename !== '';
  if (!isAttachment && mediaType === 'text/plain' && out.text === null) {
    out.text = decodeCharset(content, type.params.get('charset'));
    return;
  }
  if (!isAttachment && mediaType === 'text/html' && out.html === null) {
    out.html = decodeCharset(content, type.params.get('charset'));
    return;
  }
  if (mediaType === 'message/rfc822' || isAttachment || !mediaType.startsWith('text/')) {
    const contentId = angleId(field('content-id'));
    out.attachments.push({
      filename: filename || defaultName(mediaType, out.attachments.length + 1),
      contentType: mediaType,
      content,
      contentId,
      inline: disposition.value === 'inline',
    });
  }
}

/** The body parts between `--boundary` lines (RFC 2046 §5.1.1); preamble and epilogue dropped. */
export function splitMultipart(body: Buffer, boundary: string): Buffer[] {
  const delimiter = Buffer.from(`--${boundary}`, 'latin1');
  const parts: Buffer[] = [];
  let start = -1;
  let pos = 0;
  while (pos <= body.length) {
    const found = body.indexOf(delimiter, pos);
    if (found === -1) break;
    const atLineStart = found === 0 || body[found - 1] === 0x0a;
    if (!atLineStart) {
      pos = found + delimiter.length;
      continue;
    }
    if (start !== -1) {
      // The CRLF before the delimiter belongs to the delimiter.
      let end = found;
      if (end > start && body[end - 1] === 0x0a) end--;
      if (end > start && body[end - 1] === 0x0d) end--;
      parts.push(body.subarray(start, end));
    }
    const after = found + delimiter.length;
    if (body[after] === 0x2d && body[after + 1] === 0x2d) return parts;
    const lineEnd = body.indexOf(0x0a, after);
    if (lineEnd === -1) return parts;
    start = lineEnd + 1;
    pos = start;
  }
  // No closing delimiter: keep the last part as it is.
  if (start !== -1 && start < body.length) parts.push(body.subarray(start));
  return parts;
}

function parseDate(value: string | undefined): number | null {
  if (value === undefined) return null;
  const ms = Date.parse(value.replace(/\s*\([^)]*\)\s*$/, ''));
  return Number.isNaN(ms) ? null : ms;
}

function angleId(value: string | undefined): string | null {
  const m = /<([^<>\s]+)>/.exec(value ?? '');
  return m ? m[1]! : null;
}

function defaultName(mediaType: string, n: number): string {
  const ext = mediaType === 'message/rfc822' ? 'eml' : mediaType.split('/')[1]?.replace(/[^a-z0-9]/g, '') || 'bin';
  return `attachment-${n}.${ext}`;
}
