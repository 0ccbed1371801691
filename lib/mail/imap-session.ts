/**
 * One IMAP conversation (RFC 3501 IMAP4rev1, with RFC 2177 IDLE, RFC 6154 SPECIAL-USE, RFC 6851
 * MOVE, RFC 4315 UIDPLUS, RFC 7888 LITERAL+, RFC 4959 SASL-IR, RFC 2971 ID and RFC 3691
 * UNSELECT) as a state machine: a command's bytes in, reply bytes out. The states are the RFC's: NOT AUTHENTICATED,
 * AUTHENTICATED, SELECTED and LOGOUT. The shell (imap-server.ts) owns the socket, the timers
 * and TLS.
 */
import { isPennError } from '../protocol/errors.js';
import { FetchSyntaxError, parseFetchItems, type FetchItem } from './imap-fetch.js';
import { appendMessage, BadCommand, checkFlags, folderArg, folderStatus, lines, listFolders } from './imap-folder-commands.js';
import { IMAP_FOLDERS, type ImapAccount, type ImapStore } from './imap-mailstore.js';
import { ImapSyntaxError, parseCommand, tokenText, type ParsedCommand, type Token } from './imap-parser.js';
import { parseSearch, SearchSyntaxError } from './imap-search.js';
import { FlagLimitError, SelectedFolder, type StoreMode } from './imap-selected.js';
import { parseSequenceSet, SequenceSyntaxError } from './imap-sequence.js';

export type ImapState = 'NOT AUTHENTICATED' | 'AUTHENTICATED' | 'SELECTED' | 'LOGOUT';

export interface ImapOptions {
  store: ImapStore;
  remoteAddress: string;
  /** Failed LOGIN or AUTHENTICATE attempts before the connection is closed. */
  failedLoginsMax: number;
  /** Offer STARTTLS (a certificate is configured, the connection is not yet secure); logging in waits for it. */
  tlsAvailable: () => boolean;
}

/** What the shell does after writing a reply. */
export type AfterReply = 'continue' | 'close' | 'start-tls' | 'idle';

export interface ImapReply {
  /** Written in order; a generator is read as it is written (a FETCH of many messages). */
  chunks: Iterable<Buffer> | AsyncIterable<Buffer>;
  after: AfterReply;
}

export class ImapSession {
  state: ImapState = 'NOT AUTHENTICATED';
  private user: string | null = null;
  private account: ImapAccount | null = null;
  private selected: SelectedFolder | null = null;
  private failedLogins = 0;
  /** The tag of an AUTHENTICATE waiting for its response line (RFC 3501 §6.2.2). */
  private saslTag: string | null = null;
  /** The tag of a running IDLE, waiting for DONE (RFC 2177). */
  private idleTag: string | null = null;

  constructor(private readonly options: ImapOptions) {}

  greeting(): Buffer {
    return Buffer.from(`* OK [CAPABILITY ${this.capabilities()}] PennCloud IMAP4rev1 server ready\r\n`);
  }

  get loggedInUser(): string | null {
    return this.user;
  }

  get idling(): boolean {
    return this.idleTag !== null;
  }

  /** Handles one command as the framer gave it (with its CRLF and literals). */
  async handle(bytes: Buffer): Promise<ImapReply> {
    if (this.saslTag !== null) return this.saslResponse(bytes.toString('latin1').replace(/\r?\n$/, ''));
    if (this.idleTag !== null) return this.idleDone(bytes.toString('latin1').replace(/\r?\n$/, ''));
    let command: ParsedCommand;
    try {
      command = parseCommand(bytes);
    } catch (e) {
      if (!(e instanceof ImapSyntaxError)) throw e;
      return lines([`${e.tag ?? '*'} BAD ${e.message}`]);
    }
    try {
      return await this.dispatch(command);
    } catch (e) {
      if (e instanceof BadCommand || e instanceof SequenceSyntaxError || e instanceof FetchSyntaxError || e instanceof SearchSyntaxError) {
        return lines([`${command.tag} BAD ${e.message}`]);
      }
      if (e instanceof FlagLimitError) return lines([`${command.tag} NO [LIMIT] ${e.message}`]);
      if (isPennError(e, 'UNAVAILABLE') || isPennError(e, 'TIMEOUT')) return lines([`${command.tag} NO [UNAVAILABLE] the mail store is unavailable, try again later`]);
      if (isPennError(e, 'TOO_LARGE') || isPennError(e, 'QUOTA_EXCEEDED')) return lines([`${command.tag} NO [${isPennError(e, 'TOO_LARGE') ? 'LIMIT' : 'OVERQUOTA'}] ${e.message}`]);
      throw e;
    }
  }

