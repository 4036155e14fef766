import type { Kysely } from 'kysely';
import type { CurrentUser } from '../accounts/account.types';
import { nextSubmitDeadline } from '../campaign/campaign.repository';
import type { DB } from '../platform/db/schema';
import type { TodoItem } from '../todo/todo.types';
import { countFailedVideos, schoolTodoCounts } from './entry.repository';

/**
 * A school's to-do: drafts without a video, drafts ready to submit, videos that failed or carry a
 * QC warning, returned entries; the city: videos that failed processing. One aggregate query each.
 */
export async function todoItems(db: Kysely<DB>, user: CurrentUser, campaignId: string): Promise<TodoItem[]> {
  if (user.role === 'school' && user.schoolId) return schoolItems(db, user.schoolId, campaignId);
  if (user.role === 'admin') {
    const failed = await countFailedVideos(db, campaignId);
    return [{ key: 'entries.video_failed', label: '视频处理失败的作品', count: failed, href: '/entries?status=draft', tone: 'danger' }];
  }
  return [];
}

async function schoolItems(db: Kysely<DB>, schoolId: string, campaignId: string): Promise<TodoItem[]> {
  const row = await schoolTodoCounts(db, schoolId, campaignId);
  const due = await nextSubmitDeadline(db, campaignId, new Date());
  return [
    { key: 'entries.returned', label: '被退回、需要修改的作品', count: Number(row.returned), href: '/entries?status=returned', tone: 'danger' },
    { key: 'entries.video_failed', label: '视频处理失败或未通过技术检查', count: Number(row.failed), href: '/entries?status=draft', tone: 'danger' },
    { key: 'entries.video_warn', label: '视频有质量提醒（可提交，建议检查）', count: Number(row.warn), href: '/entries?qcVerdict=warn', tone: 'warn' },
    { key: 'entries.no_video', label: '还没有上传视频的草稿', count: Number(row.no_video), href: '/entries?status=draft', due, tone: 'warn' },
    { key: 'entries.ready', label: '视频已就绪、可以提交的作品', count: Number(row.ready), href: '/entries?status=draft', due, tone: 'info' },
    { key: 'entries.waiting', label: '已提交、等待审核的作品', count: Number(row.waiting), href: '/entries', tone: 'info' },
  ];
}
