import type { ApiOperation } from '../web/openapi';
import { integer, oneOf, optional, text, z } from '../platform/validate';
import type { ObjectionOutcome, ObjectionStatus } from './results.schema';

/** The objection (异议) API's inputs, one zod schema per endpoint (issue 18). */

export const OBJECTION_STATUSES: readonly ObjectionStatus[] = ['submitted', 'accepted', 'reviewing', 'concluded'];
export const OBJECTION_OUTCOMES: readonly ObjectionOutcome[] = ['upheld', 'rejected'];

/** A mainland mobile (11 digits from 1) or a landline with its area code (0xxx-xxxxxxx). */
const PHONE = /^(1\d{10}|0\d{2,3}-?\d{7,8})$/;

/** What anyone may send during the 公示期, by real name (multipart with an optional `attachment`, or JSON). */
export const objectionInput = z
  .object({
    roundId: text('公示轮次', { max: 64 }),
    entryCode: optional(text('作品编号', { max: 40 })),
    name: text('真实姓名', { min: 2, max: 30 }),
    phone: text('联系电话', { max: 20, pattern: PHONE, patternMessage: '联系电话应为 11 位手机号或带区号的固定电话' }),
    relation: text('与作品的关系', { max: 50 }),
    reason: text('异议理由', { min: 10, max: 2000 }),
  })
  .openapi('ObjectionInput');

/** One step of the city's handling: 受理 (accepted) → 复核 (reviewing) → 结论 (concluded, with outcome and reason). */
export const objectionStepInput = z
  .object({
    status: oneOf('处理步骤', ['accepted', 'reviewing', 'concluded'] as const),
    outcome: optional(oneOf('复核结论', OBJECTION_OUTCOMES)),
    note: optional(text('处理说明', { max: 1000 })),
  })
  .superRefine((v, ctx) => {
    if (v.status === 'concluded' && !v.outcome) ctx.addIssue({ code: 'custom', path: ['outcome'], message: '请选择复核结论（异议成立或不成立）' });
    if (v.status === 'concluded' && !v.note) ctx.addIssue({ code: 'custom', path: ['note'], message: '作出结论时请填写理由' });
  })
  .openapi('ObjectionStepInput');

export const objectionListQuery = z
  .object({
    roundId: optional(text('公示轮次', { max: 64 })),
    status: optional(oneOf('处理状态', OBJECTION_STATUSES)),
    page: optional(integer('页码', { min: 1, max: 100000 })),
  })
  .openapi('ObjectionListQuery');

const tag = 'Objections';
export const objectionOperations: ApiOperation[] = [
  {
    method: 'post',
    path: '/objections',
    summary:
      'Object to a 公示 by real name { roundId, entryCode?, name, phone, relation, reason } (+ optional attachment: JPG/PNG/PDF ≤ 10 MB) → 201 { receiptNumber }; outside the 公示期 → 409 objection_closed; too many from one address → 429',
    tag,
    public: true,
    body: objectionInput,
    multipart: { field: 'attachment', description: '可选附件：JPG、PNG 图片或 PDF，不超过 10 MB' },
    status: 201,
  },
  { method: 'get', path: '/objections', summary: 'Objections (city and 监督 only), newest first, 50 a page', tag, query: objectionListQuery },
  { method: 'get', path: '/objections/{id}', summary: 'One objection with its handling history (city and 监督)', tag },
  { method: 'get', path: '/objections/{id}/attachment', summary: 'The objection’s attachment (city and 监督)', tag, produces: 'binary' },
  {
    method: 'post',
    path: '/objections/{id}/step',
    summary: 'Handle: accepted → reviewing → concluded { outcome, note } (city), audited',
    tag,
    body: objectionStepInput,
  },
  {
    method: 'get',
    path: '/feedback',
    summary: "The school's feedback: per entry and round, criterion means and comments as 评委A/B/… (school)",
    tag: 'Feedback',
  },
  { method: 'get', path: '/entries/{id}/feedback', summary: 'One entry’s feedback (its own school; 404 otherwise)', tag: 'Feedback' },
  {
    method: 'get',
    path: '/reports/counties/{countyId}',
    summary: '县区成绩单 figures as JSON (?roundId=, default the newest scored round): a county (its own; another → 404), the city and 监督',
    tag: 'Reports',
  },
  {
    method: 'get',
    path: '/reports/counties/{countyId}.pdf',
    summary: '县区成绩单 as PDF (stored, then streamed; Chinese file name)',
    tag: 'Reports',
    produces: 'binary',
  },
  {
    method: 'get',
    path: '/reports/counties/{countyId}.xlsx',
    summary: '县区成绩单 as XLSX, with each entry’s raw mean and normalised score',
    tag: 'Reports',
    produces: 'xlsx',
  },
  {
    method: 'get',
    path: '/reports/city',
    summary: '县区成绩单 figures as JSON (?roundId=, default the newest scored round): the city and 监督 (county → 403)',
    tag: 'Reports',
  },
  { method: 'get', path: '/reports/city.pdf', summary: '县区成绩单 as PDF (stored, then streamed; Chinese file name)', tag: 'Reports', produces: 'binary' },
  {
    method: 'get',
    path: '/reports/city.xlsx',
    summary: '县区成绩单 as XLSX, with each entry’s raw mean and normalised score',
    tag: 'Reports',
    produces: 'xlsx',
  },
  {
    method: 'get',
    path: '/rounds/{id}/judges/{judgeId}/sign-sheet.pdf',
    summary: '评委签字表: one judge’s scores for signature (city and 监督)',
    tag: 'Reports',
    produces: 'binary',
  },
];