  /** Untagged news for an IDLE client: new mail, flags changed or messages removed elsewhere. */
  async idleNews(): Promise<Buffer[]> {
    if (this.idleTag === null || this.selected === null) return [];
    return this.selected.refresh(true);
  }

  private capabilities(): string {
    const tlsFirst = this.state === 'NOT AUTHENTICATED' && this.options.tlsAvailable();
    const caps = ['IMAP4rev1', 'LITERAL+', 'SASL-IR', 'ID', 'IDLE', 'MOVE', 'UIDPLUS', 'SPECIAL-USE', 'NAMESPACE', 'UNSELECT'];
    // RFC 3501 §6.2.1, §7.2.1: before STARTTLS, no way to send a password in the clear.
    if (tlsFirst) caps.push('STARTTLS', 'LOGINDISABLED');
    else if (this.state === 'NOT AUTHENTICATED') caps.push('AUTH=PLAIN');
    return caps.join(' ');
  }

  private async dispatch(c: ParsedCommand): Promise<ImapReply> {
    const { tag, name } = c;
    switch (name) {
      case 'CAPABILITY': return lines([`* CAPABILITY ${this.capabilities()}`, `${tag} OK CAPABILITY completed`]);
      // RFC 2971: what the client says of itself is not needed; the server names itself.
      case 'ID': return lines(['* ID ("name" "PennCloud")', `${tag} OK ID completed`]);
      case 'NOOP':
      case 'CHECK': return lines([...(await this.news(true)), `${tag} OK ${name} completed`]);
      case 'LOGOUT':
        this.state = 'LOGOUT';
        return { chunks: [Buffer.from(`* BYE PennCloud IMAP server signing off\r\n${tag} OK LOGOUT completed\r\n`)], after: 'close' };
    }
    if (this.state === 'NOT AUTHENTICATED') return this.notAuthenticated(c);
    if (this.state === 'SELECTED') {
      const reply = await this.inSelected(c);
      if (reply !== null) return reply;
    }
    return this.authenticated(c);
  }

  /** News for the client before a reply, where RFC 3501 §7.4.1 allows it; expunges only when told. */
  private async news(expunges: boolean): Promise<Buffer[]> {
    return this.selected === null ? [] : this.selected.refresh(expunges);
  }

  private async notAuthenticated(c: ParsedCommand): Promise<ImapReply> {
    const { tag, name, args } = c;
    if ((name === 'LOGIN' || name === 'AUTHENTICATE') && this.options.tlsAvailable()) {
      return lines([`${tag} NO [PRIVACYREQUIRED] send STARTTLS first: passwords are accepted only over TLS`]);
    }
    switch (name) {
      case 'STARTTLS':
        if (!this.options.tlsAvailable()) return lines([`${tag} BAD TLS is not available`]);
        return { chunks: [Buffer.from(`${tag} OK begin TLS negotiation now\r\n`)], after: 'start-tls' };
      case 'LOGIN': {
        const user = tokenText(args[0]);
        const password = tokenText(args[1]);
        if (user === null || password === null || args.length !== 2) throw new BadCommand('usage: LOGIN user password');
        return this.login(tag, user, password);
      }
      case 'AUTHENTICATE': {
        const mechanism = tokenText(args[0])?.toUpperCase();
        if (mechanism !== 'PLAIN') return lines([`${tag} NO only AUTHENTICATE PLAIN is supported`]);
        const initial = tokenText(args[1]);
        if (initial !== null) return this.authPlain(tag, initial);
        this.saslTag = tag;
        return lines(['+ ']);
      }
      default:
        return lines([`${tag} BAD ${name} is not valid before logging in (LOGIN or AUTHENTICATE PLAIN first)`]);
    }
  }

  private async saslResponse(line: string): Promise<ImapReply> {
    const tag = this.saslTag!;
    this.saslTag = null;
    if (line === '*') return lines([`${tag} BAD authentication cancelled`]);
    return this.authPlain(tag, line);
  }

  /** RFC 4616: base64 of authzid NUL authcid NUL passwd; "=" is an empty initial response. */
  private async authPlain(tag: string, encoded: string): Promise<ImapReply> {
    const decoded = encoded === '=' ? '' : Buffer.from(encoded, 'base64').toString('utf8');
    const parts = decoded.split('\0');
    if (parts.length !== 3 || parts[1] === '' || (parts[0] !== '' && parts[0] !== parts[1])) {
      return this.refuse(tag, 'malformed or unsupported PLAIN credentials');
    }
    return this.login(tag, parts[1]!, parts[2]!);
  }

