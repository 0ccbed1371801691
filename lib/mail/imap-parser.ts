/**
 * IMAP command framing and tokens (RFC 3501 §9, RFC 7888 LITERAL+). The framer takes bytes as
 * they arrive and gives whole commands, literals included: a line ending in `{n}` asks for a
 * continuation and n more octets, `{n+}` sends them without asking. The tokenizer turns a
 * command's bytes into a tag, a name and arguments (atoms, strings, parenthesised lists).
 * Pure: no sockets, no timers.
 */

/** Longest command line (not counting literals); RFC 7162 §4 asks for at least 8192 octets. */
export const LINE_BYTES_MAX = 8192;
/** Literals one command may carry (APPEND has one, LOGIN two). */
export const LITERALS_PER_COMMAND_MAX = 16;

export type FrameEvent =
  /** A whole command: its bytes with the literals in place (`{n}` CRLF then the n octets). */
  | { kind: 'command'; bytes: Buffer }
  /** A synchronising literal was announced: the shell sends "+ " so the client goes on. */
  | { kind: 'continue' }
  /**
   * The command breaks a limit. `tag` is its tag when known. `fatal` means the rest of the
   * stream cannot be framed (a non-synchronising literal too big to skip, an endless line).
   */
  | { kind: 'too-big'; tag: string | null; text: string; fatal: boolean };

/** Splits a byte stream into IMAP commands. */
export class CommandFramer {
  private pending: Buffer = Buffer.alloc(0);
  private readonly parts: Buffer[] = [];
  private literalBytesLeft = 0;
  private literals = 0;

  /** `literalBytesMax`: the largest literal taken (APPEND of a message of the mail size limit). */
  constructor(private readonly literalBytesMax: number) {}

  /** Feeds bytes; returns what they complete, in order. */
  push(chunk: Buffer): FrameEvent[] {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const events: FrameEvent[] = [];
    for (;;) {
      if (this.literalBytesLeft > 0) {
        if (this.pending.length === 0) break;
        const take = Math.min(this.literalBytesLeft, this.pending.length);
        this.parts.push(this.pending.subarray(0, take));
        this.pending = this.pending.subarray(take);
        this.literalBytesLeft -= take;
        continue;
      }
      const nl = this.pending.indexOf(0x0a);
      if (nl === -1) {
        if (this.pending.length > LINE_BYTES_MAX) {
          events.push({ kind: 'too-big', tag: this.tag(), text: `command line longer than ${LINE_BYTES_MAX} octets`, fatal: true });
          this.pending = Buffer.alloc(0);
          this.reset();
        }
        break;
      }
      const line = this.pending.subarray(0, nl + 1);
      this.pending = this.pending.subarray(nl + 1);
      if (line.length - 2 > LINE_BYTES_MAX) {
        events.push({ kind: 'too-big', tag: this.tag(line), text: `command line longer than ${LINE_BYTES_MAX} octets`, fatal: false });
        this.reset();
        continue;
      }
      this.parts.push(line);
      const literal = /\{(\d{1,10})(\+?)\}\r?\n$/.exec(line.toString('latin1'));
      if (literal === null) {
        events.push({ kind: 'command', bytes: Buffer.concat(this.parts) });
        this.reset();
        continue;
      }
      const size = Number(literal[1]);
      const nonSync = literal[2] === '+';
      this.literals++;
      if (size > this.literalBytesMax || this.literals > LITERALS_PER_COMMAND_MAX) {
        const text = size > this.literalBytesMax ? `a literal of ${size} octets is over the limit of ${this.literalBytesMax}` : `more than ${LITERALS_PER_COMMAND_MAX} literals in one command`;
        // A synchronising literal is refused before its octets come; a LITERAL+ one is already on its way.
        events.push({ kind: 'too-big', tag: this.tag(), text, fatal: nonSync });
        if (nonSync) this.pending = Buffer.alloc(0);
        this.reset();
        if (nonSync) break;
        continue;
      }
      this.literalBytesLeft = size;
      if (!nonSync) events.push({ kind: 'continue' });
    }
    return events;
  }

  /** True while a command is partly read (a literal or its continuation still to come). */
  get midCommand(): boolean {
    return this.parts.length > 0 || this.literalBytesLeft > 0;
  }

