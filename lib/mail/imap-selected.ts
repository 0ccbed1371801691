/**
 * The SELECTED state of an IMAP session (RFC 3501 §6.4): one folder's messages numbered 1..n
 * as this session last told the client, and the commands on them (FETCH, STORE, SEARCH, COPY,
 * MOVE, EXPUNGE). Changes made elsewhere (the webmail, another client) are found by a listing
 * and told as untagged EXISTS, EXPUNGE and FETCH FLAGS responses, at the points RFC 3501
 * §7.4.1 allows.
 */
import { isPennError } from '../protocol/errors.js';
import { fetchResponse, flagList, needsBytes, setsSeen, type FetchItem } from './imap-fetch.js';
import type { ImapAccount, ImapMessage } from './imap-mailstore.js';
import { atom } from './imap-replies.js';
import { matches, searchNeedsBytes, type SearchKey } from './imap-search.js';
import { inSequenceSet, type SequenceRange } from './imap-sequence.js';

/** RFC 3501 §2.3.2 system flags a client may set (\Recent is the server's). */
export const SYSTEM_FLAGS = ['\\Seen', '\\Answered', '\\Flagged', '\\Deleted', '\\Draft'];
/**
 * Messages a FETCH reads from the store ahead of the one being written: enough to hide the
 * store's latency, few enough that a FETCH of large messages holds little memory.
 */
export const FETCH_READ_AHEAD = 8;
/** Octets those reads may hold together (one message larger than this is still read, alone). */
export const FETCH_READ_AHEAD_BYTES_MAX = 32 * 1024 * 1024;
/** Flags (system flags and keywords) one message may carry. */
export const FLAGS_PER_MESSAGE_MAX = 32;

export type StoreMode = 'set' | 'add' | 'remove';

export class SelectedFolder {
  private messages: ImapMessage[] = [];
  private stamp: string | null = null;
  private uidValidity = 0;
  private uidNext = 1;
  /** UIDs that arrived while this session had the folder open (\Recent for it). */
  private readonly recent = new Set<number>();
  /** UIDs removed elsewhere but not yet told as EXPUNGE (told at the next NOOP, IDLE, ...). */
  private readonly vanished = new Set<number>();

  constructor(private readonly account: ImapAccount, readonly folder: string, readonly name: string, readonly readOnly: boolean) {}

  /** SELECT/EXAMINE: the untagged responses of RFC 3501 §6.3.1. */
  async open(): Promise<Buffer[]> {
    this.stamp = await this.account.changeStamp(this.folder);
    const view = await this.account.listing(this.folder);
    this.messages = view.messages;
    this.uidValidity = view.uidValidity;
    this.uidNext = view.uidNext;
    const firstUnseen = this.messages.findIndex((m) => !m.seen);
    const lines = [
      `* ${this.messages.length} EXISTS`,
      '* 0 RECENT',
      `* FLAGS (${SYSTEM_FLAGS.join(' ')})`,
      `* OK [PERMANENTFLAGS (${this.readOnly ? '' : `${SYSTEM_FLAGS.join(' ')} \\*`})] flags that stay`,
      ...(firstUnseen === -1 ? [] : [`* OK [UNSEEN ${firstUnseen + 1}] first unseen`]),
      `* OK [UIDVALIDITY ${this.uidValidity}] UIDs valid`,
      `* OK [UIDNEXT ${this.uidNext}] predicted next UID`,
    ];
    return lines.map((l) => Buffer.from(`${l}\r\n`));
  }

  /**
   * What changed since the last look. `expunges` says whether EXPUNGE may be told now (not
   * during FETCH, STORE or SEARCH, RFC 3501 §7.4.1, when message numbers must hold still).
   */
  async refresh(expunges: boolean): Promise<Buffer[]> {
    const out: Buffer[] = [];
    if (expunges) out.push(...this.tellVanished());
    const stamp = await this.account.changeStamp(this.folder);
    if (stamp === this.stamp) return out;
    this.stamp = stamp;
    const view = await this.account.listing(this.folder);
    this.uidNext = view.uidNext;
    const byUid = new Map(view.messages.map((m) => [m.uid, m]));
    for (const m of this.messages) if (!byUid.has(m.uid)) this.vanished.add(m.uid);
    if (expunges) out.push(...this.tellVanished());
    this.messages.forEach((m, i) => {
      const now = byUid.get(m.uid);
      if (now === undefined || sameFlags(m, now)) return;
      this.messages[i] = now;
      out.push(Buffer.concat([atom(`* ${i + 1} FETCH (UID ${m.uid} FLAGS `), flagList(now, this.recent.has(m.uid)), atom(')\r\n')]));
    });
    const largest = this.messages.length === 0 ? 0 : this.messages[this.messages.length - 1]!.uid;
    const arrived = view.messages.filter((m) => m.uid > largest);
    if (arrived.length > 0) {
      for (const m of arrived) this.recent.add(m.uid);
      this.messages.push(...arrived);
      out.push(Buffer.from(`* ${this.messages.length} EXISTS\r\n* ${this.recent.size} RECENT\r\n`));
    }
    return out;
  }

