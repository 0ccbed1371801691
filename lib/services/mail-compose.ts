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

/** The raw bytes of `message`, CRLF line ends. */
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
    composer.compile().build((err, bytes) => (err ? reject(err) : resolve(bytes)));
  });
}
