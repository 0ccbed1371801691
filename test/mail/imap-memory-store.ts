/**
 * An IMAP store over plain arrays, for transcript tests of the session: the engine's contract,
 * with UIDs given out per folder as the mail service gives them, and a change stamp.
 */
import { PennError } from '../../lib/protocol/errors.js';
import type { ImapAccount, ImapFolderView, ImapMessage, ImapStore } from '../../lib/mail/imap-mailstore.js';
import { toCrlf } from '../../lib/mail/imap-mime.js';
import { parseAddressList } from '../../lib/services/mime/address-list.js';

interface Stored {
  message: ImapMessage;
  raw: Buffer;
}

export class MemoryStore implements ImapStore {
  readonly folders = new Map<string, { uidValidity: number; uidNext: number; items: Stored[] }>();
  private stamp = 0;
  private nextId = 1;
  throttled = false;

  constructor() {
    for (const f of ['inbox', 'sent', 'trash', 'drafts']) this.folders.set(f, { uidValidity: 1700000000, uidNext: 1, items: [] });
  }

  /** Delivers a message to a folder (as SMTP or the webmail would). */
  deliver(folder: string, text: string, options: { seen?: boolean; flags?: string[]; arrivedMs?: number } = {}): ImapMessage {
    const raw = toCrlf(Buffer.from(text, 'utf8'));
    const f = this.folders.get(folder)!;
    const header = raw.subarray(0, raw.indexOf('\r\n\r\n') + 2).toString('latin1');
    const field = (name: string): string | undefined => new RegExp(`^${name}: (.*)$`, 'mi').exec(header)?.[1];
    const message: ImapMessage = {
      uid: f.uidNext++, id: `m${this.nextId++}`, seen: options.seen ?? false, flags: options.flags ?? [], size: raw.length,
      arrivedMs: options.arrivedMs ?? Date.UTC(2026, 11, 7, 10, 0, 0), dateMs: options.arrivedMs ?? Date.UTC(2026, 11, 7, 10, 0, 0),
      from: parseAddressList(field('From')), to: parseAddressList(field('To')), cc: [], subject: field('Subject') ?? '',
    };
    f.items.push({ message, raw });
    this.stamp++;
    return message;
  }

  find(id: string): { folder: string; index: number; item: Stored } {
    for (const [folder, f] of this.folders) {
      const index = f.items.findIndex((s) => s.message.id === id);
      if (index !== -1) return { folder, index, item: f.items[index]! };
    }
    throw new PennError('NOT_FOUND', `no message ${id}`);
  }

  /** Removes a message as the webmail's delete-for-good would. */
  remove(id: string): void {
    const { folder, index } = this.find(id);
    this.folders.get(folder)!.items.splice(index, 1);
    this.stamp++;
  }

  setSeen(id: string, seen: boolean): void {
    const { item } = this.find(id);
    item.message = { ...item.message, seen };
    this.stamp++;
  }

  async authenticate(user: string, password: string): Promise<boolean> {
    if (this.throttled) throw new PennError('RATE_LIMITED', 'too many failed log-ins for "alice"; try again in 60 s');
    return user === 'alice' && password === 'open sesame';
  }

  open(): ImapAccount {
    return {
      listing: async (folder): Promise<ImapFolderView> => {
        const f = this.folders.get(folder)!;
        return { uidValidity: f.uidValidity, uidNext: f.uidNext, messages: f.items.map((s) => s.message) };
      },
      changeStamp: async () => String(this.stamp),
      read: async (id) => this.find(id).item.raw,
      setFlags: async (id, seen, flags) => {
        const { item } = this.find(id);
        item.message = { ...item.message, seen, flags: [...flags] };
        this.stamp++;
      },
      append: async (folder, raw, options) => {
        const m = this.deliver(folder, raw.toString('utf8'), { seen: options.seen, flags: [...options.flags], ...(options.arrivedMs === undefined ? {} : { arrivedMs: options.arrivedMs }) });
        return { uidValidity: this.folders.get(folder)!.uidValidity, uid: m.uid };
      },
      copy: async (id, folder) => {
        const { item } = this.find(id);
        const m = this.deliver(folder, item.raw.toString('utf8'), { seen: item.message.seen, flags: [...item.message.flags] });
        return { uidValidity: this.folders.get(folder)!.uidValidity, uid: m.uid };
      },
      move: async (id, folder) => {
        const { item } = this.find(id);
        this.remove(id);
        const f = this.folders.get(folder)!;
        const uid = f.uidNext++;
        f.items.push({ message: { ...item.message, uid }, raw: item.raw });
        return { uidValidity: f.uidValidity, uid };
      },
      expunge: async (id) => this.remove(id),
    };
  }
}
