import type { ApiOperation } from '../web/openapi';
import { boolean, dateTime, idList, integer, name, normalizeName, oneOf, optional, text, z } from '../platform/validate';
import type { AwardTier } from './judging.schema';
import { DEFAULT_RUBRIC, type RubricCriterion } from './judging.types';

/**
 * The judging API's inputs (one zod schema per endpoint, used by the services to parse and by
 * src/web/openapi.ts to document) and its operations under /api/v1.
 */

/** Which criterion an issue is about: 1 for `rubric[0].label`. */
const nth = (iss: { path?: PropertyKey[] }) => (iss.path?.find((p): p is number => typeof p === 'number') ?? 0) + 1;
const RUBRIC_SIZE = '评分标准需要 1 到 10 项';

const criterion = z
  .object({
    key: z.string().openapi({ pattern: '^[a-z][a-z0-9_]{0,31}$', description: '标识；缺省或不合规时为 c<序号>' }),
    label: z
      .string()
      .min(1, { error: (iss) => `第 ${nth(iss)} 项评分标准缺少名称` })
      .openapi({ maxLength: 30 }),
    max: z
      .number({ error: (iss) => `第 ${nth(iss)} 项的满分必须是 1–100 的整数` })
      .int({ error: (iss) => `第 ${nth(iss)} 项的满分必须是 1–100 的整数` })
      .min(1, { error: (iss) => `第 ${nth(iss)} 项的满分必须是 1–100 的整数` })
      .max(100, { error: (iss) => `第 ${nth(iss)} 项的满分必须是 1–100 的整数` }),
  })
  .openapi('RubricCriterion');

/** A rubric: 1–10 criteria, unique keys, positive integer maxima summing to 100; absent or null is DEFAULT_RUBRIC. */
export const rubric: z.ZodType<RubricCriterion[], unknown> = z
  .preprocess(
    (v) =>
      v === undefined || v === null
        ? DEFAULT_RUBRIC
        : Array.isArray(v)
          ? v.map((raw: unknown, i) => {
              const c = (raw ?? {}) as Record<string, unknown>;
              return {
                key: typeof c.key === 'string' && /^[a-z][a-z0-9_]{0,31}$/.test(c.key) ? c.key : `c${i + 1}`,
                label: typeof c.label === 'string' ? [...normalizeName(c.label)].slice(0, 30).join('') : '',
                max: c.max === null ? NaN : Number(c.max),
              };
            })
          : v,
    z
      .array(criterion, { error: RUBRIC_SIZE })
      .min(1, { error: RUBRIC_SIZE })
      .max(10, { error: RUBRIC_SIZE })
      .superRefine((items, ctx) => {
        const seen = new Set<string>();
        items.forEach((c, i) => {
          if (seen.has(c.key)) ctx.addIssue({ code: 'custom', path: [i, 'key'], message: `第 ${i + 1} 项的标识重复` });
          seen.add(c.key);
        });
        const sum = items.reduce((a, c) => a + c.max, 0);
        if (seen.size === items.length && sum !== 100) ctx.addIssue({ code: 'custom', message: `各项满分之和必须是 100，现在是 ${sum}` });
      }),
  )
  .openapi({ description: '评分标准（缺省为 演唱水平 50 / 艺术表现 25 / 精神面貌 15 / 服装形象 10）' });

export const roundInput = z
  .object({
    name: name('轮次名称', { max: 60 }),
    periodId: optional(text('报送期', { max: 64 })),
    judgesPerEntry: integer('每件作品评委人数', { min: 1, max: 50 }),
    blind: boolean('匿名评审'),
    aggregation: oneOf('计分方法', ['trimmed_mean', 'mean', 'zscore'] as const),
    opensAt: optional(dateTime('开始时间')),
    closesAt: optional(dateTime('截止时间')),
    rubric,
  })
  .openapi('RoundInput');

export const addEntriesInput = z
  .object({
    entryIds: z
      .preprocess((v) => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string').slice(0, 20000) : undefined), z.array(z.string()).optional())
      .openapi({ description: '指定作品' }),
    fromRoundShortlist: z
      .preprocess((v) => (v === undefined || v === null || v === '' ? undefined : typeof v === 'string' ? v : ''), z.string().optional())
      .openapi({ description: '上一轮评审的 id：取其入围名单' }),
    /** Absent: refuse (409) when awarded or broadcast-selected entries would be taken. */
    includeAwarded: z.preprocess((v) => (v === null ? undefined : v), boolean('包含已获奖作品').optional()),
  })
  .openapi('RoundEntriesInput');

export const judgesInput = z.object({ userIds: idList(500, '请至少选择一位评委') }).openapi('RoundJudgesInput');

export const assignmentInput = z.object({ entryId: text('作品', { max: 64 }), judgeId: text('评委', { max: 64 }) }).openapi('AssignmentInput');

const TOP = '入围数量必须是正整数';
export const shortlistInput = z
  .object({
    entryIds: z
      .preprocess((v) => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : undefined), z.array(z.string()).optional())
      .openapi({ description: '指定入围作品（此时不看 top）' }),
    top: z
      .preprocess((v) => (v === undefined ? undefined : Number(v)), z.number({ error: TOP }).int({ error: TOP }).min(1, { error: TOP }).optional())
      .openapi({ type: 'integer', minimum: 1, description: '每组前几名' }),
    per: z.preprocess((v) => (v === 'song' || v === 'level' || v === 'form' ? v : undefined), z.enum(['song', 'level', 'form']).optional()),
  })
  .superRefine((v, ctx) => {
    if (!v.entryIds && v.top === undefined) ctx.addIssue({ code: 'custom', path: ['top'], message: TOP });
  })
  .openapi('ShortlistInput');

