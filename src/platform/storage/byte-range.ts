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
  if (first === '') {
    // Suffix range: the last n bytes.
    const n = Number(last);
    if (!Number.isSafeInteger(n)) return { kind: 'whole' };
    if (n === 0 || size === 0) return { kind: 'unsatisfiable' };
    return { kind: 'range', start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(first);
  const end = last === '' ? undefined : Number(last);
  if (!Number.isSafeInteger(start) || (end !== undefined && !Number.isSafeInteger(end))) {
    return { kind: 'whole' };
  }
  if (end !== undefined && end < start) return { kind: 'whole' }; // invalid: ignore
  const clamped = clampRange({ start, end }, size);
  return clamped ? { kind: 'range', ...clamped } : { kind: 'unsatisfiable' };
}
