/** What a reply, a reply-all and a forward start with. */
import type { Address, Message } from '../api/mail-api';
import { formatFullTime } from '../ui/format';
import type { ComposeSeed } from './compose-dialog';

export function newMessageSeed(): ComposeSeed {
  return { title: 'New message', to: '', cc: '', subject: '', text: '' };
}

function prefixed(prefix: string, subject: string): string {
  return new RegExp(`^${prefix}:`, 'i').test(subject.trim()) ? subject : `${prefix}: ${subject}`;
}

function quoted(message: Message): string {
  const who = message.from.map((a) => formatAddress(a)).join(', ') || 'someone';
  const body = (message.text ?? '').split('\n').map((line) => `> ${line}`).join('\n');
  return `\n\nOn ${formatFullTime(message.timeMs)}, ${who} wrote:\n${body}`;
}

function formatAddress(a: Address): string {
  return a.name ? `${a.name} <${a.address}>` : a.address;
}

export function replySeed(message: Message): ComposeSeed {
  return {
    title: 'Reply',
    to: message.from.map((a) => a.address).join(', '),
    cc: '',
    subject: prefixed('Re', message.subject),
    text: quoted(message),
    inReplyTo: message.id,
  };
}

export function replyAllSeed(message: Message, self: string): ComposeSeed {
  const mine = (a: Address) => a.address.toLowerCase().split('@')[0] === self.toLowerCase();
  const to = message.from.map((a) => a.address);
  const cc = [...message.to, ...message.cc].filter((a) => !mine(a) && !to.includes(a.address)).map((a) => a.address);
  return { ...replySeed(message), title: 'Reply to all', cc: [...new Set(cc)].join(', ') };
}

export function forwardSeed(message: Message): ComposeSeed {
  const header = [
    '',
    '',
    '---------- Forwarded message ----------',
    `From: ${message.from.map(formatAddress).join(', ')}`,
    `Date: ${formatFullTime(message.timeMs)}`,
    `Subject: ${message.subject}`,
    `To: ${message.to.map(formatAddress).join(', ')}`,
    '',
  ].join('\n');
  return {
    title: 'Forward',
    to: '',
    cc: '',
    subject: prefixed('Fwd', message.subject),
    text: header + (message.text ?? ''),
    forwardOf: message.id,
    carried: message.attachments.map((a) => a.filename),
  };
}


/** A saved draft, opened again: what it holds, and its attachments kept in it. */
export function draftSeed(message: Message): ComposeSeed {
  return {
    title: 'Draft',
    to: message.to.map(formatAddress).join(', '),
    cc: message.cc.map(formatAddress).join(', '),
    subject: message.subject,
    text: message.text ?? '',
    draftId: message.id,
    kept: message.attachments.map((a) => a.filename),
  };
}