export const TIERS: readonly AwardTier[] = ['first', 'second', 'third', 'excellence'];
const TIER = '奖项只能是一等奖、二等奖、三等奖、优秀奖，数量为非负整数';
const tier = z.object({
  award: z.enum(TIERS as [AwardTier, ...AwardTier[]], { error: TIER }),
  count: z
    .preprocess((v) => Number(v), z.number({ error: TIER }).int({ error: TIER }).min(0, { error: TIER }).max(10000, { error: TIER }))
    .openapi({ type: 'integer', minimum: 0 }),
});
/** Award tier counts, 一等奖 first whatever order they came in. */
export const tiersInput = z
  .object({
    tiers: z
      .array(tier, { error: '请填写各奖项的数量' })
      .min(1, { error: '请填写各奖项的数量' })
      .transform((list) => [...list].sort((a, b) => TIERS.indexOf(a.award) - TIERS.indexOf(b.award))),
  })
  .openapi('TiersInput');

const revisionReason = optional(text('修订原因', { max: 300 })).openapi({ description: '已公示后再改动结果时必填：修订原因（列入公示页的修订记录）' });

/** Awards, confirmed; after the 公示 a change is a numbered revision and needs `revisionReason`. */
export const awardsInput = z.object({ tiers: tiersInput.shape.tiers, revisionReason }).openapi('AwardsInput');

/**
 * `{ publish: false }` withdraws the 公示; anything else publishes, with the 公示期 (default: from now,
 * 7 days) and the objection contact. Publishing results that differ from the last frozen ones
 * needs `revisionReason`.
 */
export const publishInput = z
  .object({
    publish: z.preprocess((v) => v !== false && v !== '0' && v !== 'false', z.boolean()).openapi({ type: 'boolean', default: true }),
    publicityFrom: optional(dateTime('公示开始时间')),
    publicityTo: optional(dateTime('公示结束时间')),
    objectionContact: optional(text('异议联系方式', { max: 100 })),
    feedbackEnabled: optional(boolean('向学校反馈评分')),
    revisionReason,
  })
  .superRefine((v, ctx) => {
    if (v.publicityFrom && v.publicityTo && v.publicityTo.getTime() <= v.publicityFrom.getTime())
      ctx.addIssue({ code: 'custom', path: ['publicityTo'], message: '公示结束时间应晚于开始时间' });
  })
  .openapi('PublishInput');

export const reasonInput = (label: string) => z.object({ reason: text(label, { max: 300 }) });
export const conflictInput = reasonInput('回避原因').openapi('ConflictInput');
export const reopenInput = reasonInput('重新开放原因').openapi('ReopenInput');

/** A judge's scores: a draft keeps what is given, a submission needs every criterion. */
export const scoreSaveInput = z
  .object({
    scores: z
      .preprocess((v) => (v && typeof v === 'object' && !Array.isArray(v) ? v : undefined), z.record(z.string(), z.unknown()).optional())
      .openapi({ type: 'object', additionalProperties: { type: 'number', nullable: true }, description: '标识 → 分数（最多一位小数）' }),
    comment: z.preprocess((v) => (typeof v === 'string' ? v.trim().slice(0, 2000) : null), z.string().nullable()).openapi({ type: 'string', maxLength: 2000 }),
    submit: z.preprocess((v) => v === true || v === 'true', z.boolean()).openapi({ type: 'boolean', default: false }),
  })
  .openapi('ScoreSaveInput');

/** The scores of one assignment against its round's rubric (known only once the assignment is read). */
export function scoresOf(criteria: RubricCriterion[], complete: boolean) {
  const field = (c: RubricCriterion) => {
    const range = `「${c.label}」的分数必须在 0 到 ${c.max} 之间`;
    const n = z
      .number({ error: (iss) => (iss.input === undefined ? `请给「${c.label}」打分` : range) })
      .min(0, { error: range })
      .max(c.max, { error: range })
      .refine((v) => Math.round(v * 10) === v * 10, { message: `「${c.label}」的分数最多保留一位小数` });
    return z.preprocess((v) => (v === undefined || v === null || v === '' ? undefined : typeof v === 'number' ? v : Number(v)), complete ? n : n.optional());
  };
  return z.object({
    scores: z
      .object(Object.fromEntries(criteria.map((c) => [c.key, field(c)])))
      .transform((o) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Record<string, number>),
  });
}

