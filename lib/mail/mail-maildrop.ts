/**
 * POP3 maildrops over the mail service: a user's Inbox, oldest first, with message ids as
 * UIDL values (stable, never reused). One session per user at a time in this process
 * (RFC 1939 §8: the maildrop is locked); a second one is told [IN-USE].
 */
import { PennError } from '../protocol/errors.js';
import type { MailService } from '../services/mail-service.js';
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

  async open(usernameInput: string): Promise<Maildrop> {
    const user = usernameInput.toLowerCase();
    if (this.locked.has(user)) throw new PennError('CONFLICT', `the maildrop of ${user} is in use`);
    this.locked.add(user);
    try {
      const summaries = await this.mail.maildrop(user);
      const mail = this.mail;
      const locked = this.locked;
      let released = false;
      return {
        messages: summaries.map((s) => ({ uid: s.id, size: s.size })),
        read: (index) => mail.raw(user, summaries[index]!.id),
        markSeen: (index) => mail.markSeen(user, summaries[index]!.id),
        async remove(uids) {
          for (const id of uids) await mail.removeForGood(user, id);
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
