import crypto from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import type { SessionService } from '../accounts/session.service';
import { AppError } from '../platform/errors';
import { readCookie, SESSION_COOKIE } from './cookies';

/** Resolves the caller from a bearer token (API clients) or the session cookie (browsers). */
export function authenticate(sessions: SessionService) {
  return async (req: Request, _res: Response, next: NextFunction) => {
    req.auth = { user: null, via: null, csrfToken: null, sessionSecret: null, bearerToken: null };
    const header = req.headers.authorization;
    if (header && /^Bearer\s+/i.test(header)) {
      const token = header.replace(/^Bearer\s+/i, '').trim();
      const user = token ? await sessions.resolveApiToken(token) : null;
      if (!user) throw new AppError(401, 'unauthenticated', '需要登录', '令牌无效或已过期，请重新获取。');
      req.auth = { user, via: 'token', csrfToken: null, sessionSecret: null, bearerToken: token };
      return next();
    }
    const secret = readCookie(req, SESSION_COOKIE);
    if (secret) {
      const session = await sessions.resolve(secret);
      if (session) req.auth = { user: session.user, via: 'session', csrfToken: session.csrfToken, sessionSecret: secret, bearerToken: null };
    }
    next();
  };
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export const csrfFailed = () => new AppError(403, 'csrf_failed', '页面已过期', '页面已过期或来源不明，请刷新页面后重试。');

export function tokensMatch(a: string | undefined | null, b: string | undefined | null): boolean {
  if (!a || !b) return false;
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  return ab.length === bb.length && crypto.timingSafeEqual(ab, bb);
}

/** The CSRF token a request presents: form field, header (scripts), or query (multipart forms). */
export function presentedCsrf(req: Request): string | undefined {
  const body = req.body as Record<string, unknown> | undefined;
  const fromBody = body && typeof body._csrf === 'string' ? body._csrf : undefined;
  const fromHeader = req.get('x-csrf-token');
  const fromQuery = typeof req.query._csrf === 'string' ? req.query._csrf : undefined;
  return fromBody ?? fromHeader ?? fromQuery;
}

/**
 * Every state-changing request made with the session cookie must carry the session's CSRF token.
 * Bearer requests need none (a browser never attaches them by itself). The login form, before
 * a session exists, is checked by its own double-submit cookie.
 */
export function csrfProtection(req: Request, _res: Response, next: NextFunction): void {
  if (SAFE_METHODS.has(req.method) || req.auth.via !== 'session') return next();
  if (!tokensMatch(presentedCsrf(req), req.auth.csrfToken)) throw csrfFailed();
  next();
}
