/**
 * One input gate for every route (docs/security.md, issue 13 item 5): text that no form can produce is
 * refused with a 400 in Chinese before any route sees it, instead of reaching PostgreSQL (which
 * rejects NUL in text with an error that used to answer 500).
 *
 * Refused anywhere: invalid UTF-8 (in the raw URL, a JSON or urlencoded body), lone UTF-16
 * surrogates (`"\ud800"` escapes in JSON), NUL and the other C0/C1 control characters and DEL.
 * Tab, line feed and carriage return are allowed in body values only (multi-line text fields:
 * descriptions, comments, reasons); never in the path, the query or a field name.
 *
 *   - `urlGate`: the path and query, percent-decoded to bytes. Mounted first, before the tus
 *     routes and the static files.
 *   - `bodyGate`: the parsed JSON / urlencoded body (values and keys, any depth), and the
 *     `invalidUtf8` mark the body parsers' `verify` hook (`markInvalidUtf8`) leaves on the request.
 *   - `checkMultipartFields`: the same check for multer's text fields (the multer routes call it
 *     once the form is parsed; multer runs after the gate).
 * Cookie values with control characters are read as absent (src/web/cookies.ts).
 */
import { isUtf8 } from 'node:buffer';
import type { IncomingMessage } from 'node:http';
import type { NextFunction, Request, Response } from 'express';
import { AppError } from '../platform/errors';
import { BAD_IN_LINE, hasInvalidCharacters } from '../platform/validate';

export { hasInvalidCharacters };

/** Below this depth nothing is read by any route (nothing we accept nests beyond 3): not walked. */
const MAX_DEPTH = 32;

export const invalidCharacters = (field?: string) =>
  new AppError(400, 'validation_failed', '提交的内容包含无效字符', '提交的内容包含无效字符（如空字符、控制字符或损坏的文字编码），请删除后重试。', [
    { field: field ?? 'request', message: '提交的内容包含无效字符' },
  ]);

/** Percent-decodes to bytes (as a URL parser does) and checks them: valid UTF-8, no controls. */
function badUrlPart(raw: string, plusIsSpace: boolean): boolean {
  if (BAD_IN_LINE.test(raw)) return true;
  if (!raw.includes('%')) return false;
  const bytes: number[] = [];
  for (let i = 0; i < raw.length; i += 1) {
    const ch = raw.charCodeAt(i);
    if (ch === 0x25 && /^[0-9a-fA-F]{2}$/.test(raw.slice(i + 1, i + 3))) {
      bytes.push(Number.parseInt(raw.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (ch < 0x80) {
      bytes.push(plusIsSpace && ch === 0x2b ? 0x20 : ch);
    } else {
      bytes.push(...Buffer.from(raw[i] as string, 'utf8'));
    }
  }
  const buffer = Buffer.from(bytes);
  if (!isUtf8(buffer)) return true;
  return BAD_IN_LINE.test(buffer.toString('utf8'));
}

/** Path and query of every request. */
export function urlGate(req: Request, _res: Response, next: NextFunction): void {
  const url = req.originalUrl ?? req.url;
  const q = url.indexOf('?');
  const pathPart = q < 0 ? url : url.slice(0, q);
  const queryPart = q < 0 ? '' : url.slice(q + 1);
  if (badUrlPart(pathPart, false)) return next(invalidCharacters('path'));
  if (queryPart && badUrlPart(queryPart, true)) return next(invalidCharacters('query'));
  next();
}

/** For express.json / express.urlencoded `verify`: marks a body that is not valid UTF-8. */
export function markInvalidUtf8(req: IncomingMessage, _res: unknown, buf: Buffer): void {
  if (!isUtf8(buf)) (req as IncomingMessage & { invalidUtf8?: boolean }).invalidUtf8 = true;
}

/** The first key path holding a refused character, or null; '' for the root value. */
export function findInvalidText(value: unknown, path = '', depth = 0): string | null {
  if (typeof value === 'string') return hasInvalidCharacters(value) ? path || 'body' : null;
  if (value === null || typeof value !== 'object') return null;
  if (depth > MAX_DEPTH) return null;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i += 1) {
      const found = findInvalidText(value[i], `${path}[${i}]`, depth + 1);
      if (found !== null) return found;
    }
    return null;
  }
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    const at = path ? `${path}.${key}` : key;
    if (hasInvalidCharacters(key, false)) return path || 'body';
    const found = findInvalidText(v, at, depth + 1);
    if (found !== null) return found;
  }
  return null;
}

/** Field name for the problem: printable, short (it is echoed back). */
const printable = (field: string) =>
  field
    .replace(BAD_IN_LINE, '')
    .replace(/[^\w.[\]-]/g, '')
    .slice(0, 60) || 'body';

/** The parsed JSON / urlencoded body; mounted right after the body parsers. */
export function bodyGate(req: Request, _res: Response, next: NextFunction): void {
  if ((req as Request & { invalidUtf8?: boolean }).invalidUtf8) return next(invalidCharacters('body'));
  const found = findInvalidText(req.body);
  if (found !== null) return next(invalidCharacters(printable(found)));
  next();
}

/** multer's text fields (req.body after the form is parsed): throws the gate's 400. */
export function checkMultipartFields(req: Request): void {
  const found = findInvalidText(req.body);
  if (found !== null) throw invalidCharacters(printable(found));
}
