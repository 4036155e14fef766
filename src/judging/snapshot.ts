import { createHash } from 'node:crypto';

/**
 * Frozen results (issue 18): the canonical JSON of a round's results and its SHA-256.
 *
 * Canonical form: object keys sorted by UTF-16 code unit order at every level, no whitespace,
 * arrays in their given order (the snapshot builder sorts them), numbers as JSON.stringify
 * writes them, strings as JSON escapes them; the hash is SHA-256 of the UTF-8 bytes, lowercase hex.
 * Anyone with the text can recompute the hash: `sha256sum` of the file gives the same value.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value)) throw new Error('canonicalJson: non-finite number');
    if (value === undefined) throw new Error('canonicalJson: undefined');
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const keys = Object.keys(value)
    .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`).join(',')}}`;
}

export const sha256Hex = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

export interface SnapshotAward {
  award: string;
  code: string;
  title: string;
  song: string;
  form: string;
  school: string;
  county: string;
}

export interface ResultsSnapshot {
  /** The shape's version: a reader knows which fields to expect. */
  format: 1;
  round: { id: string; name: string };
  /** Awarded entries, tier order (一等奖 first), then by code. */
  awards: SnapshotAward[];
  /** Every scored entry's place: code, rank, score (two decimals, as shown to staff). */
  ranking: Array<{ code: string; rank: number; score: string }>;
}
