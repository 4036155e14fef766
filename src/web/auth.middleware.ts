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

/**
 * The CSRF token a request presents: its form field (urlencoded) or the X-CSRF-Token header
 * (scripts). Never the URL: a token in a query string lands in proxy and server logs.
 */
export function presentedCsrf(req: Request): string | undefined {
  const body = req.body as Record<string, unknown> | undefined;
  const fromBody = body && typeof body._csrf === 'string' ? body._csrf : undefined;
  return fromBody ?? req.get('x-csrf-token');
}

const isMultipart = (req: Request) => /^multipart\/form-data\b/i.test(req.get('content-type') ?? '');

/**
 * The multipart routes whose parser checks the `_csrf` field (multipartCsrfFilter). A multipart
 * body sent anywhere else is not parsed at all, so there it needs the header like any script.
 */
const MULTIPART_FORM_ROUTES = [
  /^\/entries\/[^/]+\/video$/,
  /^\/api\/v1\/entries\/[^/]+\/video$/,
  /^\/org\/schools\/import$/,
  /^\/api\/v1\/schools\/import$/,
  /^\/entries\/[^/]+\/consent$/,
  /^\/api\/v1\/entries\/[^/]+\/consent$/,
  /^\/results\/objections$/,
  /^\/api\/v1\/objections$/,
  /^\/certificates\/seal$/,
  /^\/api\/v1\/certificates\/seal$/,
];

/**
 * Every state-changing request made with the session cookie must carry the session's CSRF token.
 * Bearer requests need none (a browser never attaches them by itself). The login form, before
 * a session exists, is checked by its own double-submit cookie. A no-JS multipart upload form
 * carries it as its first field: the check is left to that route's upload parser, which makes it
 * before the file part is stored (see multipartCsrfFilter).
 */
export function csrfProtection(req: Request, _res: Response, next: NextFunction): void {
  if (SAFE_METHODS.has(req.method) || req.auth.via !== 'session') return next();
  if (req.get('x-csrf-token') === undefined && isMultipart(req) && MULTIPART_FORM_ROUTES.some((r) => r.test(req.path))) {
    req.auth.csrfPending = true;
    return next();
  }
  if (!tokensMatch(presentedCsrf(req), req.auth.csrfToken)) throw csrfFailed();
  next();
}

/**
 * multer's fileFilter for the multipart form routes: it runs when the file part begins, after the
 * fields before it were parsed. The form's `_csrf` field must be among them (it is the form's first
 * field) and match — else 403 and the file is never written.
 */
export function multipartCsrfFilter(req: Request, _file: unknown, cb: (err: Error | null, accept?: boolean) => void): void {
  try {
    settlePendingCsrf(req);
    cb(null, true);
  } catch (err) {
    cb(err as Error);
  }
}

/** After the multipart parser: a pending check not settled by a file part (no file sent) is made now. */
export function settlePendingCsrf(req: Request): void {
  if (!req.auth?.csrfPending) return;
  const body = req.body as Record<string, unknown> | undefined;
  if (!tokensMatch(body && typeof body._csrf === 'string' ? body._csrf : undefined, req.auth.csrfToken)) throw csrfFailed();
  req.auth.csrfPending = false;
}
