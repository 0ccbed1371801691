/**
 * Password hashing: scrypt (RFC 7914) from node:crypto, asynchronous so the event loop keeps
 * serving while a hash is computed, a random salt per account, comparison in constant time.
 * The parameters are stored with each hash, so they can be raised later without breaking
 * existing accounts.
 */
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/** scrypt cost parameters: N=2^15, r=8, p=1 (about 32 MiB and tens of ms per hash). */
export const SCRYPT_PARAMS = Object.freeze({ N: 32_768, r: 8, p: 1 });
/** Bytes of the derived key and of the per-account salt. */
export const HASH_BYTES = 32;
export const SALT_BYTES = 16;
/** Memory scrypt may use: 128 * N * r bytes, with room to spare. */
const SCRYPT_MEMORY_BYTES_MAX = 64 * 1024 * 1024;

/** What an account stores about its password (all base64 text). */
export interface PasswordHash {
  algorithm: 'scrypt';
  N: number;
  r: number;
  p: number;
  salt: string;
  hash: string;
}

function derive(password: string, salt: Buffer, params: { N: number; r: number; p: number }): Promise<Buffer> {
  const options: ScryptOptions = { N: params.N, r: params.r, p: params.p, maxmem: SCRYPT_MEMORY_BYTES_MAX };
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFC'), salt, HASH_BYTES, options, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

/** Hashes a new password with a fresh salt. */
export async function hashPassword(password: string): Promise<PasswordHash> {
  const salt = randomBytes(SALT_BYTES);
  const key = await derive(password, salt, SCRYPT_PARAMS);
  return { algorithm: 'scrypt', ...SCRYPT_PARAMS, salt: salt.toString('base64'), hash: key.toString('base64') };
}

/** True when `password` matches `stored`; the comparison takes the same time either way. */
export async function verifyPassword(password: string, stored: PasswordHash): Promise<boolean> {
  const expected = Buffer.from(stored.hash, 'base64');
  const key = await derive(password, Buffer.from(stored.salt, 'base64'), stored);
  return key.length === expected.length && timingSafeEqual(key, expected);
}

/**
 * A hash of no account's password, checked when the named account does not exist, so a
 * failed log-in takes as long for an unknown name as for a wrong password.
 */
let decoy: Promise<PasswordHash> | undefined;
/** The decoy hash (computed once per process). */
export function decoyHash(): Promise<PasswordHash> {
  decoy ??= hashPassword(randomBytes(16).toString('hex'));
  return decoy;
}