const tag = 'judging';
export const judgingOperations: ApiOperation[] = [
  { method: 'get', path: '/rounds', summary: 'Rounds (admin)', tag },
  {
    method: 'post',
    path: '/rounds',
    summary: 'Create a round { name, periodId?, judgesPerEntry, blind, aggregation, rubric, opensAt?, closesAt? }',
    tag,
    body: roundInput,
    status: 201,
  },
  { method: 'get', path: '/rounds/{id}', summary: 'One round', tag },
  {
    method: 'patch',
    path: '/rounds/{id}',
    summary: 'Edit a round (rubric, k, blind, method only while draft)',
    tag,
    body: roundInput.partial().openapi('RoundPatch'),
  },
  {
    method: 'post',
    path: '/rounds/{id}/entries',
    summary:
      'Add entries { entryIds? | fromRoundShortlist?, includeAwarded? } (default: forwarded entries of the period); awarded or broadcast-selected entries → 409 unless includeAwarded (false leaves them out: skipped)',
    tag,
    body: addEntriesInput,
  },
  { method: 'post', path: '/rounds/{id}/judges', summary: 'Set the panel { userIds }', tag, body: judgesInput },
  {
    method: 'post',
    path: '/rounds/{id}/assign',
    summary: 'Automatic balanced assignment → { assignments, assignmentCount, loads, balanced, note, warnings }',
    tag,
  },
  { method: 'get', path: '/rounds/{id}/assignments', summary: 'Assignments of the round', tag },
  { method: 'post', path: '/rounds/{id}/assignments', summary: 'Add one assignment { entryId, judgeId }', tag, body: assignmentInput, status: 201 },
  { method: 'delete', path: '/assignments/{id}', summary: 'Remove an unscored assignment', tag, status: 204 },
  { method: 'post', path: '/rounds/{id}/open', summary: 'Open the round', tag },
  { method: 'post', path: '/rounds/{id}/close', summary: 'Close the round (locks scores)', tag },
  { method: 'get', path: '/rounds/{id}/progress', summary: 'Assigned / submitted per judge', tag },
  { method: 'get', path: '/rounds/{id}/ranking', summary: 'Ranking with score, rawMean, spread, tied, flags', tag },
  { method: 'get', path: '/rounds/{id}/judge-stats', summary: 'Per-judge mean, SD and flags', tag },
  { method: 'post', path: '/rounds/{id}/shortlist', summary: 'Shortlist { top?, entryIds?, per?: song|level|form }', tag, body: shortlistInput },
  { method: 'post', path: '/rounds/{id}/awards/preview', summary: 'Preview awards for { tiers }', tag, body: tiersInput },
  {
    method: 'post',
    path: '/rounds/{id}/awards',
    summary:
      'Confirm awards { tiers: [{ award, count }], revisionReason? }; entries dropped from an earlier confirmation lose the award; after 公示 a numbered revision',
    tag,
    body: awardsInput,
  },
  {
    method: 'post',
    path: '/rounds/{id}/publish',
    summary:
      'Publish (公示) { publicityFrom?, publicityTo?, objectionContact?, feedbackEnabled?, revisionReason? } or withdraw { publish: false }; freezes the results (SHA-256)',
    tag,
    body: publishInput,
  },
  { method: 'get', path: '/rounds/{id}/audit', summary: 'The round’s audit trail, newest first, 50 a page (?page=); city and 监督', tag },
  { method: 'get', path: '/rounds/{id}/revisions', summary: 'Frozen results: revision, reason, snapshotSha256 (city and 监督)', tag },
  {
    method: 'get',
    path: '/rounds/{id}/revisions/{revision}/snapshot.json',
    summary: 'The canonical JSON of one frozen revision; its SHA-256 is snapshotSha256 (city and 监督)',
    tag,
  },
  { method: 'get', path: '/rounds/{id}/ranking.xlsx', summary: 'Ranking as XLSX', tag, produces: 'xlsx' },
  { method: 'get', path: '/rounds/{id}/scores.xlsx', summary: 'Score sheet (entries × judges × criteria) as XLSX', tag, produces: 'xlsx' },
  { method: 'post', path: '/assignments/{id}/reopen', summary: 'Reopen one submitted score { reason } (admin, audited)', tag, body: reopenInput },
  {
    method: 'get',
    path: '/results',
    summary: 'Published awards (公示), no scores: frozen snapshot with snapshotSha256, revisions (修订记录), publicity period, objection contact and count',
    tag,
    public: true,
  },
  { method: 'get', path: '/judging/assignments', summary: "The judge's own assignments (blind)", tag },
  { method: 'get', path: '/judging/assignments/{id}', summary: 'One assignment', tag },
  { method: 'put', path: '/judging/assignments/{id}', summary: 'Save scores { scores, comment?, submit? }; 409 round_closed', tag, body: scoreSaveInput },
  { method: 'post', path: '/judging/assignments/{id}/conflict', summary: 'Declare a conflict { reason } → 204', tag, body: conflictInput, status: 204 },
  { method: 'get', path: '/judging/assignments/{id}/preview', summary: 'Blind preview MP4', tag, produces: 'video' },
  { method: 'get', path: '/judging/assignments/{id}/poster', summary: 'Blind poster JPEG', tag, produces: 'image' },
];
