/**
 * A message's MIME structure as IMAP addresses it (RFC 3501 §6.4.5, §7.4.2): parts numbered
 * 1, 1.2, ..., each with its header and body octets, so BODY[section] gives exact bytes and
 * BODYSTRUCTURE describes the tree. Also the ENVELOPE. Pure functions over a message whose
 * line ends are all CRLF (toCrlf).
 */
import { parseAddressList } from '../services/mime/address-list.js';
import { parseHeaderFields, parseStructured } from '../services/mime/header-fields.js';
import { MIME_DEPTH_MAX, MIME_PARTS_MAX } from '../services/mime/mime-parser.js';
import { atom, imapList, imapString } from './imap-replies.js';

export interface MimePart {
  /** The header section with the empty line that ends it. */
  header: Buffer;
  body: Buffer;
  /** Lower-cased, e.g. "text" and "plain". */
  type: string;
  subtype: string;
  params: Map<string, string>;
  /** Children of a multipart. */
  parts: MimePart[];
  /** The message inside a message/rfc822 part. */
  message: MimePart | null;
}

/** Every line end made CRLF (a bare LF or CR too), as IMAP sends and counts octets. */
export function toCrlf(message: Buffer): Buffer {
  if (!message.includes(0x0a) && !message.includes(0x0d)) return message;
  const out: Buffer[] = [];
  let start = 0;
  for (let i = 0; i < message.length; i++) {
    const c = message[i];
    if (c === 0x0d && message[i + 1] === 0x0a) {
      i++;
      continue;
    }
    if (c === 0x0a || c === 0x0d) {
      out.push(message.subarray(start, i), Buffer.from('\r\n'));
      start = i + 1;
    }
  }
  out.push(message.subarray(start));
  return out.length === 1 ? message : Buffer.concat(out);
}

/** Splits an entity at its first empty line; the header keeps that line. */
function splitEntity(entity: Buffer): { header: Buffer; body: Buffer } {
  if (entity[0] === 0x0d && entity[1] === 0x0a) return { header: entity.subarray(0, 2), body: entity.subarray(2) };
  const blank = entity.indexOf('\r\n\r\n');
  if (blank === -1) return { header: entity, body: Buffer.alloc(0) };
  return { header: entity.subarray(0, blank + 4), body: entity.subarray(blank + 4) };
}

/** The structure of a message (CRLF line ends). */
export function parseStructure(message: Buffer): MimePart {
  const counter = { parts: 0 };
  return parseEntity(message, 'text/plain', 0, counter);
}

function parseEntity(entity: Buffer, defaultType: string, depth: number, counter: { parts: number }): MimePart {
  counter.parts++;
  const { header, body } = splitEntity(entity);
  const fields = parseHeaderFields(header);
  const ct = parseStructured(fields.find((f) => f.name === 'content-type')?.value);
  const [type, subtype] = (/^[^/\s]+\/[^/\s]+$/.test(ct.value) ? ct.value : defaultType).split('/') as [string, string];
  const part: MimePart = { header, body, type, subtype, params: ct.params, parts: [], message: null };
  // Past the limits the rest is one opaque part, as a mail reader would show it.
  if (depth >= MIME_DEPTH_MAX || counter.parts >= MIME_PARTS_MAX) return part;
  const boundary = ct.params.get('boundary');
  if (type === 'multipart' && boundary !== undefined && boundary !== '') {
    const childType = subtype === 'digest' ? 'message/rfc822' : 'text/plain';
    for (const child of splitParts(body, boundary)) {
      if (counter.parts >= MIME_PARTS_MAX) break;
      part.parts.push(parseEntity(child, childType, depth + 1, counter));
    }
  } else if (type === 'message' && subtype === 'rfc822') {
    part.message = parseEntity(body, 'text/plain', depth + 1, counter);
  }
  return part;
}

/** Body parts between boundary lines (RFC 2046 §5.1.1); the CRLF before a delimiter is the delimiter's. */
function splitParts(body: Buffer, boundary: string): Buffer[] {
  const delimiter = Buffer.from(`--${boundary}`, 'latin1');
  const out: Buffer[] = [];
  let start = -1;
  let pos = 0;
  for (;;) {
    const found = body.indexOf(delimiter, pos);
    if (found === -1) break;
    pos = found + delimiter.length;
    if (found !== 0 && body[found - 1] !== 0x0a) continue;
    if (start !== -1) out.push(body.subarray(start, Math.max(start, found - 2)));
    if (body[pos] === 0x2d && body[pos + 1] === 0x2d) return out;
    const lineEnd = body.indexOf(0x0a, pos);
    if (lineEnd === -1) return out;
    start = lineEnd + 1;
  }
  if (start !== -1 && start < body.length) out.push(body.subarray(start));
  return out;
}

/** A section spec that names nothing in this message. */
export class SectionError extends Error {}

/** The octets of BODY[spec] (RFC 3501 §6.4.5): "", "HEADER", "TEXT", "1.2", "1.MIME", "HEADER.FIELDS (A B)". */
export function sectionBytes(root: MimePart, spec: string): Buffer {
  const m = /^((?:\d+\.)*\d+)?\.?(.*)$/s.exec(spec)!;
  const numbers = m[1] === undefined ? [] : m[1].split('.').map(Number);
  const text = m[2]!.toUpperCase();
  let node = root;
  for (const n of numbers) node = childPart(node, n);
  if (text === '') return numbers.length === 0 ? Buffer.concat([root.header, root.body]) : node.body;
  if (text === 'MIME') {
    if (numbers.length === 0) throw new SectionError('MIME needs a part number');
    return node.header;
  }
  const message = numbers.length === 0 ? root : node.message;
  if (message === null) throw new SectionError(`part ${numbers.join('.')} is not a message, so it has no ${text}`);
  if (text === 'HEADER') return message.header;
  if (text === 'TEXT') return message.body;
  const fields = /^HEADER\.FIELDS(\.NOT)? \(([^()]*)\)$/.exec(text);
  if (fields === null) throw new SectionError(`"${spec}" is not a section`);
  return headerFields(message.header, fields[2]!.split(' ').filter((f) => f !== '').map((f) => f.replace(/^"|"$/g, '').toLowerCase()), fields[1] !== undefined);
}

