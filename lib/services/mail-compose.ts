/**
 * Writing a message as RFC 5322 bytes (with nodemailer's MIME composer): text, optional HTML,
 * attachments, and the threading headers of a reply.
 */
import MailComposer from 'nodemailer/lib/mail-composer';
import type { MailAddress } from './mime/address-list.js';
import { formatAddress } from './mime/address-list.js';

export interface OutgoingAttachment {
  filename: string;
  contentType: string;
  content: Buffer;
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
export function composeMessage(message: OutgoingMessage): Promise<Buffer> {
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
    attachments: message.attachments.map((a) => ({ filename: a.filename, contentType: a.contentType, content: a.content })),
  });
  return new Promise((resolve, reject) => {
    composer.compile().build((err, bytes) => (err ? reject(err) : resolve(toCrlf(bytes))));
  });
}

/** Bare LFs and CRs become CRLF; the parts are all 7-bit or encoded, so this is byte-safe. */
function toCrlf(bytes: Buffer): Buffer {
  return Buffer.from(bytes.toString('latin1').replace(/\r\n|\r|\n/g, '\r\n'), 'latin1');
}
