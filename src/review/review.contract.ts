import type { ApiOperation } from '../web/openapi';
import { integer, optional, pageQuerySchema, queryText, text, z } from '../platform/validate';

/** The county review API's inputs (parsed by review.service.ts and review.routes.ts) and operations under /api/v1. */
export const returnInput = z.object({ reason: text('退回原因', { max: 500 }) }).openapi('ReturnInput');
export const recallInput = z.object({ reason: text('撤回原因', { max: 500 }) }).openapi('RecallInput');
export const forwardInput = z
  .object({ periodId: optional(text('报送期', { max: 64 })), rank: optional(integer('排序', { min: 1, max: 10000 })) })
  .openapi('ForwardInput');
export const rankInput = z.object({ rank: integer('排序', { min: 1, max: 10000 }) }).openapi('RankInput');
/** null (or blank) removes the override: the period's quota applies again. */
export const quotaInput = z.object({ quota: optional(integer('名额', { min: 0, max: 10000 })) }).openapi('CountyQuotaInput');

export const auditQuery = z.object({ action: queryText(64), objectType: queryText(32), objectId: queryText(64) });
export const forwardedExportQuery = z.object({ periodId: queryText(64), countyId: queryText(64) });

const tag = 'review';
export const reviewOperations: ApiOperation[] = [
  { method: 'post', path: '/entries/{id}/return', summary: 'Return to the school with { reason } (county, admin)', tag, body: returnInput },
  {
    method: 'post',
    path: '/entries/{id}/forward',
    summary: 'Forward to the city { periodId?, rank? } within the quota (county); 409 quota_exceeded',
    tag,
    body: forwardInput,
  },
  {
    method: 'post',
    path: '/entries/{id}/recall',
    summary: 'Take back a forwarded entry { reason } before the forwarding deadline (county): back to submitted, quota freed',
    tag,
    body: recallInput,
  },
  { method: 'post', path: '/entries/{id}/rank', summary: 'Move a forwarded entry in the county ranking { rank }', tag, body: rankInput },
  { method: 'get', path: '/periods/{id}/quotas', summary: 'Quota use per county for a period', tag },
  { method: 'put', path: '/periods/{id}/quotas/{countyId}', summary: 'Override one county quota { quota | null } (admin)', tag, body: quotaInput },
  { method: 'get', path: '/stats', summary: 'Participation: county × status, songs, forms, levels, schools without entries', tag },
  {
    method: 'get',
    path: '/exports/forwarded.xlsx',
    summary: 'Forwarded entries as XLSX ?periodId=&countyId=',
    tag,
    query: forwardedExportQuery,
    produces: 'xlsx',
  },
  { method: 'get', path: '/audit', summary: 'Audit log (admin) ?action=&objectType=&objectId=&page=', tag, query: auditQuery.extend(pageQuerySchema().shape) },
];
