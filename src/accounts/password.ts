import crypto from 'node:crypto';
import { promisify } from 'node:util';

const scrypt = promisify(crypto.scrypt) as (password: string, salt: Buffer, keylen: number, options: crypto.ScryptOptions) => Promise<Buffer>;

/**
 * scrypt password hashes with their parameters stored beside them:
 * `scrypt$<log2 N>$<r>$<p>$<salt base64>$<hash base64>` — so the cost can rise later and old
 * hashes still verify (and get re-hashed at the next login).
 */
const KEY_LEN = 64;

export interface ScryptParams {
  logN: number;
  r: number;
  p: number;
}

export function parseHash(stored: string): (ScryptParams & { salt: Buffer; hash: Buffer }) | null {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return null;
  const [logN, r, p] = parts.slice(1, 4).map(Number);
  if (![logN, r, p].every(Number.isInteger)) return null;
  return { logN, r, p, salt: Buffer.from(parts[4], 'base64'), hash: Buffer.from(parts[5], 'base64') };
}

function options({ logN, r, p }: ScryptParams): crypto.ScryptOptions {
  const N = 2 ** logN;
  // scrypt needs 128·N·r bytes; allow twice that.
  return { N, r, p, maxmem: Math.max(256 * 1024 * 1024, 2 * 128 * N * r) };
}

export async function hashPassword(password: string, logN: number): Promise<string> {
  const params = { logN, r: 8, p: 1 };
  const salt = crypto.randomBytes(16);
  const hash = await scrypt(password.normalize('NFKC'), salt, KEY_LEN, options(params));
  return `scrypt$${params.logN}$${params.r}$${params.p}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parsed = parseHash(stored);
  if (!parsed) return false;
  const hash = await scrypt(password.normalize('NFKC'), parsed.salt, parsed.hash.length, options(parsed));
  return crypto.timingSafeEqual(hash, parsed.hash);
}

export function needsRehash(stored: string, logN: number): boolean {
  const parsed = parseHash(stored);
  return !parsed || parsed.logN < logN;
}

/** A readable random password for first logins and resets (no 0/O/1/l confusion). */
export function generatePassword(length = 14): string {
  const alphabet = 'abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789';
  const bytes = crypto.randomBytes(length);
  return Array.from(bytes, (b) => alphabet[b % alphabet.length]).join('');
}

export const PASSWORD_MIN_LENGTH = 8;
