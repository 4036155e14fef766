import crypto from 'node:crypto';
import { Router, type Response } from 'express';
import { AppError } from '../platform/errors';
import { clearCookie, PRELOGIN_COOKIE, readCookie, SESSION_COOKIE, setCookie } from '../web/cookies';
import { csrfFailed, tokensMatch } from '../web/auth.middleware';
import { safeNext } from '../web/navigation';
import { clientIp, currentUser } from '../web/request-context';
import type { AuthService } from './auth.service';
import type { SessionService } from './session.service';
import type { UserService } from './user.service';
import type { CurrentUser } from './account.types';
import { PASSWORD_RULE } from './account.contract';
import { PASSWORD_MIN_LENGTH } from './password';
import { validationFailed } from '../platform/errors';
import { handleForm } from '../web/forms';

export function authPages(deps: { auth: AuthService; sessions: SessionService; users: UserService; cookieSecure: boolean }): Router {
  const router = Router();
  const secure = deps.cookieSecure;

  function renderLogin(res: Response, status: number, data: Record<string, unknown>) {
    const token = crypto.randomBytes(24).toString('base64url');
    setCookie(res, PRELOGIN_COOKIE, token, { secure, maxAgeMs: 3600_000 });
    res.status(status).render('accounts/login', { title: '登录', loginCsrf: token, ...data });
  }

  router.get('/login', (req, res) => {
    if (req.auth.user) return res.redirect(303, safeNext(req.query.next));
    renderLogin(res, 200, { next: safeNext(req.query.next) });
  });

  router.post('/login', async (req, res) => {
    const body = req.body as Record<string, unknown>;
    if (!tokensMatch(typeof body._csrf === 'string' ? body._csrf : undefined, readCookie(req, PRELOGIN_COOKIE))) throw csrfFailed();
    const username = typeof body.username === 'string' ? body.username : '';
    try {
      const user = await deps.auth.login(username, typeof body.password === 'string' ? body.password : '', clientIp(req));
      // Rotate: whatever session the browser had is dropped; the login gets a new id.
      if (req.auth.sessionSecret) await deps.sessions.destroy(req.auth.sessionSecret);
      const session = await deps.sessions.create(user.id);
      setCookie(res, SESSION_COOKIE, session.secret, { secure });
      clearCookie(res, PRELOGIN_COOKIE, { secure });
      res.redirect(303, safeNext(body.next));
    } catch (err) {
      if (err instanceof AppError && (err.status === 401 || err.status === 429)) {
        for (const [k, v] of Object.entries(err.headers ?? {})) res.setHeader(k, v);
        return renderLogin(res, err.status, { username: username.slice(0, 100), next: safeNext(body.next), errorSummary: err.detail });
      }
      throw err;
    }
  });

  // ── Change one's own password (also where an initial or reset password must be replaced) ──
  const passwordForm = (user: CurrentUser, extra: Record<string, unknown>) => ({
    title: '修改密码',
    forced: Boolean(user.mustChangePassword),
    rule: PASSWORD_RULE,
    minLength: PASSWORD_MIN_LENGTH,
    ...extra,
  });

  router.get('/account/password', (req, res) => {
    res.render('accounts/password', passwordForm(currentUser(req), { next: safeNext(req.query.next) }));
  });

  router.post('/account/password', async (req, res) => {
    const user = currentUser(req);
    const body = (req.body ?? {}) as Record<string, unknown>;
    const next = safeNext(body.next);
    await handleForm(res, { view: 'accounts/password', data: passwordForm(user, { next }) }, async () => {
      if (body.newPassword !== body.confirmPassword) throw validationFailed([{ field: 'confirmPassword', message: '两次输入的新密码不一致' }]);
      await deps.users.changeOwnPassword(user, body);
      // Every session of the account has ended (a password someone else knew may be in use elsewhere); this browser stays signed in.
      const session = await deps.sessions.create(user.id);
      setCookie(res, SESSION_COOKIE, session.secret, { secure });
      res.redirect(303, `${next}${next.includes('?') ? '&' : '?'}msg=password_changed`);
    });
  });

  router.post('/logout', async (req, res) => {
    if (req.auth.sessionSecret) await deps.sessions.destroy(req.auth.sessionSecret);
    clearCookie(res, SESSION_COOKIE, { secure });
    res.redirect(303, '/login?msg=logged_out');
  });

  return router;
}

export function authApi(deps: { auth: AuthService; sessions: SessionService; users: UserService }): Router {
  const router = Router();

  router.post('/auth/token', async (req, res) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const user = await deps.auth.login(
      typeof body.username === 'string' ? body.username : '',
      typeof body.password === 'string' ? body.password : '',
      clientIp(req),
    );
    const { token, expiresAt } = await deps.sessions.createApiToken(user.id);
    res.json({ token, expiresAt: expiresAt.toISOString(), user });
  });

  router.delete('/auth/token', async (req, res) => {
    currentUser(req);
    if (req.auth.bearerToken) await deps.sessions.revokeApiToken(req.auth.bearerToken);
    res.status(204).end();
  });

  router.post('/me/password', async (req, res) => {
    await deps.users.changeOwnPassword(currentUser(req), req.body);
    res.status(204).end();
  });

  router.get('/me', (req, res) => {
    const user = currentUser(req);
    res.json(user);
  });

  return router;
}
