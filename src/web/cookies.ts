import type { Request, Response } from 'express';
import { hasInvalidCharacters } from './input-gate';

export const SESSION_COOKIE = 'cx_sid';
/** Double-submit token for the login form, before any session exists. */
export const PRELOGIN_COOKIE = 'cx_pre';

export function readCookie(req: Request, name: string): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) {
      try {
        // A value with control characters was not set by us: read as no cookie at all.
        const value = decodeURIComponent(part.slice(eq + 1).trim());
        return hasInvalidCharacters(value, false) ? undefined : value;
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

export function setCookie(res: Response, name: string, value: string, opts: { secure: boolean; maxAgeMs?: number }): void {
  res.cookie(name, value, { httpOnly: true, sameSite: 'lax', secure: opts.secure, path: '/', maxAge: opts.maxAgeMs });
}

export function clearCookie(res: Response, name: string, opts: { secure: boolean }): void {
  res.clearCookie(name, { httpOnly: true, sameSite: 'lax', secure: opts.secure, path: '/' });
}