  private async login(tag: string, userInput: string, password: string): Promise<ImapReply> {
    const user = userInput.toLowerCase();
    let valid: boolean;
    try {
      valid = await this.options.store.authenticate(user, password, this.options.remoteAddress);
    } catch (e) {
      // RFC 5530 §3: a temporary refusal; the text says how long to wait.
      if (isPennError(e, 'RATE_LIMITED')) return lines([`${tag} NO [UNAVAILABLE] ${e.message}`]);
      throw e;
    }
    if (!valid) return this.refuse(tag, 'invalid user name or password');
    this.user = user;
    this.account = this.options.store.open(user);
    this.state = 'AUTHENTICATED';
    return lines([`${tag} OK [CAPABILITY ${this.capabilities()}] logged in as ${user}`]);
  }

  private refuse(tag: string, text: string): ImapReply {
    this.failedLogins++;
    if (this.failedLogins >= this.options.failedLoginsMax) {
      return { chunks: [Buffer.from(`* BYE too many failed attempts, closing\r\n${tag} NO [AUTHENTICATIONFAILED] ${text}\r\n`)], after: 'close' };
    }
    return lines([`${tag} NO [AUTHENTICATIONFAILED] ${text}`]);
  }

  private async authenticated(c: ParsedCommand): Promise<ImapReply> {
    const { tag, name, args } = c;
    const account = this.account!;
    switch (name) {
      case 'SELECT':
      case 'EXAMINE': {
        this.selected = null;
        this.state = 'AUTHENTICATED';
        const folder = folderArg(args[0]);
        if (folder === null) return lines([`${tag} NO no folder "${tokenText(args[0]) ?? ''}"; the folders are ${IMAP_FOLDERS.map((f) => f.name).join(', ')}`]);
        const selected = new SelectedFolder(account, folder.folder, folder.name, name === 'EXAMINE');
        const untagged = await selected.open();
        this.selected = selected;
        this.state = 'SELECTED';
        return { chunks: [...untagged, Buffer.from(`${tag} OK [${name === 'EXAMINE' ? 'READ-ONLY' : 'READ-WRITE'}] ${name} completed\r\n`)], after: 'continue' };
      }
      case 'LIST':
      case 'LSUB': return listFolders(c);
      case 'NAMESPACE': return lines(['* NAMESPACE (("" "/")) NIL NIL', `${tag} OK NAMESPACE completed`]);
      case 'STATUS': return folderStatus(account, c, await this.news(false));
      case 'APPEND': return appendMessage(account, c, () => this.news(false));
      case 'SUBSCRIBE':
      case 'UNSUBSCRIBE':
        // Every folder is always subscribed: LSUB lists them all.
        if (folderArg(args[0]) === null) return lines([`${tag} NO no folder "${tokenText(args[0]) ?? ''}"`]);
        return lines([`${tag} OK ${name} completed`]);
      case 'CREATE':
      case 'DELETE':
      case 'RENAME':
        return lines([`${tag} NO [CANNOT] the folders are fixed: ${IMAP_FOLDERS.map((f) => f.name).join(', ')}`]);
      case 'IDLE':
        this.idleTag = tag;
        return { chunks: [...(await this.news(true)), Buffer.from('+ idling\r\n')], after: 'idle' };
      case 'LOGIN':
      case 'AUTHENTICATE':
        return lines([`${tag} BAD already logged in as ${this.user}`]);
      default:
        return lines([`${tag} BAD ${name} is not a known command${this.state === 'AUTHENTICATED' ? ' here (SELECT a folder first?)' : ''}`]);
    }
  }

  private async idleDone(line: string): Promise<ImapReply> {
    const tag = this.idleTag!;
    this.idleTag = null;
    if (line.toUpperCase() !== 'DONE') return lines([`${tag} BAD IDLE ends with DONE`]);
    return lines([`${tag} OK IDLE terminated`]);
  }

