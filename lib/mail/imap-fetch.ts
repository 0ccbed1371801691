/**
 * FETCH (RFC 3501 §6.4.5, §7.4.2): the data items a client asks for, parsed once per command,
 * and the `* n FETCH (...)` response for one message. Which items need the message's octets
 * is known up front, so a FLAGS/UID/RFC822.SIZE fetch reads nothing but the listing.
 */
import type { Token } from './imap-parser.js';
import { bodyStructure, envelope, parseStructure, sectionBytes, type MimePart } from './imap-mime.js';
import { atom, imapList, internalDate, literal } from './imap-replies.js';
import type { ImapMessage } from './imap-mailstore.js';

export type FetchItem =
  | { kind: 'FLAGS' | 'UID' | 'RFC822.SIZE' | 'INTERNALDATE' | 'ENVELOPE' | 'BODYSTRUCTURE' | 'BODY' }
  | { kind: 'RFC822' | 'RFC822.HEADER' | 'RFC822.TEXT' }
  /** BODY[section]<origin.count> or BODY.PEEK[...]. */
  | { kind: 'section'; section: string; peek: boolean; partial: { origin: number; count: number } | null };

/** Fetch data items one command may ask for. */
export const FETCH_ITEMS_MAX = 64;

export class FetchSyntaxError extends Error {}

const SIMPLE = new Set(['FLAGS', 'UID', 'RFC822.SIZE', 'INTERNALDATE', 'ENVELOPE', 'BODYSTRUCTURE', 'BODY', 'RFC822', 'RFC822.HEADER', 'RFC822.TEXT']);
const MACROS: Record<string, string[]> = {
  ALL: ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE'],
  FAST: ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE'],
  FULL: ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE', 'BODY'],
};

/** Parses the data items argument (a macro, one item, or a list of items). */
export function parseFetchItems(token: Token | undefined): FetchItem[] {
  if (token === undefined) throw new FetchSyntaxError('FETCH needs data items');
  if (token.kind === 'atom' && MACROS[token.value.toUpperCase()] !== undefined) {
    return MACROS[token.value.toUpperCase()]!.map((kind) => ({ kind }) as FetchItem);
  }
  const tokens = token.kind === 'list' ? token.items : [token];
  if (tokens.length === 0) throw new FetchSyntaxError('FETCH needs at least one data item');
  if (tokens.length > FETCH_ITEMS_MAX) throw new FetchSyntaxError(`at most ${FETCH_ITEMS_MAX} data items in one FETCH`);
  return tokens.map((t) => {
    const text = t.kind === 'atom' ? t.value : null;
    if (text === null) throw new FetchSyntaxError('a fetch data item is an atom such as FLAGS or BODY[]');
    return parseItem(text);
  });
}

function parseItem(text: string): FetchItem {
  const upper = text.toUpperCase();
  if (SIMPLE.has(upper)) return { kind: upper } as FetchItem;
  const m = /^BODY(\.PEEK)?\[([^\]]*)\](?:<(\d{1,10})\.(\d{1,10})>)?$/i.exec(text);
  if (m === null) throw new FetchSyntaxError(`"${text.slice(0, 60)}" is not a fetch data item`);
  const section = m[2]!;
  if (!/^((\d+\.)*\d+)?(\.?(HEADER|TEXT|MIME|HEADER\.FIELDS(\.NOT)? \([^()]*\)))?$/i.test(section)) {
    throw new FetchSyntaxError(`"${section.slice(0, 60)}" is not a section`);
  }
  const partial = m[3] === undefined ? null : { origin: Number(m[3]), count: Number(m[4]) };
  return { kind: 'section', section, peek: m[1] !== undefined, partial };
}

/** True when answering the items needs the message's octets. */
export function needsBytes(items: readonly FetchItem[]): boolean {
  return items.some((i) => !['FLAGS', 'UID', 'RFC822.SIZE', 'INTERNALDATE'].includes(i.kind));
}

/** True when the items set \Seen (RFC 3501 §6.4.5: BODY[...] without .PEEK, RFC822, RFC822.TEXT). */
export function setsSeen(items: readonly FetchItem[]): boolean {
  return items.some((i) => (i.kind === 'section' && !i.peek) || i.kind === 'RFC822' || i.kind === 'RFC822.TEXT');
}

/** The flag list of a message as IMAP shows it. */
export function flagList(message: Pick<ImapMessage, 'seen' | 'flags'>, recent: boolean): Buffer {
  return imapList([...(message.seen ? ['\\Seen'] : []), ...message.flags, ...(recent ? ['\\Recent'] : [])].map(atom));
}

/**
 * `* seq FETCH (...)` for one message. `raw` is its octets (CRLF line ends) when needsBytes;
 * `withUid` adds UID when the items lack it (UID FETCH always answers with it).
 */
export function fetchResponse(seq: number, message: ImapMessage, items: readonly FetchItem[], raw: Buffer | null,
  options: { withUid: boolean; recent: boolean }): Buffer {
  let structure: MimePart | null = null;
  const root = (): MimePart => (structure ??= parseStructure(raw!));
  const out: Buffer[] = [];
  const all = options.withUid && !items.some((i) => i.kind === 'UID') ? [{ kind: 'UID' } as FetchItem, ...items] : items;
  for (const item of all) {
    switch (item.kind) {
      case 'FLAGS': out.push(atom('FLAGS '), flagList(message, options.recent)); break;
      case 'UID': out.push(atom(`UID ${message.uid}`)); break;
      case 'RFC822.SIZE': out.push(atom(`RFC822.SIZE ${message.size}`)); break;
      case 'INTERNALDATE': out.push(atom(`INTERNALDATE "${internalDate(message.arrivedMs)}"`)); break;
      case 'ENVELOPE': out.push(atom('ENVELOPE '), envelope(root().header)); break;
      case 'BODYSTRUCTURE': out.push(atom('BODYSTRUCTURE '), bodyStructure(root(), true)); break;
      case 'BODY': out.push(atom('BODY '), bodyStructure(root(), false)); break;
      case 'RFC822': out.push(atom('RFC822 '), literal(raw!)); break;
      case 'RFC822.HEADER': out.push(atom('RFC822.HEADER '), literal(root().header)); break;
      case 'RFC822.TEXT': out.push(atom('RFC822.TEXT '), literal(root().body)); break;
      case 'section': {
        let bytes = sectionBytes(root(), item.section);
        let name = `BODY[${item.section}]`;
        if (item.partial !== null) {
          bytes = bytes.subarray(Math.min(item.partial.origin, bytes.length), Math.min(item.partial.origin + item.partial.count, bytes.length));
          name += `<${item.partial.origin}>`;
        }
        out.push(atom(`${name} `), literal(bytes));
        break;
      }
    }
    out.push(atom(' '));
  }
  out.pop();
  return Buffer.concat([atom(`* ${seq} FETCH (`), ...out, atom(')\r\n')]);
}

