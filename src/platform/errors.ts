/**
 * Errors a user can cause. `title` and `detail` are Simplified Chinese sentences for people;
 * `code` is the stable machine word of docs/api.md. The central error handler turns an AppError
 * into a Chinese page for browsers or application/problem+json for the API.
 */
export interface FieldError {
  field: string;
  message: string;
}

export type ErrorCode =
  | 'unauthenticated'
  | 'forbidden'
  | 'not_found'
  | 'validation_failed'
  | 'invalid_state'
  | 'quota_exceeded'
  | 'consent_required'
  | 'round_closed'
  | 'campaign_closed'
  | 'objection_closed'
  | 'payload_too_large'
  | 'unsupported_media'
  | 'rate_limited'
  | 'csrf_failed'
  | 'password_change_required'
  | 'unavailable';

export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    readonly title: string,
    readonly detail: string = title,
    readonly errors?: FieldError[],
    readonly headers?: Record<string, string>,
  ) {
    super(`${code}: ${detail}`);
    this.name = 'AppError';
  }
}

export const unauthenticated = (detail = '请先登录。') => new AppError(401, 'unauthenticated', '需要登录', detail);
export const forbidden = (detail = '您的账号没有权限进行此操作。') => new AppError(403, 'forbidden', '没有权限', detail);
export const notFound = (detail = '您要找的内容不存在，或您无权查看。') => new AppError(404, 'not_found', '未找到', detail);
export const invalidState = (detail: string) => new AppError(409, 'invalid_state', '当前状态不允许此操作', detail);
/** A write to a closed campaign (refused by the database's guard, SQLSTATE CXR01, or by a service). */
export const campaignClosed = () => new AppError(409, 'campaign_closed', '活动已关闭', '该活动已关闭归档，只能查看，不能再修改。');
/** SQLSTATE the closed-campaign trigger raises (migration 0018). */
export const CAMPAIGN_CLOSED_SQLSTATE = 'CXR01';
/** Seconds a client should wait before retrying after a 503 of a dependency outage. */
export const RETRY_AFTER_S = 5;
export const unavailable = (detail = '服务暂时不可用，请稍后重试。', retryAfterS = RETRY_AFTER_S) =>
  new AppError(503, 'unavailable', '服务暂时不可用', detail, undefined, { 'Retry-After': String(retryAfterS) });
export const DATABASE_UNAVAILABLE = '数据库暂时不可用，请稍后重试。';
export const STORE_UNAVAILABLE = '文件存储暂时不可用，请稍后重试。';
export const rateLimited = (retryAfterS: number) =>
  new AppError(429, 'rate_limited', '尝试次数过多', `尝试次数过多，请 ${Math.ceil(retryAfterS / 60)} 分钟后再试。`, undefined, {
    'Retry-After': String(retryAfterS),
  });
export const validationFailed = (errors: FieldError[]) =>
  new AppError(400, 'validation_failed', '提交的内容有误', errors.map((e) => e.message).join('；'), errors);