  /** Highest first, so each number is still the one the client knows (RFC 3501 §7.4.1). */
  private tellVanished(): Buffer[] {
    const out: Buffer[] = [];
    for (let i = this.messages.length - 1; i >= 0; i--) {
      if (!this.vanished.has(this.messages[i]!.uid)) continue;
      this.vanished.delete(this.messages[i]!.uid);
      this.recent.delete(this.messages[i]!.uid);
      this.messages.splice(i, 1);
      out.push(Buffer.from(`* ${i + 1} EXPUNGE\r\n`));
    }
    this.vanished.clear();
    return out;
  }

  /** The messages a set names: [message number, message], in order. */
  select(ranges: readonly SequenceRange[], byUid: boolean): [number, ImapMessage][] {
    const largestUid = this.messages.length === 0 ? 0 : this.messages[this.messages.length - 1]!.uid;
    const out: [number, ImapMessage][] = [];
    this.messages.forEach((m, i) => {
      if (byUid ? inSequenceSet(ranges, m.uid, largestUid) : inSequenceSet(ranges, i + 1, this.messages.length)) out.push([i + 1, m]);
    });
    return out;
  }

  /** True when some number of a (non-UID) set is past the last message: RFC 3501 §6.4.8 makes that BAD. */
  outOfRange(ranges: readonly SequenceRange[]): boolean {
    return ranges.some((r) => (r.low ?? this.messages.length) > this.messages.length || (r.high ?? this.messages.length) > this.messages.length);
  }

  /**
   * FETCH responses, one message at a time (read as they are written), with the octets of up
   * to FETCH_READ_AHEAD messages (FETCH_READ_AHEAD_BYTES_MAX together) being read meanwhile.
   */
  async *fetch(targets: [number, ImapMessage][], items: readonly FetchItem[], byUid: boolean): AsyncGenerator<Buffer> {
    const bytes = needsBytes(items);
    const seen = setsSeen(items) && !this.readOnly;
    const live = targets.filter(([, m]) => !this.vanished.has(m.uid));
    const reads: Promise<Buffer | null>[] = [];
    let nextRead = 0;
    let bytesInFlight = 0;
    const readAhead = (from: number): void => {
      while (bytes && nextRead < live.length && nextRead - from < FETCH_READ_AHEAD
        && (nextRead === from || bytesInFlight + live[nextRead]![1].size <= FETCH_READ_AHEAD_BYTES_MAX)) {
        bytesInFlight += live[nextRead]![1].size;
        // Removed elsewhere since the listing: null, told as EXPUNGE at the next NOOP (RFC 2180 §4.1.2).
        reads[nextRead] = this.account.read(live[nextRead]![1].id).catch((e: unknown) => {
          if (isPennError(e, 'NOT_FOUND')) return null;
          throw e;
        });
        nextRead++;
      }
    };
    try {
      for (let i = 0; i < live.length; i++) {
        const [seq, m] = live[i]!;
        let raw: Buffer | null = null;
        if (bytes) {
          readAhead(i);
          raw = await reads[i]!;
          delete reads[i];
          bytesInFlight -= m.size;
          if (raw === null) {
            this.vanished.add(m.uid);
            continue;
          }
        }
        let shown = this.messages[seq - 1] ?? m;
        let extra: FetchItem[] = [];
        if (seen && !shown.seen) {
          shown = await this.writeFlags(seq, shown, true, shown.flags);
          if (!items.some((it) => it.kind === 'FLAGS')) extra = [{ kind: 'FLAGS' }];
        }
        yield fetchResponse(seq, shown, [...items, ...extra], raw, { withUid: byUid, recent: this.recent.has(m.uid) });
      }
    } finally {
      // A reply cut short (the client went away) leaves no read unwatched.
      for (const r of reads) if (r !== undefined) r.catch(() => undefined);
    }
  }

