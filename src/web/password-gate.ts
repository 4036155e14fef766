import type { NextFunction, Request, Response } from 'express';
import { AppError } from '../platform/errors';

/** What a signed-in user with a password set by someone else may still reach. */
const ALLOWED = new Set(['/account/password', '/logout', '/api/v1/me', '/api/v1/me/password', '/api/v1/auth/token']);

/**
 * An initial or reset password (someone else typed it) must be replaced before anything else:
 * pages go to 修改密码 (and back afterwards); the API answers 403 password_change_required.
 */
export function passwordChangeGate(req: Request, res: Response, next: NextFunction): void {
  const user = req.auth.user;
  if (!user?.mustChangePassword || ALLOWED.has(req.path)) return next();
  if (req.path.startsWith('/api/')) {
    return next(
      new AppError(403, 'password_change_required', '请先修改密码', '当前密码是他人设置的初始密码或重置密码，请先修改密码（POST /api/v1/me/password）。'),
    );
  }
  const back = req.method === 'GET' && req.path !== '/' ? `?next=${encodeURIComponent(req.originalUrl)}` : '';
  res.redirect(303, `/account/password${back}`);
}