  private tag(line?: Buffer): string | null {
    const first = line ?? this.parts[0] ?? this.pending;
    const m = /^([^\s(){%*"\\\]]+) /.exec(first.subarray(0, 64).toString('latin1'));
    return m === null ? null : m[1]!;
  }

  private reset(): void {
    this.parts.length = 0;
    this.literalBytesLeft = 0;
    this.literals = 0;
  }
}

export type Token =
  | { kind: 'atom'; value: string }
  | { kind: 'string'; value: Buffer }
  | { kind: 'list'; items: Token[] };

export interface ParsedCommand {
  tag: string;
  /** Upper-cased. */
  name: string;
  args: Token[];
}

/** A command that does not parse: `tag` when one was read (then the reply is tagged BAD). */
export class ImapSyntaxError extends Error {
  constructor(readonly tag: string | null, message: string) {
    super(message);
  }
}

/** Nesting of parenthesised lists one command may have. */
export const LIST_DEPTH_MAX = 8;

/** RFC 3501 §9 atom-specials, without "[" "]" (kept inside an atom for BODY[...] and flags). */
const ATOM_END = new Set([0x28, 0x29, 0x7b, 0x20, 0x0d, 0x0a, 0x22]);

/** Parses one whole command as the framer gave it. */
export function parseCommand(bytes: Buffer): ParsedCommand {
  const end = bytes.length - (bytes[bytes.length - 2] === 0x0d ? 2 : bytes[bytes.length - 1] === 0x0a ? 1 : 0);
  const text = bytes.subarray(0, end);
  const first = /^([^\s(){%*"\\]+) ([A-Za-z]+)/.exec(text.subarray(0, 64).toString('latin1'));
  if (first === null) {
    const tag = /^([^\s(){%*"\\]+)/.exec(text.subarray(0, 64).toString('latin1'));
    throw new ImapSyntaxError(tag === null ? null : tag[1]!, 'a command is a tag, a space and a command name');
  }
  const tag = first[1]!;
  const reader = new TokenReader(text, first[0].length, tag);
  return { tag, name: first[2]!.toUpperCase(), args: reader.readAll() };
}

class TokenReader {
  constructor(private readonly text: Buffer, private pos: number, private readonly tag: string) {}

  readAll(): Token[] {
    const out: Token[] = [];
    while (this.pos < this.text.length) {
      if (this.text[this.pos] !== 0x20) this.fail('arguments are separated by single spaces');
      this.pos++;
      out.push(this.token(0));
    }
    return out;
  }

  private fail(problem: string): never {
    throw new ImapSyntaxError(this.tag, `${problem} (at octet ${this.pos})`);
  }

  private token(depth: number): Token {
    const c = this.text[this.pos];
    if (c === undefined) this.fail('an argument is missing');
    if (c === 0x22) return this.quoted();
    if (c === 0x7b) return this.literal();
    if (c === 0x28) return this.list(depth);
    return this.atom();
  }

  private quoted(): Token {
    const out: number[] = [];
    this.pos++;
    for (;;) {
      const c = this.text[this.pos++];
      if (c === undefined) this.fail('a quoted string is not closed');
      if (c === 0x22) return { kind: 'string', value: Buffer.from(out) };
      if (c === 0x5c) {
        const next = this.text[this.pos++];
        if (next !== 0x22 && next !== 0x5c) this.fail('only \\" and \\\\ may be escaped in a quoted string');
        out.push(next);
        continue;
      }
      if (c === 0x0d || c === 0x0a) this.fail('a quoted string may not hold a line end');
      out.push(c);
    }
  }

  private literal(): Token {
    const m = /^\{(\d{1,10})\+?\}\r?\n/.exec(this.text.subarray(this.pos, this.pos + 16).toString('latin1'));
    if (m === null) this.fail('a literal is {size} and a line end');
    const size = Number(m[1]);
    const start = this.pos + m[0].length;
    if (start + size > this.text.length) this.fail('a literal is shorter than announced');
    this.pos = start + size;
    return { kind: 'string', value: this.text.subarray(start, start + size) };
  }

  private list(depth: number): Token {
    if (depth >= LIST_DEPTH_MAX) this.fail(`lists nest at most ${LIST_DEPTH_MAX} deep`);
    this.pos++;
    const items: Token[] = [];
    for (;;) {
      const c = this.text[this.pos];
      if (c === undefined) this.fail('a list is not closed');
      if (c === 0x29) {
        this.pos++;
        return { kind: 'list', items };
      }
      if (items.length > 0) {
        if (c !== 0x20) this.fail('list items are separated by single spaces');
        this.pos++;
      }
      items.push(this.token(depth + 1));
    }
  }

  /** An atom; a "[...]" inside it (BODY[HEADER.FIELDS (A B)]) is taken whole, spaces included. */
  private atom(): Token {
    const start = this.pos;
    while (this.pos < this.text.length) {
      const c = this.text[this.pos]!;
      if (c === 0x5b) {
        const close = this.text.indexOf(0x5d, this.pos);
        if (close === -1) this.fail('a "[" is not closed');
        this.pos = close + 1;
        continue;
      }
      if (ATOM_END.has(c) || c < 0x20 || c > 0x7e) break;
      this.pos++;
    }
    if (this.pos === start) this.fail(`unexpected character "${String.fromCharCode(this.text[this.pos]!)}"`);
    return { kind: 'atom', value: this.text.subarray(start, this.pos).toString('latin1') };
  }
}

/** The text of an atom or string argument (strings as UTF-8), or null for a list. */
export function tokenText(token: Token | undefined): string | null {
  if (token === undefined || token.kind === 'list') return null;
  return token.kind === 'atom' ? token.value : token.value.toString('utf8');
}
