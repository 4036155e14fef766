import { sql, type Kysely } from 'kysely';
import type { CurrentUser } from '../accounts/account.types';
import type { DB } from '../platform/db/schema';
import type { TodoItem } from '../todo/todo.types';

/**
 * A school's to-do: drafts without a video, drafts ready to submit, videos that failed or carry a
 * QC warning, returned entries; the city: videos that failed processing. One aggregate query each.
 */
export async function todoItems(db: Kysely<DB>, user: CurrentUser, campaignId: string): Promise<TodoItem[]> {
  if (user.role === 'school' && user.schoolId) return schoolItems(db, user.schoolId, campaignId);
  if (user.role === 'admin') {
    const row = await db
      .selectFrom('entries as e')
      .innerJoin('videos as v', 'v.id', 'e.video_id')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('e.campaign_id', '=', campaignId)
      .where('v.status', '=', 'failed')
      .executeTakeFirstOrThrow();
    return [{ key: 'entries.video_failed', label: '视频处理失败的作品', count: Number(row.n), href: '/entries?status=draft', tone: 'danger' }];
  }
  return [];
}

async function schoolItems(db: Kysely<DB>, schoolId: string, campaignId: string): Promise<TodoItem[]> {
  const editable = sql`e.status IN ('draft', 'returned')`;
  const row = await db
    .selectFrom('entries as e')
    .leftJoin('videos as v', 'v.id', 'e.video_id')
    .select([
      sql<string>`count(*) FILTER (WHERE e.status = 'draft' AND e.video_id IS NULL)`.as('no_video'),
      sql<string>`count(*) FILTER (WHERE e.status = 'draft' AND v.status = 'ready' AND v.qc_verdict IS DISTINCT FROM 'fail')`.as('ready'),
      sql<string>`count(*) FILTER (WHERE ${editable} AND (v.status = 'failed' OR v.qc_verdict = 'fail'))`.as('failed'),
      sql<string>`count(*) FILTER (WHERE ${editable} AND v.status = 'ready' AND v.qc_verdict = 'warn')`.as('warn'),
      sql<string>`count(*) FILTER (WHERE e.status = 'returned')`.as('returned'),
      sql<string>`count(*) FILTER (WHERE e.status IN ('submitted', 'forwarded'))`.as('waiting'),
    ])
    .where('e.campaign_id', '=', campaignId)
    .where('e.school_id', '=', schoolId)
    .executeTakeFirstOrThrow();
  const deadline = await db
    .selectFrom('periods')
    .select((eb) => eb.fn.min('submit_by').as('due'))
    .where('campaign_id', '=', campaignId)
    .where('submit_by', '>', new Date())
    .executeTakeFirst();
  const due = deadline?.due ? new Date(deadline.due as unknown as string) : null;
  return [
    { key: 'entries.returned', label: '被退回、需要修改的作品', count: Number(row.returned), href: '/entries?status=returned', tone: 'danger' },
    { key: 'entries.video_failed', label: '视频处理失败或未通过技术检查', count: Number(row.failed), href: '/entries?status=draft', tone: 'danger' },
    { key: 'entries.video_warn', label: '视频有质量提醒（可提交，建议检查）', count: Number(row.warn), href: '/entries?qcVerdict=warn', tone: 'warn' },
    { key: 'entries.no_video', label: '还没有上传视频的草稿', count: Number(row.no_video), href: '/entries?status=draft', due, tone: 'warn' },
    { key: 'entries.ready', label: '视频已就绪、可以提交的作品', count: Number(row.ready), href: '/entries?status=draft', due, tone: 'info' },
    { key: 'entries.waiting', label: '已提交、等待审核的作品', count: Number(row.waiting), href: '/entries', tone: 'info' },
  ];
}
