/**
 * Who a message may say it is from. A logged-in client submits only as its own account: the
 * envelope sender (MAIL FROM) and the From: header both name `user@domain`. A client that has
 * not logged in is a stranger however it signs: mail claiming one of our addresses is either
 * marked or refused (conf `smtp.localSenderPolicy`). Pure functions; the SMTP server applies
 * them.
 */
import type { MailAddress } from '../services/mime/address-list.js';

/** What is done with unauthenticated mail that claims a local sender (conf `smtp.localSenderPolicy`). */
export type LocalSenderPolicy = 'mark' | 'refuse';
export const LOCAL_SENDER_POLICIES: readonly LocalSenderPolicy[] = ['mark', 'refuse'];

/** The header added to marked mail, and the text the webmail shows above its body. */
export const SENDER_WARNING_HEADER = 'X-PennCloud-Warning';
export const SENDER_WARNING_TEXT = 'sender claims a local address but did not log in';

/** An SMTP refusal: the reply code and its text (enhanced status code first). */
export interface SenderRefusal {
  code: number;
  text: string;
}

/** True when `address` is `something@domain` (domain compared without case). */
export function isLocalAddress(address: string, domain: string): boolean {
  const at = address.lastIndexOf('@');
  return at > 0 && address.slice(at + 1).toLowerCase() === domain.toLowerCase();
}

/** True when `address` is the account `user` of `domain` (local part without case, as accounts are). */
export function isOwnAddress(address: string, user: string, domain: string): boolean {
  return address.toLowerCase() === `${user}@${domain}`.toLowerCase();
}

/**
 * RFC 6409 §4.1 leaves the check of the submitted sender to the submission server: a logged-in
 * user's MAIL FROM must be their own address. The null sender `<>` is for bounces (RFC 5321
 * §4.5.5), which a user does not submit.
 */
export function checkEnvelopeSender(mailFrom: string, user: string, domain: string): SenderRefusal | null {
  if (isOwnAddress(mailFrom, user, domain)) return null;
  return { code: 553, text: `5.7.1 Sender address <${mailFrom}> is not yours (logged in as ${user})` };
}

/**
 * The From: header of a logged-in user's message must be exactly their address (a display name
 * may go with it). No From:, or several addresses, is refused too: RFC 5322 §3.6.2 then wants
 * a Sender: field, which would let the mail say it is from someone else.
 */
export function checkHeaderFrom(from: readonly MailAddress[], user: string, domain: string): SenderRefusal | null {
  if (from.length === 1 && isOwnAddress(from[0]!.address, user, domain)) return null;
  const shown = from.length === 0 ? '(none)' : from.map((a) => `<${a.address}>`).join(', ');
  return { code: 550, text: `5.7.1 From: header ${shown} is not yours (logged in as ${user})` };
}

/** True when unauthenticated mail says it is from one of our addresses, in the envelope or in From:. */
export function claimsLocalSender(mailFrom: string, from: readonly MailAddress[], domain: string): boolean {
  return isLocalAddress(mailFrom, domain) || from.some((a) => isLocalAddress(a.address, domain));
}

/** The refusal of unauthenticated mail claiming a local sender, under policy `refuse`. */
export function localSenderRefusal(): SenderRefusal {
  return { code: 550, text: '5.7.1 Mail from a local address must be sent logged in (use AUTH on the submission port)' };
}
