/**
 * Paths of a user's file tree: "/"-separated names below the root. Empty segments are
 * ignored ("/a//b/" is "/a/b"); "." and ".." are refused rather than interpreted, so a path
 * always means the names it spells.
 */
import { PennError } from '../protocol/errors.js';

/** Longest name of a file or folder, in UTF-8 bytes (what common file systems allow). */
export const NAME_BYTES_MAX = 255;
/** Deepest nesting of folders; resolving a path is one store read per level. */
export const PATH_DEPTH_MAX = 64;

/** Control characters (C0, DEL, C1): never part of a name. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
/** Half of a UTF-16 surrogate pair: no UTF-8 form, so no name. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Checks one name; `what` says where it came from in the message. */
export function checkName(name: string, what = 'name'): string {
  if (name === '' || name === '.' || name === '..') {
    throw new PennError('BAD_REQUEST', `${what} "${name}" is not allowed`, { reason: 'BAD_NAME' });
  }
  if (name.includes('/') || name.includes('\\') || CONTROL.test(name)) {
    throw new PennError('BAD_REQUEST', `${what} must not contain "/", "\\" or control characters`, { reason: 'BAD_NAME' });
  }
  if (Buffer.byteLength(name, 'utf8') > NAME_BYTES_MAX) {
    throw new PennError('BAD_REQUEST', `${what} is longer than ${NAME_BYTES_MAX} bytes`, { reason: 'BAD_NAME' });
  }
  if (LONE_SURROGATE.test(name)) {
    throw new PennError('BAD_REQUEST', `${what} is not valid Unicode`, { reason: 'BAD_NAME' });
  }
  return name;
}

/** Splits and checks a path; [] is the root. */
export function parsePath(path: string): string[] {
  const names = path.split('/').filter((s) => s !== '');
  if (names.length > PATH_DEPTH_MAX) {
    throw new PennError('BAD_REQUEST', `the path is deeper than ${PATH_DEPTH_MAX} folders`, { reason: 'BAD_PATH' });
  }
  for (const name of names) checkName(name, 'every name in a path');
  return names.map((n) => n.normalize('NFC'));
}

/** The text form of a parsed path: "/" for the root. */
export function formatPath(names: readonly string[]): string {
  return '/' + names.join('/');
}
