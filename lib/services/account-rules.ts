/**
 * What a username and a password must be. Each check returns the rule in words, so the error a
 * user sees says what to change.
 */
import { PennError } from '../protocol/errors.js';

export const USERNAME_CHARS_MIN = 3;
export const USERNAME_CHARS_MAX = 32;
/** Bounds of a password, in characters; the upper one keeps scrypt's input reasonable. */
export const PASSWORD_CHARS_MIN = 8;
export const PASSWORD_CHARS_MAX = 256;

/**
 * A username is the local part of its mail address, so it must be an RFC 5322 §3.2.3 dot-atom:
 * runs of atext joined by single dots, none at either end. The atext allowed is a subset that
 * reads well and needs no quoting anywhere (letters, digits, "_" and "-").
 */
const USERNAME = /^[a-z][a-z0-9_-]*(?:\.[a-z0-9_-]+)*$/;
/** Names that would read as system addresses (mail comes later and uses user@domain). */
const RESERVED_USERNAMES = new Set(['admin', 'root', 'postmaster', 'abuse', 'mailer-daemon', 'nobody', 'system']);

/** The username rule, as the error states it. */
export const USERNAME_RULE = `a username is ${USERNAME_CHARS_MIN} to ${USERNAME_CHARS_MAX} characters: `
  + 'lower-case letters, digits, ".", "_" or "-", starting with a letter, '
  + 'not ending with "." and without two "." in a row';

/**
 * Checks a username as typed and returns it in canonical form (lower case). Sign-up and
 * log-in both go through here, so "Ann" and "ann" are one account.
 */
export function canonicalUsername(value: unknown): string {
  if (typeof value !== 'string') throw new PennError('BAD_REQUEST', `username is missing; ${USERNAME_RULE}`, { reason: 'BAD_USERNAME' });
  const name = value.trim().toLowerCase();
  if (name.length < USERNAME_CHARS_MIN || name.length > USERNAME_CHARS_MAX || !USERNAME.test(name)) {
    throw new PennError('BAD_REQUEST', `"${value.slice(0, 64)}" is not a valid username; ${USERNAME_RULE}`, { reason: 'BAD_USERNAME' });
  }
  return name;
}

/** Refuses names kept for the system. */
export function checkUsernameAvailableForSignUp(name: string): void {
  if (RESERVED_USERNAMES.has(name)) {
    throw new PennError('CONFLICT', `the username "${name}" is reserved`, { reason: 'USERNAME_RESERVED' });
  }
}

/** Checks a new password; `field` names it in the message. */
export function checkNewPassword(value: unknown, field: string): string {
  if (typeof value !== 'string') throw new PennError('BAD_REQUEST', `${field} is missing`, { reason: 'BAD_PASSWORD' });
  const chars = [...value].length;
  if (chars < PASSWORD_CHARS_MIN || chars > PASSWORD_CHARS_MAX) {
    throw new PennError('BAD_REQUEST',
      `${field} must be ${PASSWORD_CHARS_MIN} to ${PASSWORD_CHARS_MAX} characters long`, { reason: 'BAD_PASSWORD' });
  }
  return value;
}

/** Checks a password given to log in (any string up to the maximum). */
export function checkGivenPassword(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.length === 0) throw new PennError('BAD_REQUEST', `${field} is missing`, { reason: 'BAD_PASSWORD' });
  if ([...value].length > PASSWORD_CHARS_MAX) throw new PennError('BAD_REQUEST', `${field} is longer than ${PASSWORD_CHARS_MAX} characters`, { reason: 'BAD_PASSWORD' });
  return value;
}
