/**
 * Which form field an API error is about, so it shows next to that field: the API names the
 * problem with a reason code (BAD_USERNAME, NAME_TAKEN, WRONG_PASSWORD, ...).
 */
import { ApiError, describeError } from '../api/api-error';

export type AccountField = 'username' | 'password' | 'oldPassword' | 'newPassword';

export interface PlacedError {
  field: AccountField | null;
  message: string;
}

const FIELD_BY_REASON: Record<string, AccountField> = {
  BAD_USERNAME: 'username',
  NAME_TAKEN: 'username',
  USERNAME_RESERVED: 'username',
  WRONG_PASSWORD: 'oldPassword',
};

/** Where `err` belongs in a form that has `fields`, and its text for the user. */
export function placeError(err: unknown, fields: readonly AccountField[]): PlacedError {
  if (err instanceof ApiError && err.reason === 'WRONG_PASSWORD') {
    return { field: fields.includes('oldPassword') ? 'oldPassword' : null, message: 'That is not your current password.' };
  }
  const message = humanize(describeError(err));
  if (!(err instanceof ApiError)) return { field: null, message };
  let field: AccountField | undefined = err.reason === undefined ? undefined : FIELD_BY_REASON[err.reason];
  if (err.reason === 'BAD_PASSWORD') {
    if (/^oldPassword/i.test(err.message)) field = 'oldPassword';
    else if (/^newPassword/i.test(err.message)) field = 'newPassword';
    else field = fields.includes('newPassword') ? 'newPassword' : 'password';
  }
  return field !== undefined && fields.includes(field) ? { field, message } : { field: null, message };
}

/** The API's messages name JSON fields ("newPassword must be ..."): say it in words. */
function humanize(text: string): string {
  return text
    .replace(/\bNewPassword\b|\bnewPassword\b/g, (m) => (m[0] === 'N' ? 'The new password' : 'the new password'))
    .replace(/\bOldPassword\b|\boldPassword\b/g, (m) => (m[0] === 'O' ? 'The current password' : 'the current password'))
    .replace(/try again in (\d+) s\b/, (_m, s: string) => `try again in ${inMinutes(Number(s))}`)
    .replace(/^Password\b/, 'The password')
    .replace(/^Username\b/, 'The username');
}

/** A lock-out's wait as people say it: "15 minutes", "1 minute" (rounded up: never too early). */
export function inMinutes(seconds: number): string {
  const minutes = Math.max(1, Math.ceil(seconds / 60));
  return minutes === 1 ? '1 minute' : `${minutes} minutes`;
}