  /** STORE (RFC 3501 §6.4.6): the new flags, and FETCH responses unless `silent`. */
  async store(targets: [number, ImapMessage][], mode: StoreMode, flags: readonly string[], silent: boolean, byUid: boolean): Promise<Buffer[]> {
    const out: Buffer[] = [];
    const wantSeen = flags.some((f) => f.toLowerCase() === '\\seen');
    const others = flags.filter((f) => f.toLowerCase() !== '\\seen' && f.toLowerCase() !== '\\recent');
    for (const [seq, m] of targets) {
      if (this.vanished.has(m.uid)) continue;
      const seen = mode === 'set' ? wantSeen : mode === 'add' ? m.seen || wantSeen : m.seen && !wantSeen;
      const lower = new Set(others.map((f) => f.toLowerCase()));
      const rest = mode === 'set' ? dedupe(others)
        : mode === 'add' ? dedupe([...m.flags, ...others])
          : m.flags.filter((f) => !lower.has(f.toLowerCase()));
      let now = m;
      if (seen !== m.seen || !sameList(rest, m.flags)) {
        if (rest.length > FLAGS_PER_MESSAGE_MAX) throw new FlagLimitError(`a message carries at most ${FLAGS_PER_MESSAGE_MAX} flags`);
        try {
          now = await this.writeFlags(seq, m, seen, rest);
        } catch (e) {
          if (!isPennError(e, 'NOT_FOUND')) throw e;
          this.vanished.add(m.uid);
          continue;
        }
      }
      if (!silent) out.push(Buffer.concat([atom(`* ${seq} FETCH (${byUid ? `UID ${m.uid} ` : ''}FLAGS `), flagList(now, this.recent.has(m.uid)), atom(')\r\n')]));
    }
    return out;
  }

  private async writeFlags(seq: number, m: ImapMessage, seen: boolean, flags: readonly string[]): Promise<ImapMessage> {
    await this.account.setFlags(m.id, seen, flags);
    const now = { ...m, seen, flags: [...flags] };
    this.messages[seq - 1] = now;
    return now;
  }

  /** SEARCH: the message numbers (or UIDs) that match, ascending. */
  async search(key: SearchKey, byUid: boolean): Promise<number[]> {
    const bytes = searchNeedsBytes(key);
    const largestUid = this.messages.length === 0 ? 0 : this.messages[this.messages.length - 1]!.uid;
    const out: number[] = [];
    for (let i = 0; i < this.messages.length; i++) {
      const m = this.messages[i]!;
      if (this.vanished.has(m.uid)) continue;
      let raw: Buffer | null = null;
      if (bytes) {
        try {
          raw = await this.account.read(m.id);
        } catch (e) {
          if (!isPennError(e, 'NOT_FOUND')) throw e;
          continue;
        }
      }
      if (matches(key, { message: m, seq: i + 1, recent: this.recent.has(m.uid), raw, largestSeq: this.messages.length, largestUid })) out.push(byUid ? m.uid : i + 1);
    }
    return out;
  }

  /**
   * COPY, or MOVE (RFC 6851: the moved messages are expunged here, told highest first), with
   * RFC 4315 COPYUID: the target's UIDVALIDITY, the source UIDs and their UIDs there.
   */
  async transfer(targets: [number, ImapMessage][], folder: string, move: boolean): Promise<{ copyUid: string | null; expunged: Buffer[] }> {
    const sources: number[] = [];
    const copies: number[] = [];
    let uidValidity = 0;
    for (const [, m] of targets) {
      try {
        const filed = move ? await this.account.move(m.id, folder) : await this.account.copy(m.id, folder);
        sources.push(m.uid);
        copies.push(filed.uid);
        uidValidity = filed.uidValidity;
      } catch (e) {
        if (!isPennError(e, 'NOT_FOUND')) throw e;
      }
      if (move) this.vanished.add(m.uid);
    }
    const copyUid = sources.length === 0 ? null : `COPYUID ${uidValidity} ${sources.join(',')} ${copies.join(',')}`;
    return { copyUid, expunged: move ? this.tellVanished() : [] };
  }

  /**
   * EXPUNGE (RFC 3501 §6.4.3): removes every \Deleted message, or with `uids` (RFC 4315 UID
   * EXPUNGE) only those of them in the set; `silent` for CLOSE.
   */
  async expunge(silent: boolean, uids: readonly SequenceRange[] | null = null): Promise<Buffer[]> {
    const largestUid = this.messages.length === 0 ? 0 : this.messages[this.messages.length - 1]!.uid;
    for (const m of this.messages) {
      if (!m.flags.some((f) => f.toLowerCase() === '\\deleted')) continue;
      if (uids !== null && !inSequenceSet(uids, m.uid, largestUid)) continue;
      await this.account.expunge(m.id).catch((e: unknown) => {
        if (!isPennError(e, 'NOT_FOUND')) throw e;
      });
      this.vanished.add(m.uid);
    }
    const told = this.tellVanished();
    return silent ? [] : told;
  }

  get count(): number {
    return this.messages.length;
  }
}

/** A STORE that would give a message more flags than it may carry. */
export class FlagLimitError extends Error {}

function sameFlags(a: ImapMessage, b: ImapMessage): boolean {
  return a.seen === b.seen && sameList(a.flags, b.flags);
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function dedupe(flags: readonly string[]): string[] {
  const seen = new Set<string>();
  return flags.filter((f) => {
    const k = f.toLowerCase();
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
