import type { ApiOperation } from '../web/openapi';
import { boolean, name, optional, text, z } from '../platform/validate';
import type { ConsentScope } from './consent.schema';

/** The consent API's inputs (parsed by consent.service.ts) and operations under /api/v1. */
export const SCOPES = ['broadcast', 'newmedia', 'public'] as const satisfies readonly ConsentScope[];

/** A list of scopes: a JSON array, repeated form fields, or one comma-separated string. */
const scopeList = (label: string) =>
  z
    .preprocess(
      (v) =>
        v === undefined || v === null || v === ''
          ? []
          : typeof v === 'string'
            ? v
                .split(',')
                .map((s) => s.trim())
                .filter(Boolean)
            : v,
      z
        .array(z.enum(SCOPES, { error: `${label}只能是 broadcast（电视播出）、newmedia（新媒体）或 public（公示页面）` }), { error: `${label}的格式无效` })
        .max(3),
    )
    .transform((list) => [...new Set(list)])
    .openapi({ description: label, type: 'array', items: { type: 'string', enum: [...SCOPES] } });

export const consentInput = z
  .object({
    declaration: boolean('学校声明').openapi({ description: '学校声明：已取得全部参演学生监护人的书面同意，原件由学校保存' }),
    signerName: optional(name('声明人姓名', { max: 50 })),
    signerPost: optional(name('声明人职务', { max: 50 })),
    scopes: scopeList('授权范围'),
  })
  .openapi('ConsentInput');

export const withdrawInput = z
  .object({
    /** Absent or empty: the whole permission. */
    scopes: scopeList('撤回的授权范围'),
    reason: text('撤回原因', { min: 2, max: 500 }),
  })
  .openapi('ConsentWithdrawInput');

export const settingsInput = z.object({ requireScan: boolean('必须上传扫描件') }).openapi('ConsentSettingsInput');

export const eraseInput = z.object({ reason: text('删除原因', { min: 2, max: 500 }) }).openapi('EraseInput');

const tag = 'consent';
export const consentOperations: ApiOperation[] = [
  { method: 'get', path: '/entries/{id}/consent', summary: "The entry's guardian authorisation (school, county, city)", tag },
  {
    method: 'put',
    path: '/entries/{id}/consent',
    summary: 'Record the authorisation (school): JSON { declaration, signerName, signerPost?, scopes } or multipart with field `scan` (PDF/JPG/PNG ≤ 10 MB)',
    tag,
    body: consentInput,
  },
  {
    method: 'post',
    path: '/entries/{id}/consent/withdraw',
    summary: 'Withdraw scopes or the whole permission { scopes?, reason } (the school, or the city on request)',
    tag,
    body: withdrawInput,
  },
  { method: 'get', path: '/entries/{id}/consent/scan', summary: 'The signed scan (school, its county, the city only; attachment)', tag, produces: 'binary' },
  {
    method: 'get',
    path: '/entries/{id}/consent/template.pdf',
    summary: 'The 授权书 template, prefilled with the entry (school, county, city)',
    tag,
    produces: 'binary',
  },
  { method: 'get', path: '/consent/settings', summary: "The city's setting: { requireScan }", tag },
  { method: 'put', path: '/consent/settings', summary: 'Set whether a signed scan is required (admin)', tag, body: settingsInput },
  { method: 'get', path: '/schools/{id}/export.zip', summary: "A school's own data as one streamed ZIP (the school)", tag, produces: 'zip' },
  { method: 'post', path: '/schools/{id}/erase-personal-data', summary: "Erase a school's personal data on request { reason } (admin)", tag, body: eraseInput },
];
