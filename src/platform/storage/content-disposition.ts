import type { Disposition } from './object-store';

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
// C0/C1 controls (CR, LF, NUL, …), quotes, backslash, path separators and other characters that
// browsers or header parsers treat specially.
// eslint-disable-next-line no-control-regex -- control characters are what this pattern finds
const UNSAFE = /[\u0000-\u001f\u007f-\u009f"\\/;]/g;
const MAX_NAME_LENGTH = 150;

/**
 * `Content-Disposition` value for a user-facing file name (often Chinese), e.g.
 * `attachment; filename="_.mp4"; filename*=UTF-8''%E6%A0%A1%E6%AD%8C.mp4` (RFC 6266 + RFC 5987).
 * User text can never break out of the header: controls (CR/LF), quotes and backslashes are removed
 * before anything else, the fallback is pure printable ASCII and the extended value is percent-encoded.
 */
export function contentDisposition(disposition: Disposition, fileName?: string, asciiName?: string): string {
  if (fileName === undefined) return disposition;
  const clean = sanitizeFileName(fileName);
  if (clean === '') return disposition;
  // A given ASCII name (e.g. "ranking.xlsx") is used only when it is plain and safe.
  const fallback = asciiName && /^[A-Za-z0-9._-]{1,100}$/.test(asciiName) ? asciiName : asciiFallback(clean);
  return `${disposition}; filename="${fallback}"; filename*=UTF-8''${encodeRfc5987(clean)}`;
}

export function sanitizeFileName(fileName: string): string {
  const cleaned = fileName.replace(LONE_SURROGATE, '').replace(UNSAFE, '').trim();
  return Array.from(cleaned).slice(0, MAX_NAME_LENGTH).join('');
}

function asciiFallback(name: string): string {
  const dot = name.lastIndexOf('.');
  const ext = dot > 0 && /^\.[A-Za-z0-9]{1,8}$/.test(name.slice(dot)) ? name.slice(dot) : '';
  const stem = (ext ? name.slice(0, dot) : name).replace(/[^\x20-\x7e]+/g, '_').replace(/[%'*]/g, '_');
  // A stem that was all Chinese reads as "_" — name it plainly instead.
  return (/[A-Za-z0-9]/.test(stem) ? stem : 'download') + ext;
}

/** RFC 5987 attr-char encoding: encodeURIComponent leaves ' ( ) * unescaped, which are not attr-chars. */
function encodeRfc5987(value: string): string {
  return encodeURIComponent(value).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}
