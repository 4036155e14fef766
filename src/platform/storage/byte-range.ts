import type { ByteRange } from './object-store';

export interface InclusiveRange {
  start: number;
  end: number;
}

/** Clamps an inclusive range to an object of `size` bytes; null when it starts beyond the end. */
export function clampRange(range: ByteRange, size: number): InclusiveRange | null {
  const { start } = range;
  if (!Number.isSafeInteger(start) || start < 0 || start >= size) return null;
  const wanted = range.end ?? size - 1;
  if (!Number.isSafeInteger(wanted) || wanted < start) return null;
  return { start, end: Math.min(wanted, size - 1) };
}

export type RangeRequest =
  | { kind: 'whole' } // no Range header, a malformed one, another unit, or several ranges
  | { kind: 'unsatisfiable' }
  | ({ kind: 'range' } & InclusiveRange);

const SINGLE_RANGE = /^bytes=[ \t]*(\d*)-(\d*)[ \t]*$/i;

/**
 * Reads an HTTP `Range` header (RFC 9110 §14.2) for an object of `size` bytes. Only one range is
 * honoured: `bytes=a-b`, `bytes=a-` and `bytes=-n`. Several ranges, or syntax we do not understand,
 * answer with the whole object (a server may ignore Range); a well-formed range that starts past
 * the end is unsatisfiable (416).
 */
export function parseRangeHeader(header: string | undefined, size: number): RangeRequest {
  if (header === undefined) return { kind: 'whole' };
  const match = SINGLE_RANGE.exec(header);
  if (!match) return { kind: 'whole' };
  const [, first, last] = match;
  if (first === '' && last === '') return { kind: 'whole' };
  // Digits too long for a safe integer are still a valid range (RFC 9110 puts no bound on them):
  // they lie past the end of any object we hold, so they are read as "past the end", not ignored.
  const huge = (digits: string) => !Number.isSafeInteger(Number(digits));
  if (first === '') {
    // Suffix range: the last n bytes (all of them when n is past the size).
    const n = huge(last) ? Infinity : Number(last);
    if (n === 0 || size === 0) return { kind: 'unsatisfiable' };
    return { kind: 'range', start: Math.max(0, size - n), end: size - 1 };
  }
  if (huge(first)) return { kind: 'unsatisfiable' }; // its first byte lies past the end
  const start = Number(first);
  // A last byte past the end is clamped to the last byte there is (→ 206 with what exists).
  const end = last === '' ? undefined : huge(last) ? Number.MAX_SAFE_INTEGER : Number(last);
  if (end !== undefined && end < start) return { kind: 'whole' }; // invalid: ignore
  const clamped = clampRange({ start, end }, size);
  return clamped ? { kind: 'range', ...clamped } : { kind: 'unsatisfiable' };
}
