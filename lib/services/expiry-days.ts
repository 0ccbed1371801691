/** A lifetime given in whole days, as tokens and share links take it: 1 to a maximum, or none. */
import { PennError } from '../protocol/errors.js';

/** `value` as days (null: no expiry); BAD_REQUEST with `reason` when it is not 1 to `daysMax`. */
export function checkExpiryDays(value: unknown, daysMax: number, reason: string): number | null {
  if (value === undefined || value === null) return null;
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 1 && value <= daysMax) return value;
  throw new PennError('BAD_REQUEST', `expiresInDays must be a whole number of days from 1 to ${daysMax}, or null for no expiry`, { reason });
}
