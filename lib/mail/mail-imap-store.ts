/**
 * IMAP folders over the mail service: the same messages, read state and folders the webmail
 * shows, so a message read, moved or deleted in one is so in the other. UIDs are given out
 * under a lock per user in this process, so they rise in the order messages are numbered.
 */
import type { MailService } from '../services/mail-service.js';
import type { MessageSummary } from '../services/mail-records.js';
import { wireSize } from '../services/mime/wire-size.js';
import type { ImapAccount, ImapFolderView, ImapMessage, ImapStore } from './imap-mailstore.js';
import { toCrlf } from './imap-mime.js';

export class MailServiceImapStore implements ImapStore {
  /** The listing running for each user: the next one waits for it (UIDs are given out in it). */
  private readonly listings = new Map<string, Promise<unknown>>();

  constructor(
    private readonly mail: MailService,
    private readonly checkPassword: (user: string, password: string, remoteAddress: string) => Promise<boolean>,
  ) {}

  authenticate(username: string, password: string, remoteAddress: string): Promise<boolean> {
    return this.checkPassword(username.toLowerCase(), password, remoteAddress);
  }

  open(usernameInput: string): ImapAccount {
    const user = usernameInput.toLowerCase();
    const mail = this.mail;
    const read = async (id: string): Promise<Buffer> => toCrlf(await mail.raw(user, id));
    const message = async (s: MessageSummary): Promise<ImapMessage> => ({
      uid: s.uid!, id: s.id, seen: s.seen, flags: s.flags ?? [],
      // Summaries from before wireBytes was kept are counted from their bytes.
      size: s.wireBytes ?? wireSize(await mail.raw(user, s.id)),
      arrivedMs: s.arrivedMs, dateMs: s.dateMs, from: s.from, to: s.to, cc: s.cc, subject: s.subject,
    });
    return {
      listing: (folder) => this.serialised(user, async (): Promise<ImapFolderView> => {
        const view = await mail.uidListing(user, folder);
        const messages: ImapMessage[] = [];
        for (const s of view.messages) messages.push(await message(s));
        return { uidValidity: view.uidValidity, uidNext: view.uidNext, messages };
      }),
      changeStamp: (folder) => mail.changeStamp(user, folder),
      read,
      setFlags: async (id, seen, flags) => { await mail.setFlags(user, id, seen, flags); },
      append: async (folder, raw, options) => {
        const s = await mail.append(user, folder, raw, { seen: options.seen, flags: [...options.flags], ...(options.arrivedMs === undefined ? {} : { arrivedMs: options.arrivedMs }) });
        return this.serialised(user, () => mail.giveUid(user, s.id));
      },
      copy: async (id, folder) => {
        const s = await mail.copy(user, id, folder);
        return this.serialised(user, () => mail.giveUid(user, s.id));
      },
      move: async (id, folder) => {
        await mail.move(user, id, folder);
        return this.serialised(user, () => mail.giveUid(user, id));
      },
      expunge: (id) => mail.removeForGood(user, id),
    };
  }

  private async serialised<T>(user: string, work: () => Promise<T>): Promise<T> {
    const before = this.listings.get(user) ?? Promise.resolve();
    const run = before.catch(() => undefined).then(work);
    this.listings.set(user, run);
    try {
      return await run;
    } finally {
      if (this.listings.get(user) === run) this.listings.delete(user);
    }
  }
}
