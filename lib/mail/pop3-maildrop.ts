/**
 * What the POP3 server needs from the mail service: checking a password and a snapshot of a
 * user's Inbox for one session. Kept narrow so the protocol engine knows nothing of the store.
 */

export interface MaildropMessage {
  /** Stable and never reused (RFC 1939 §7 UIDL: 1 to 70 characters 0x21-0x7E). */
  uid: string;
  /** Size in octets as sent over POP3 (CRLF line ends). */
  size: number;
}

export interface Maildrop {
  /** The messages of this session, numbered 1..n in this order for its whole life. */
  readonly messages: readonly MaildropMessage[];
  /** The raw message (RFC 5322 bytes) of the entry at `index` (0-based). */
  read(index: number): Promise<Buffer>;
  /** Marks a message seen, as reading it in the webmail would. */
  markSeen(index: number): Promise<void>;
  /** UPDATE state: removes these messages (by uid) for good. */
  remove(uids: readonly string[]): Promise<void>;
  /** Ends the session's hold on the maildrop (whether or not UPDATE ran). */
  release(): Promise<void>;
}

export interface MaildropProvider {
  /** True when the user exists and the password is theirs. Never logs the password. */
  authenticate(username: string, password: string, remoteAddress: string): Promise<boolean>;
  /** Opens the user's Inbox for a session. */
  open(username: string): Promise<Maildrop>;
}
