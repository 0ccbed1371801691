/**
 * Writing a message as RFC 5322 bytes (with nodemailer's MIME composer): text, optional HTML,
 * attachments, and the threading headers of a reply.
 */
import type { Readable } from 'node:stream';
import MailComposer from 'nodemailer/lib/mail-composer';
import type { MailAddress } from './mime/address-list.js';
import { formatAddress } from './mime/address-list.js';

export interface OutgoingAttachment {
  filename: string;
  contentType: string;
  /** The bytes, or a function opening a stream of them (an attachment staged in the store). */
  content: Buffer | (() => Readable);
}

export interface OutgoingMessage {
  from: MailAddress;
  to: MailAddress[];
  cc: MailAddress[];
  subject: string;
  text: string;
  html?: string;
  attachments: OutgoingAttachment[];
  /** Message-ID of the message replied to, and the thread before it. */
  inReplyTo?: string;
  references?: string[];
  /** Our own Message-ID, without angle brackets. */
  messageId: string;
  dateMs: number;
}

/**
 * The raw bytes of `message`, every line ending in CRLF (RFC 5322 §2.1; the composer keeps
 * the text's own LFs, which SMTP would otherwise rewrite on the way and POP3 sizes would miss).
 */
export async function composeMessage(message: OutgoingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of composeMessageStream(message)) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/**
 * The bytes of `message` as a stream, as composeMessage would give them: attachments are read
 * from their streams as the composer reaches them, so a big message is never held whole.
 */
export function composeMessageStream(message: OutgoingMessage): AsyncIterable<Buffer> {
  const composer = new MailComposer({
    from: formatAddress(message.from),
    to: message.to.map(formatAddress),
    cc: message.cc.map(formatAddress),
    subject: message.subject,
    text: message.text,
    ...(message.html === undefined ? {} : { html: message.html }),
    messageId: `<${message.messageId}>`,
    date: new Date(message.dateMs),
    ...(message.inReplyTo === undefined ? {} : { inReplyTo: `<${message.inReplyTo}>` }),
    ...(message.references === undefined || message.references.length === 0 ? {} : { references: message.references.map((r) => `<${r}>`) }),
    attachments: message.attachments.map((a) => ({
      filename: a.filename, contentType: a.contentType, content: Buffer.isBuffer(a.content) ? a.content : a.content(),
    })),
  });
  return toCrlf(composer.compile().createReadStream());
}

/**
 * Bare LFs and CRs become CRLF; the parts are all 7-bit or encoded, so this is byte-safe. A CR
 * at the end of a piece waits for the next piece, which may start with its LF.
 */
async function* toCrlf(source: AsyncIterable<Uint8Array>): AsyncIterable<Buffer> {
  let pendingCr = false;
  for await (const chunk of source) {
    const piece = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    // The composer writes CRLF itself everywhere but in the text it was given: most pieces pass as they are.
    if (!pendingCr && isAllCrlf(piece)) {
      yield piece;
      continue;
    }
    let text = piece.toString('latin1');
    if (pendingCr) text = `\r${text}`;
    pendingCr = text.endsWith('\r');
    if (pendingCr) text = text.slice(0, -1);
    if (text !== '') yield Buffer.from(text.replace(/\r\n|\r|\n/g, '\r\n'), 'latin1');
  }
  if (pendingCr) yield Buffer.from('\r\n', 'latin1');
}

/** True when every CR of `piece` is followed by an LF and every LF follows a CR (a CR may not end it). */
function isAllCrlf(piece: Buffer): boolean {
  for (let i = piece.indexOf(0x0d); i !== -1; i = piece.indexOf(0x0d, i + 1)) {
    if (piece[i + 1] !== 0x0a) return false;
  }
  for (let i = piece.indexOf(0x0a); i !== -1; i = piece.indexOf(0x0a, i + 1)) {
    if (i === 0 || piece[i - 1] !== 0x0d) return false;
  }
  return true;
}
