/**
 * Records kept as JSON in a cell. Reading checks the shape, so a damaged or foreign value is a
 * loud INTERNAL error rather than a silent misreading.
 */
import { PennError } from '../protocol/errors.js';

/** Encodes a record for the store. */
export function encodeRecord(value: object): Buffer {
  return Buffer.from(JSON.stringify(value), 'utf8');
}

/** Decodes a record and checks it with `isValid`; `what` names it in the error. */
export function decodeRecord<T>(bytes: Buffer, what: string, isValid: (v: any) => boolean): T {
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new PennError('INTERNAL', `stored ${what} is not valid JSON`);
  }
  if (typeof value !== 'object' || value === null || !isValid(value)) {
    throw new PennError('INTERNAL', `stored ${what} has an unexpected shape`);
  }
  return value as T;
}
