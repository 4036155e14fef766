import path from 'node:path';
import express, { type NextFunction, type Request, type Response } from 'express';
import { accountApi, accountPages } from './accounts/account.routes';
import { authApi, authPages } from './accounts/auth.routes';
import { CAMPAIGN_SWITCH_ROLES, campaignApi, campaignPages } from './campaign/campaign.routes';
import { resolveCampaign } from './campaign/current-campaign';
import type { Config } from './config';
import type { Container } from './container';
import { entryApi, entryPages } from './entries/entry.routes';
import { TUS_PATH } from './entries/resumable-upload';
import { orgApi, orgPages } from './org/org.routes';
import { reviewApi, reviewPages, reviewPanel } from './review/review.routes';
import { judgingApi } from './judging/judging.routes';
import { judgingPages } from './judging/judging.pages';
import { objectionApi, objectionPages } from './judging/objection.routes';
import { supervisionPages } from './judging/supervision.pages';
import { feedbackApi, feedbackPages } from './judging/feedback.routes';
import { reportApi, reportPages } from './judging/report.routes';
import { broadcastApi, broadcastPages, broadcastPanel } from './broadcast/broadcast.routes';
import { consentApi, consentPages, consentPanel } from './consent/consent.routes';
import { learningApi, learningPages } from './learning/learning.routes';
import { certificateApi, certificatePages } from './certificates/certificate.routes';
import { newMediaApi, newMediaPages } from './newmedia/newmedia.routes';
import type { CurrentUser } from './accounts/account.types';
import type { EntryView } from './entries/entry.types';
import { authenticate, csrfProtection } from './web/auth.middleware';
import { errorHandler, notFoundHandler } from './web/error-handler';
import { healthRoutes } from './web/health.routes';
import { bodyGate, markInvalidUtf8, urlGate } from './web/input-gate';
import { homePages } from './web/home.routes';
import { FLASH, navFor } from './web/navigation';
import { openApiDocument } from './web/openapi';
import { passwordChangeGate } from './web/password-gate';
import { createViewEngine, resolveViewsDir } from './web/views';
import { notificationApi, notificationPages } from './notifications/notification.routes';
import { todoApi } from './todo/todo.routes';
import { isApiRequest } from './web/request-context';