  /** Commands of the SELECTED state; null for those that are the AUTHENTICATED state's too. */
  private async inSelected(c: ParsedCommand): Promise<ImapReply | null> {
    const { tag, name } = c;
    const folder = this.selected!;
    switch (name) {
      case 'CLOSE':
      case 'UNSELECT':
        if (name === 'CLOSE' && !folder.readOnly) await folder.expunge(true);
        this.selected = null;
        this.state = 'AUTHENTICATED';
        return lines([`${tag} OK ${name} completed`]);
      case 'EXPUNGE':
        if (folder.readOnly) return lines([`${tag} NO the folder is read-only (EXAMINE)`]);
        return lines([...(await folder.expunge(false)), ...(await folder.refresh(true)), `${tag} OK EXPUNGE completed`]);
      case 'FETCH': case 'STORE': case 'SEARCH': case 'COPY': case 'MOVE':
        return this.messageCommand(tag, name, c.args, false);
      case 'UID': {
        const sub = tokenText(c.args[0])?.toUpperCase() ?? '';
        if (sub === 'EXPUNGE') {
          if (folder.readOnly) return lines([`${tag} NO the folder is read-only (EXAMINE)`]);
          const uids = parseSequenceSet(tokenText(c.args[1]));
          return lines([...(await folder.expunge(false, uids)), ...(await folder.refresh(true)), `${tag} OK UID EXPUNGE completed`]);
        }
        if (!['FETCH', 'STORE', 'SEARCH', 'COPY', 'MOVE'].includes(sub)) throw new BadCommand(`UID ${sub} is not supported (UID FETCH, STORE, SEARCH, COPY, MOVE, EXPUNGE are)`);
        return this.messageCommand(tag, sub, c.args.slice(1), true);
      }
      default:
        return null;
    }
  }

  /**
   * FETCH, STORE, SEARCH, COPY and MOVE, by message number or (`byUid`) by UID. Arguments are
   * checked before the folder is looked at again, so no news is lost to a BAD reply.
   */
  private async messageCommand(tag: string, name: string, args: Token[], byUid: boolean): Promise<ImapReply> {
    const folder = this.selected!;
    const done = `${tag} OK ${byUid ? 'UID ' : ''}${name} completed`;
    const refuseReadOnly = (): ImapReply => lines([`${tag} NO the folder is read-only (EXAMINE)`]);
    if (name === 'SEARCH') {
      const key = parseSearch(args);
      const news = await folder.refresh(byUid);
      const found = await folder.search(key, byUid);
      return lines([...news, `* SEARCH${found.map((n) => ` ${n}`).join('')}`, done]);
    }
    const ranges = parseSequenceSet(tokenText(args[0]));
    let items: FetchItem[] = [];
    let store: { mode: StoreMode; flags: string[]; silent: boolean } | null = null;
    let target: { name: string; folder: string } | null = null;
    if (name === 'FETCH') {
      items = parseFetchItems(args[1]);
      if (args.length > 2) throw new BadCommand('FETCH takes a set and data items');
    } else if (name === 'STORE') {
      if (folder.readOnly) return refuseReadOnly();
      const m = /^([+-]?)FLAGS(\.SILENT)?$/i.exec(tokenText(args[1]) ?? '');
      if (m === null) throw new BadCommand('usage: STORE set [+|-]FLAGS[.SILENT] (flags)');
      const flags = checkFlags(args[2]?.kind === 'list' ? args[2].items : args.slice(2));
      store = { mode: m[1] === '+' ? 'add' : m[1] === '-' ? 'remove' : 'set', flags, silent: m[2] !== undefined };
    } else {
      target = folderArg(args[1]);
      if (target === null) return lines([`${tag} NO [TRYCREATE] no folder "${tokenText(args[1]) ?? ''}"`]);
      if (name === 'MOVE' && folder.readOnly) return refuseReadOnly();
      if (name === 'MOVE' && target.folder === folder.folder) return lines([`${tag} NO [CANNOT] the message is already in ${target.name}`]);
    }
    // RFC 3501 §7.4.1: no EXPUNGE during FETCH, STORE or SEARCH by message number.
    const news = await folder.refresh(byUid || name === 'COPY' || name === 'MOVE');
    // RFC 3501 §6.4.8: a message number past the last one is an error; a UID that is not there is not.
    if (!byUid && folder.count > 0 && folder.outOfRange(ranges)) return lines([...news, `${tag} BAD there are only ${folder.count} messages`]);
    const targets = folder.select(ranges, byUid);
    if (name === 'FETCH') return { chunks: concatChunks(news, folder.fetch(targets, items, byUid), Buffer.from(`${done}\r\n`)), after: 'continue' };
    if (store !== null) return lines([...news, ...(await folder.store(targets, store.mode, store.flags, store.silent, byUid)), done]);
    const { copyUid, expunged } = await folder.transfer(targets, target!.folder, name === 'MOVE');
    // RFC 6851 §4.3: MOVE tells COPYUID untagged, before its EXPUNGEs.
    if (name === 'MOVE') return lines([...news, ...(copyUid === null ? [] : [`* OK [${copyUid}] moved`]), ...expunged, done]);
    return lines([...news, copyUid === null ? done : `${tag} OK [${copyUid}] ${byUid ? 'UID ' : ''}COPY completed`]);
  }
}

async function* concatChunks(before: Buffer[], body: AsyncIterable<Buffer>, after: Buffer): AsyncGenerator<Buffer> {
  yield* before;
  yield* body;
  yield after;
}