function childPart(node: MimePart, n: number): MimePart {
  if (node.parts.length > 0) {
    const child = node.parts[n - 1];
    if (child === undefined) throw new SectionError(`there is no part ${n}`);
    return child;
  }
  if (node.message !== null) return childPart(node.message, n);
  // RFC 3501 §6.4.5: a message that is not multipart has one part, 1: its body.
  if (n !== 1) throw new SectionError(`there is no part ${n}`);
  return node;
}

/** The header lines named (or all but those, with `not`), then the empty line. */
function headerFields(header: Buffer, names: string[], not: boolean): Buffer {
  const wanted = new Set(names);
  const out: Buffer[] = [];
  let keep = false;
  let start = 0;
  while (start < header.length) {
    const end = header.indexOf('\r\n', start);
    const stop = end === -1 ? header.length : end + 2;
    const line = header.subarray(start, stop);
    if (line.length > 2 && line[0] !== 0x20 && line[0] !== 0x09) {
      const colon = line.indexOf(0x3a);
      const name = colon === -1 ? '' : line.subarray(0, colon).toString('latin1').trim().toLowerCase();
      keep = name !== '' && wanted.has(name) !== not;
    } else if (line.length <= 2) {
      keep = false;
    }
    if (keep) out.push(line);
    start = stop;
  }
  out.push(Buffer.from('\r\n'));
  return Buffer.concat(out);
}

/** ENVELOPE (RFC 3501 §7.4.2) of a message's header. */
export function envelope(header: Buffer): Buffer {
  const fields = parseHeaderFields(header);
  const field = (name: string): string | null => fields.find((f) => f.name === name)?.value ?? null;
  const addresses = (name: string, fallback?: string): Buffer => {
    const value = field(name) ?? (fallback === undefined ? null : field(fallback));
    const list = parseAddressList(value ?? undefined);
    return imapList(list.map((a) => {
      const at = a.address.lastIndexOf('@');
      return imapList([imapString(a.name === '' ? null : encodeName(a.name)), atom('NIL'), imapString(a.address.slice(0, at)), imapString(a.address.slice(at + 1))]);
    }), true);
  };
  const raw = (name: string): Buffer => {
    const value = field(name);
    return imapString(value === null ? null : Buffer.from(value, 'latin1'));
  };
  return imapList([
    raw('date'), raw('subject'), addresses('from'), addresses('sender', 'from'), addresses('reply-to', 'from'),
    addresses('to'), addresses('cc'), addresses('bcc'), raw('in-reply-to'), raw('message-id'),
  ]);
}

/** A decoded display name back into 7-bit form (RFC 2047 B encoding) when it needs it. */
function encodeName(name: string): string {
  // eslint-disable-next-line no-control-regex
  return /^[\x20-\x7e]*$/.test(name) ? name : `=?utf-8?b?${Buffer.from(name, 'utf8').toString('base64')}?=`;
}

/** BODYSTRUCTURE (with extension data) or BODY (without), RFC 3501 §7.4.2. */
export function bodyStructure(part: MimePart, extensible: boolean): Buffer {
  const fields = parseHeaderFields(part.header);
  const field = (name: string): string | undefined => fields.find((f) => f.name === name)?.value;
  const params = (map: Map<string, string>): Buffer => imapList([...map].flatMap(([k, v]) => [imapString(k.toUpperCase()), imapString(v)]), true);
  const disposition = (): Buffer => {
    const d = parseStructured(field('content-disposition'));
    return d.value === '' ? atom('NIL') : imapList([imapString(d.value.toUpperCase()), params(d.params)]);
  };
  if (part.parts.length > 0) {
    const items = part.parts.map((p) => bodyStructure(p, extensible));
    const tail = [imapString(part.subtype.toUpperCase())];
    if (extensible) {
      const own = new Map(part.params);
      tail.push(params(own), disposition(), imapString(field('content-language') ?? null));
    }
    return Buffer.concat([Buffer.from('('), ...items, Buffer.from(' '), ...joinSpaced(tail), Buffer.from(')')]);
  }
  const encoding = (field('content-transfer-encoding') ?? '7bit').trim().toUpperCase();
  const items = [
    imapString(part.type.toUpperCase()), imapString(part.subtype.toUpperCase()), params(part.params),
    imapString(field('content-id') ?? null), imapString(field('content-description') ?? null), imapString(encoding),
    atom(String(part.body.length)),
  ];
  if (part.type === 'message' && part.subtype === 'rfc822' && part.message !== null) {
    items.push(envelope(part.message.header), bodyStructure(part.message, extensible), atom(String(lineCount(part.body))));
  } else if (part.type === 'text') {
    items.push(atom(String(lineCount(part.body))));
  }
  if (extensible) items.push(imapString(field('content-md5') ?? null), disposition(), imapString(field('content-language') ?? null));
  return imapList(items);
}

function joinSpaced(items: Buffer[]): Buffer[] {
  return items.flatMap((item, i) => (i === 0 ? [item] : [Buffer.from(' '), item]));
}

function lineCount(body: Buffer): number {
  let lines = 0;
  for (const b of body) if (b === 0x0a) lines++;
  return body.length > 0 && body[body.length - 1] !== 0x0a ? lines + 1 : lines;
}