/** Builds the Express app from the container. Never listens: main.ts and the tests do that. */
export function buildApp(c: Container): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', c.config.trustProxy);
  // Plain key=value query strings only: no nested objects (`a[__proto__]=1` stays a literal key).
  app.set('query parser', 'simple');

  const viewsDir = resolveViewsDir();
  const views = createViewEngine(viewsDir);
  app.engine('hbs', (filePath: string, options: object, callback: (e: unknown, rendered?: string) => void) => {
    try {
      const name = path
        .relative(viewsDir, filePath)
        .replace(/\\/g, '/')
        .replace(/\.hbs$/, '');
      callback(null, views.render(name, options as Record<string, unknown>));
    } catch (err) {
      callback(err);
    }
  });
  app.set('views', viewsDir);
  app.set('view engine', 'hbs');
  // The templates are compiled once at start (createViewEngine), in every environment; without this
  // Express would look each view's file up on disk (a stat) on every render unless NODE_ENV=production.
  app.set('view cache', true);

  app.use(securityHeaders(mediaOrigins(c.config.storage)));
  // One input gate for every route: bad characters in the path/query (here), the body (below).
  app.use(urlGate);
  app.use('/static', express.static(path.join(viewsDir, '..', 'public'), { maxAge: '1h', index: false }));
  // Browsers ask for /favicon.ico whatever the page links; the icon is one SVG.
  app.get('/favicon.ico', (_req, res) => res.redirect(301, '/static/favicon.svg'));
  app.use(healthRoutes({ database: c.database, store: c.store }));
  // The page's resumable-upload client (tus-js-client's browser bundle), same origin for the CSP.
  app.get('/static/vendor/tus.min.js', (_req, res) => {
    res.sendFile(require.resolve('tus-js-client/dist/tus.min.js'), { maxAge: '1d' });
  });

  // Resumable uploads (tus) read the raw request body: mounted before the body parsers, with the
  // same authentication and CSRF check as every other request.
  const tusChain = [authenticate(c.sessions), csrfProtection, (req: Request, res: Response) => c.resumableUploads.handle(req, res)];
  app.all(TUS_PATH, ...tusChain);
  app.all(`${TUS_PATH}/{*id}`, ...tusChain);

  app.use(express.json({ limit: '200kb', verify: markInvalidUtf8 }));
  app.use(express.urlencoded({ extended: false, limit: '200kb', parameterLimit: 500, verify: markInvalidUtf8 }));
  app.use(bodyGate);
  app.use(authenticate(c.sessions));
  app.use((req: Request, res: Response, next: NextFunction) => (req.path === '/login' ? next() : csrfProtection(req, res, next)));
  // The campaign this request reads (?campaignId=, X-Campaign-Id, the switcher's cookie, else the open one).
  app.use(resolveCampaign(c.campaign, { cookieSecure: c.config.security.cookieSecure }));
  app.use(async (req: Request, res: Response, next: NextFunction) => {
    res.locals.currentUser = req.auth.user;
    res.locals.canSwitchCampaign = Boolean(req.auth.user && (CAMPAIGN_SWITCH_ROLES as readonly string[]).includes(req.auth.user.role));
    res.locals.currentPath = req.originalUrl.slice(0, 500);
    res.locals.csrfToken = req.auth.csrfToken;
    try {
      // The unread badge on 消息: one indexed count per page (not for the API, not for POSTs that redirect).
      const unread = req.auth.user && req.method === 'GET' && !isApiRequest(req) ? await c.notifications.unreadCount(req.auth.user) : 0;
      res.locals.nav = navFor(req.auth.user, req.path, unread);
    } catch (err) {
      next(err);
      return;
    }
    const msg = typeof req.query.msg === 'string' ? FLASH[req.query.msg] : undefined;
    if (msg) res.locals.flash = msg;
    next();
  });
  app.use(passwordChangeGate);

  const entryDeps = {
    ...c,
    tmpDir: c.config.uploads.tmpDir,
    maxVideoBytes: c.config.uploads.maxVideoBytes,
    resumable: { chunkBytes: c.config.uploads.chunkBytes, expiryHours: c.config.uploads.expiryHours },
    reviewPanel: (user: CurrentUser, entry: EntryView) => reviewPanel(c, user, entry),
    broadcastPanel,
    consentPanel: (user: CurrentUser, entry: EntryView) => consentPanel(c, user, entry),
  };
  const consentDeps = { ...c, tmpDir: c.config.uploads.tmpDir };
  const api = express.Router();
  // Written once, on first request (about 20 ms of CPU: not for every anonymous caller).
  let apiDocument: ReturnType<typeof openApiDocument> | undefined;
  api.get('/openapi.json', (_req, res) => {
    apiDocument ??= openApiDocument();
    res.json(apiDocument);
  });
  api.use(authApi(c));
  api.use(campaignApi(c));
  api.use(orgApi({ ...c, tmpDir: c.config.uploads.tmpDir }));
  api.use(accountApi(c));
  api.use(entryApi(entryDeps));
  api.use(reviewApi(c));
  api.use(judgingApi(c));
  api.use(objectionApi({ ...c, tmpDir: c.config.uploads.tmpDir }));
  api.use(feedbackApi(c));
  api.use(reportApi(c));
  api.use(broadcastApi(c));
  api.use(notificationApi(c));
  api.use(todoApi(c));
  api.use(consentApi(consentDeps));
  api.use(learningApi(c));
  api.use(certificateApi({ ...c, tmpDir: c.config.uploads.tmpDir, publicUrl: c.config.publicUrl }));
  api.use(newMediaApi(c));
  app.use('/api/v1', api);

  app.use(authPages({ auth: c.auth, sessions: c.sessions, users: c.users, cookieSecure: c.config.security.cookieSecure }));
  app.use(homePages(c));
  app.use(campaignPages(c));
  app.use(orgPages({ ...c, tmpDir: c.config.uploads.tmpDir }));
  app.use(accountPages(c));
  app.use(entryPages(entryDeps));
  app.use(reviewPages(c));
  app.use(judgingPages(c));
  app.use(objectionPages({ ...c, tmpDir: c.config.uploads.tmpDir }));
  app.use(supervisionPages(c));
  app.use(feedbackPages(c));
  app.use(reportPages(c));
  app.use(broadcastPages(c));
  app.use(notificationPages(c));
  app.use(consentPages(consentDeps));
  app.use(learningPages(c));
  app.use(certificatePages({ ...c, tmpDir: c.config.uploads.tmpDir, publicUrl: c.config.publicUrl }));
  app.use(newMediaPages(c));

  app.use(notFoundHandler);
  app.use(errorHandler(c.logger));
  return app;
}

/**
 * Previews and posters may be redirected to presigned S3 URLs: the page may load media from the
 * store's origin too, and from nowhere else.
 */
export function mediaOrigins(storage: Config['storage']): string[] {
  if (storage.kind !== 's3') return [];
  const endpoint = storage.publicEndpoint ?? storage.endpoint;
  if (endpoint) return [new URL(endpoint).origin];
  return [`https://${storage.bucket}.s3.${storage.region}.amazonaws.com`, `https://s3.${storage.region}.amazonaws.com`];
}

function securityHeaders(extraMedia: string[]) {
  const media = ["'self'", 'blob:', ...extraMedia].join(' ');
  const csp = `default-src 'self'; img-src ${media} data:; media-src ${media}; style-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'`;
  return (_req: Request, res: Response, next: NextFunction): void => {
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('X-Frame-Options', 'DENY');
    res.setHeader('Referrer-Policy', 'same-origin');
    res.setHeader('Content-Security-Policy', csp);
    next();
  };
}
