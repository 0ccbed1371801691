/**
 * POP3 maildrops over the mail service: a user's Inbox, oldest first, with message ids as
 * UIDL values (stable, never reused). One session per user at a time in this process
 * (RFC 1939 §8: the maildrop is locked); a second one is told [IN-USE].
 */
import { isPennError, PennError } from '../protocol/errors.js';
import type { MailService } from '../services/mail-service.js';
import { wireSize } from '../services/mime/wire-size.js';
import type { Maildrop, MaildropProvider } from './pop3-maildrop.js';

export class MailServiceMaildrops implements MaildropProvider {
  private readonly locked = new Set<string>();

  constructor(
    private readonly mail: MailService,
    private readonly checkPassword: (user: string, password: string, remoteAddress: string) => Promise<boolean>,
  ) {}

  authenticate(username: string, password: string, remoteAddress: string): Promise<boolean> {
    return this.checkPassword(username.toLowerCase(), password, remoteAddress);
  }

  /** True while a session holds `username`'s maildrop. */
  isLocked(username: string): boolean {
    return this.locked.has(username.toLowerCase());
  }

  async open(usernameInput: string): Promise<Maildrop> {
    const user = usernameInput.toLowerCase();
    if (this.locked.has(user)) throw new PennError('CONFLICT', `the maildrop of ${user} is in use`);
    this.locked.add(user);
    try {
      const summaries = await this.mail.maildrop(user);
      const mail = this.mail;
      const locked = this.locked;
      let released = false;
      const messages = [];
      // RFC 1939 §11: the sizes are of the message as sent, every line end a CRLF.
      for (const s of summaries) messages.push({ uid: s.id, size: s.wireBytes ?? wireSize(await mail.raw(user, s.id)) });
      return {
        messages,
        read: (index) => mail.raw(user, summaries[index]!.id),
        markSeen: (index) => mail.markSeen(user, summaries[index]!.id),
        async remove(uids) {
          // A message removed elsewhere (the webmail) since the listing is already gone: the
          // others are still removed.
          for (const id of uids) {
            await mail.removeForGood(user, id).catch((err: unknown) => {
              if (!isPennError(err, 'NOT_FOUND')) throw err;
            });
          }
        },
        async release() {
          if (released) return;
          released = true;
          locked.delete(user);
        },
      };
    } catch (err) {
      this.locked.delete(user);
      throw err;
    }
  }
}
