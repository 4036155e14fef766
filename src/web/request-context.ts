import type { Request } from 'express';
import type { CurrentUser } from '../accounts/account.types';
import { requireUser } from '../accounts/policy';

/** What the auth middleware learned about the caller; attached to every request. */
export interface AuthContext {
  user: CurrentUser | null;
  via: 'session' | 'token' | null;
  /** CSRF token of the browser session (null for bearer/anonymous requests) */
  csrfToken: string | null;
  sessionSecret: string | null;
  bearerToken: string | null;
  /**
   * A session's multipart form whose token travels in its `_csrf` field: not checked yet when the
   * route starts; the upload parser checks it before any file is stored (auth.middleware.ts).
   */
  csrfPending?: boolean;
}

declare module 'express-serve-static-core' {
  interface Request {
    auth: AuthContext;
  }
}

export const isApiRequest = (req: Request) => req.path.startsWith('/api/');

/** The signed-in user, or 401 (pages redirect to the login form). */
export const currentUser = (req: Request): CurrentUser => requireUser(req.auth?.user);

export function clientIp(req: Request): string {
  return req.ip ?? req.socket.remoteAddress ?? 'unknown';
}

/** A single string from the query (arrays and objects from `?a[]=` are ignored). */
export function queryString(req: Request, name: string, max = 200): string | undefined {
  const v = (req.query as Record<string, unknown>)[name];
  return typeof v === 'string' && v !== '' ? v.slice(0, max) : undefined;
}
