/**
 * The folder commands of the AUTHENTICATED state (RFC 3501 §6.3): LIST and LSUB with RFC 6154
 * SPECIAL-USE, STATUS and APPEND, and what the session's commands share: naming a folder,
 * reading flags, and replies of whole lines.
 */
import { IMAP_FOLDERS, type ImapAccount } from './imap-mailstore.js';
import { tokenText, type ParsedCommand, type Token } from './imap-parser.js';
import { parseDateTime } from './imap-replies.js';
import { SYSTEM_FLAGS } from './imap-selected.js';
import type { ImapReply } from './imap-session.js';

/** A command that is well-formed but wrong here: the session answers a tagged BAD with this text. */
export class BadCommand extends Error {}

/** A reply of whole lines: texts get their CRLF, Buffers (untagged news) are sent as they are. */
export function lines(texts: readonly (string | Buffer)[]): ImapReply {
  return { chunks: texts.map((t) => (typeof t === 'string' ? Buffer.from(`${t}\r\n`) : t)), after: 'continue' };
}

/** The folder an argument names (INBOX in any case, the others by name, case-insensitively). */
export function folderArg(token: Token | undefined): { name: string; folder: string } | null {
  const text = tokenText(token);
  if (text === null) return null;
  return IMAP_FOLDERS.find((f) => f.name.toLowerCase() === text.toLowerCase()) ?? null;
}

/** Flags from tokens: system flags by their RFC names, keywords as atoms. */
export function checkFlags(tokens: readonly Token[]): string[] {
  return tokens.map((t) => {
    const text = t.kind === 'atom' ? t.value : null;
    if (text === null || !/^\\?[!#$&'+\-./0-9:;<=>?@A-Z^_`a-z|~]+$/.test(text)) throw new BadCommand(`"${tokenText(t) ?? '(list)'}" is not a flag`);
    if (text.startsWith('\\')) {
      const system = [...SYSTEM_FLAGS, '\\Recent'].find((f) => f.toLowerCase() === text.toLowerCase());
      if (system === undefined) throw new BadCommand(`${text} is not a system flag (${SYSTEM_FLAGS.join(' ')})`);
      return system;
    }
    return text;
  });
}

/** LIST / LSUB (RFC 3501 §6.3.8), with RFC 6154 attributes and the (SPECIAL-USE) selection. */
export function listFolders(c: ParsedCommand): ImapReply {
  const { tag, name } = c;
  let args = c.args;
  let specialOnly = false;
  if (name === 'LIST' && args[0]?.kind === 'list') {
    specialOnly = args[0].items.some((t) => tokenText(t)?.toUpperCase() === 'SPECIAL-USE');
    args = args.slice(1);
  }
  const reference = tokenText(args[0]);
  const pattern = tokenText(args[1]);
  if (reference === null || pattern === null) throw new BadCommand(`usage: ${name} reference pattern`);
  if (name === 'LIST' && pattern === '') return lines(['* LIST (\\Noselect) "/" ""', `${tag} OK LIST completed`]);
  // RFC 3501 §6.3.8: "*" matches anything, "%" anything but the hierarchy delimiter.
  const re = new RegExp(`^${[...(reference + pattern)].map((ch) => (ch === '*' ? '.*' : ch === '%' ? '[^/]*' : ch.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))).join('')}$`, 'i');
  const out: string[] = [];
  for (const f of IMAP_FOLDERS) {
    if (!re.test(f.name) || (specialOnly && f.specialUse === null)) continue;
    const attributes = ['\\HasNoChildren', ...(f.specialUse === null ? [] : [f.specialUse])];
    out.push(`* ${name} (${attributes.join(' ')}) "/" ${f.name}`);
  }
  return lines([...out, `${tag} OK ${name} completed`]);
}

/** STATUS (RFC 3501 §6.3.10); `news` is what the selected folder has to tell first. */
export async function folderStatus(account: ImapAccount, c: ParsedCommand, news: Buffer[]): Promise<ImapReply> {
  const { tag, args } = c;
  const folder = folderArg(args[0]);
  if (folder === null) return lines([`${tag} NO no folder "${tokenText(args[0]) ?? ''}"`]);
  if (args[1]?.kind !== 'list') throw new BadCommand('usage: STATUS folder (MESSAGES UNSEEN UIDNEXT UIDVALIDITY RECENT)');
  const view = await account.listing(folder.folder);
  const values: Record<string, number> = {
    MESSAGES: view.messages.length, RECENT: 0, UIDNEXT: view.uidNext, UIDVALIDITY: view.uidValidity,
    UNSEEN: view.messages.filter((m) => !m.seen).length,
  };
  const items = args[1].items.map((t) => {
    const item = tokenText(t)?.toUpperCase() ?? '';
    if (values[item] === undefined) throw new BadCommand(`"${item}" is not a STATUS item`);
    return `${item} ${values[item]}`;
  });
  return lines([...news, `* STATUS ${folder.name} (${items.join(' ')})`, `${tag} OK STATUS completed`]);
}

/** APPEND folder [(flags)] ["date-time"] literal (RFC 3501 §6.3.11), answered with RFC 4315 APPENDUID. */
export async function appendMessage(account: ImapAccount, c: ParsedCommand, news: () => Promise<Buffer[]>): Promise<ImapReply> {
  const { tag, args } = c;
  const folder = folderArg(args[0]);
  if (folder === null) return lines([`${tag} NO [TRYCREATE] no folder "${tokenText(args[0]) ?? ''}"`]);
  let i = 1;
  let flags: string[] = [];
  if (args[i]?.kind === 'list') flags = checkFlags((args[i++] as { items: Token[] }).items);
  let arrivedMs: number | undefined;
  const message = args[args.length - 1];
  if (i < args.length - 1) {
    const parsed = parseDateTime(tokenText(args[i++]) ?? '');
    if (parsed === null) throw new BadCommand('the APPEND date is a date-time such as "07-Dec-2026 23:17:41 +0000"');
    arrivedMs = parsed;
  }
  if (message === undefined || message.kind !== 'string' || i !== args.length - 1) throw new BadCommand('usage: APPEND folder [(flags)] ["date-time"] {size}');
  const filed = await account.append(folder.folder, message.value, {
    seen: flags.includes('\\Seen'), flags: flags.filter((f) => f !== '\\Seen' && f !== '\\Recent'), ...(arrivedMs === undefined ? {} : { arrivedMs }),
  });
  return lines([...(await news()), `${tag} OK [APPENDUID ${filed.uidValidity} ${filed.uid}] APPEND completed`]);
}
