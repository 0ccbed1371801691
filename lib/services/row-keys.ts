/**
 * Row names of the services. Every row starts with two letters taken from a hash of its
 * logical key, so rows of one user, one file or one kind spread over the whole key space and
 * therefore over tablets and replica groups (tablets are row-key ranges; conf/ starts them at
 * letters). The kind follows, so a row read in the admin console says what it holds:
 * `kq:user:ann`, `bd:chunk:5f0c...:17`.
 */
import { createHash } from 'node:crypto';

/** The kinds of row the services write; one per concept. */
export type RowKind = 'user' | 'session' | 'token' | 'tokens' | 'share' | 'shares' | 'grants' | 'granted' | 'search' | 'throttle' | 'node' | 'chunk' | 'usage' | 'mailbox' | 'outbound';

const LETTERS = 'abcdefghijklmnopqrstuvwxyz';

/** The row that holds `key` of `kind`. */
export function rowKey(kind: RowKind, key: string): string {
  const digest = createHash('sha256').update(kind).update('\0').update(key).digest();
  return `${LETTERS[digest[0]! % 26]}${LETTERS[digest[1]! % 26]}:${kind}:${key}`;
}
