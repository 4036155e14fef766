import type { ApiOperation } from '../web/openapi';
import { calendarDate, integer, optional, pageQuerySchema, queryText, text, z } from '../platform/validate';
import { LEARNING_LABELS as L } from './learning.messages';

/** 人人会唱's inputs (parsed by learning.service.ts) and operations under /api/v1. */
const MAX_COUNT = 100_000;

export const learningSongInput = z
  .object({
    songId: text('歌曲', { max: 64 }),
    teachersLearned: integer(L.teachersLearned, { min: 0, max: MAX_COUNT }),
    classesSinging: integer(L.classesSinging, { min: 0, max: MAX_COUNT }),
  })
  .openapi('LearningSong');

export const learningReportInput = z
  .object({
    teachers: integer(L.teachers, { min: 1, max: MAX_COUNT }),
    classes: integer(L.classes, { min: 1, max: MAX_COUNT }),
    songs: z.array(learningSongInput).min(1, { error: '请填写每首指定歌曲的学唱情况' }).max(50),
    note: optional(text(L.note, { max: 500 })),
  })
  .openapi('LearningReport');

export const learningDeadlineInput = z
  .object({ deadline: calendarDate(L.deadline, '上报截止日期格式应为 YYYY-MM-DD，例如 2027-06-30') })
  .openapi('LearningDeadline');

export const learningStatsQuery = z
  .object({ countyId: queryText(64, "county id, or 'city' for 市直 schools (admin)"), notReported: queryText(1, '1: only schools that have not reported') })
  .extend(pageQuerySchema(50).shape);

const tag = 'learning';
export const learningOperations: ApiOperation[] = [
  { method: 'get', path: '/schools/{id}/learning', summary: "A school's latest learning report and its history (the school, its county, the city)", tag },
  {
    method: 'put',
    path: '/schools/{id}/learning',
    summary: 'Report learning progress per designated song (the school itself, until the deadline); 409 invalid_state after it',
    tag,
    body: learningReportInput,
  },
  { method: 'get', path: '/learning/deadline', summary: 'The reporting deadline (a Beijing day)', tag },
  { method: 'put', path: '/learning/deadline', summary: 'Set the reporting deadline { deadline: YYYY-MM-DD } (admin)', tag, body: learningDeadlineInput },
  {
    method: 'get',
    path: '/stats/learning',
    summary: 'Coverage: per county, per school (paged), per song, not-reported schools, trend; scoped like /stats',
    tag,
    query: learningStatsQuery,
  },
  {
    method: 'get',
    path: '/exports/learning.xlsx',
    summary: 'Coverage per school and per county as XLSX ?countyId=',
    tag,
    query: learningStatsQuery.pick({ countyId: true }),
    produces: 'xlsx',
  },
];
