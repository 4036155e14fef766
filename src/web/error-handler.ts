import type { NextFunction, Request, Response } from 'express';
import { MulterError } from 'multer';
import { isDatabaseUnavailable, isForeignKeyViolation } from '../platform/db/errors';
import { AppError, CAMPAIGN_CLOSED_SQLSTATE, campaignClosed, DATABASE_UNAVAILABLE, notFound, STORE_UNAVAILABLE, unavailable } from '../platform/errors';
import { ObjectNotFoundError, StoreUnavailableError } from '../platform/storage';
import type { Logger } from '../platform/logger';
import { isApiRequest } from './request-context';

/** Turns anything thrown into an AppError a person can read. */
export function toAppError(err: unknown): AppError | null {
  if (err instanceof AppError) return err;
  if (err instanceof MulterError) {
    if (err.code === 'LIMIT_FILE_SIZE') return new AppError(413, 'payload_too_large', '文件太大', '文件超过了允许的大小。');
    return new AppError(400, 'validation_failed', '上传的内容有误', `上传的表单格式不正确（${err.code}）。`);
  }
  const e = err as { type?: string; status?: number; statusCode?: number; name?: string } | null;
  if (e?.type === 'entity.too.large') return new AppError(413, 'payload_too_large', '提交的内容太大', '提交的内容太大。');
  if (e?.type === 'entity.parse.failed' || e?.type === 'parameters.too.many' || e?.type === 'charset.unsupported' || e?.type === 'encoding.unsupported') {
    return new AppError(400, 'validation_failed', '提交的内容有误', '请求内容无法解析。');
  }
  // Errors of Express and its helpers (res.sendFile, serve-static, http-errors) carry `status`/`statusCode`.
  const status = typeof e?.status === 'number' ? e.status : typeof e?.statusCode === 'number' ? e.statusCode : undefined;
  if (status === 404) return notFound();
  if (status !== undefined && status >= 400 && status < 500) {
    return new AppError(400, 'validation_failed', '请求有误', '请求格式不正确。');
  }
  // A reference to a row that does not exist reached the database (a route that did not check it
  // first): the request is wrong, not the server.
  // The closed-campaign guard (migration 0018) refused a write, whichever route tried it.
  if ((err as { code?: unknown } | null)?.code === CAMPAIGN_CLOSED_SQLSTATE) return campaignClosed();
  if (isForeignKeyViolation(err)) return new AppError(400, 'validation_failed', '提交的内容有误', '提交的内容引用了不存在的对象，请刷新页面后重试。');
  if (err instanceof ObjectNotFoundError) return notFound();
  if (err instanceof StoreUnavailableError) return unavailable(STORE_UNAVAILABLE);
  if (isDatabaseUnavailable(err)) return unavailable(DATABASE_UNAVAILABLE);
  return null;
}

export function notFoundHandler(_req: Request, _res: Response): void {
  throw notFound('页面不存在。');
}

export function errorHandler(logger: Logger) {
  // Express recognises error handlers by their four parameters.
  return (err: unknown, req: Request, res: Response, _next: NextFunction): void => {
    try {
      handle(err, req, res);
    } catch (handlerError) {
      // Last resort, still without a stack trace in the body.
      logger.error('error handler failed', { err: handlerError, original: err, path: req.path });
      if (res.headersSent) res.destroy();
      else res.status(500).type('text/plain; charset=utf-8').send('服务器出了点问题，请稍后重试。');
    }
  };

  function handle(err: unknown, req: Request, res: Response): void {
    const appError = toAppError(err) ?? new AppError(500, 'unavailable', '服务器内部错误', '服务器出了点问题，请稍后重试。如果问题持续，请联系管理员。');
    // An outage answers many requests with 503: one short warning each, not a stack trace each.
    if (appError.status === 503)
      logger.warn('request refused: dependency unavailable', { method: req.method, path: req.path, err: err instanceof Error ? err.message : String(err) });
    else if (appError.status >= 500) logger.error('request failed', { err, method: req.method, path: req.path });
    if (res.headersSent) {
      res.destroy();
      return;
    }
    for (const [k, v] of Object.entries(appError.headers ?? {})) res.setHeader(k, v);
    if (isApiRequest(req) || !req.accepts('html')) {
      res
        .status(appError.status)
        .type('application/problem+json')
        .send(
          JSON.stringify({
            type: `/problems/${appError.code}`,
            title: appError.title,
            status: appError.status,
            detail: appError.detail,
            code: appError.code,
            ...(appError.errors && { errors: appError.errors }),
          }),
        );
      return;
    }
    if (appError.status === 401) {
      res.redirect(303, `/login?next=${encodeURIComponent(req.originalUrl.slice(0, 500))}`);
      return;
    }
    res.status(appError.status).render('error', { title: appError.title, error: appError }, (renderError: Error | null, html?: string) => {
      // Never fall through to Express's default handler (it prints the stack outside production).
      if (renderError) {
        logger.error('error page failed to render', { err: renderError, path: req.path });
        res.type('text/plain; charset=utf-8').send(`${appError.title}：${appError.detail}`);
        return;
      }
      res.send(html);
    });
  }
}
