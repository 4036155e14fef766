import type { ApiOperation } from '../web/openapi';
import { boolean, dateTime, integer, name, oneOf, optional, text, z } from '../platform/validate';

/** The campaign API's inputs (parsed by campaign.service.ts) and operations under /api/v1. */
export const periodInput = z
  .object({
    name: name('报送期名称', { max: 60 }),
    quota: integer('每县报送名额', { min: 0, max: 10000 }),
    submitBy: dateTime('学校提交截止时间'),
    forwardBy: dateTime('县区报送截止时间'),
  })
  .openapi('Period');

/** Next year's campaign: what the city copies from an earlier one. */
export const campaignInput = z
  .object({
    title: name('活动名称', { max: 80 }),
    year: integer('年度', { min: 2000, max: 2100 }),
    copyFrom: optional(text('复制自哪个活动', { max: 80 })),
    copySongs: boolean('复制指定歌曲'),
    copyPeriods: boolean('复制报送期（按年度顺延）'),
    copyRubric: boolean('复制评分标准'),
  })
  .openapi('CampaignCreate');

export const campaignStatusInput = z.object({ status: oneOf('活动状态', ['preparing', 'open', 'running'] as const) }).openapi('CampaignStatusChange');

export const closeInput = z.object({ confirm: boolean('确认关闭') }).openapi('CampaignClose');

export const retentionInput = z
  .object({
    days: integer('关闭后保留天数', { min: 0, max: 3650 }),
    includeNotAwarded: boolean('也删除未获奖作品的视频'),
  })
  .openapi('RetentionPolicy');

const tag = 'campaign';
export const campaignOperations: ApiOperation[] = [
  {
    method: 'get',
    path: '/campaign',
    summary: 'The chosen campaign (?campaignId= or X-Campaign-Id, else the open one): songs, forms, levels, periods, status',
    tag,
  },
  {
    method: 'patch',
    path: '/periods/{id}',
    summary: 'Edit a period (admin): quota, submitBy, forwardBy, name',
    tag,
    body: periodInput.partial().openapi('PeriodPatch'),
  },
  { method: 'get', path: '/campaigns', summary: 'Every campaign with its status (which one is open for submissions)', tag },
  {
    method: 'post',
    path: '/campaigns',
    summary: "Create next year's campaign (admin), copying songs, periods (shifted) and rubric as chosen",
    tag,
    body: campaignInput,
    status: 201,
  },
  { method: 'get', path: '/campaigns/{id}', summary: 'One campaign: songs, periods, status, retention policy', tag },
  { method: 'post', path: '/campaigns/{id}/status', summary: 'Open for submissions / back to judging / preparing (admin)', tag, body: campaignStatusInput },
  { method: 'post', path: '/campaigns/{id}/close', summary: 'Close the campaign: read-only from now on (admin)', tag, body: closeInput },
  {
    method: 'put',
    path: '/campaigns/{id}/retention',
    summary: 'Retention policy: days after closing, and whether non-awarded entries go too (admin)',
    tag,
    body: retentionInput,
  },
  {
    method: 'post',
    path: '/campaigns/{id}/retention/dry-run',
    summary: 'Dry run: which files retention would delete (how many, which schools, bytes)',
    tag,
    status: 201,
  },
  { method: 'get', path: '/retention-runs/{id}', summary: 'A retention run: its report and progress', tag },
  {
    method: 'post',
    path: '/retention-runs/{id}/confirm',
    summary: 'Run exactly what the dry run listed (a job; not before the retention days have passed)',
    tag,
    status: 202,
  },
];
