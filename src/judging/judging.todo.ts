import type { Kysely } from 'kysely';
import type { CurrentUser } from '../accounts/account.types';
import type { DB } from '../platform/db/schema';
import type { TodoItem } from '../todo/todo.types';
import { openCounts } from './objection.repository';
import { countAwarded } from './results.repository';
import { judgesBehind, roundTodoCounts } from './round.repository';
import { judgeTodoCounts } from './scoring.repository';

/**
 * A judge's to-do: entries to score and drafts in open rounds, and when the round closes; the
 * city: rounds to open or close and judges behind; 监督 and 新媒体: published results and winners.
 */
export async function todoItems(db: Kysely<DB>, user: CurrentUser, campaignId: string): Promise<TodoItem[]> {
  if (user.role === 'judge') {
    const row = await judgeTodoCounts(db, user.id, campaignId);
    const due = row.closes ? new Date(row.closes) : null;
    return [
      { key: 'judging.pending', label: '待评的作品', count: Number(row.pending), href: '/judging', due, tone: 'warn' },
      { key: 'judging.drafts', label: '已保存草稿、未提交的评分', count: Number(row.drafts), href: '/judging', due, tone: 'warn' },
    ];
  }
  if (user.role === 'admin') {
    const rounds = await roundTodoCounts(db, campaignId, new Date());
    const behind = await judgesBehind(db, campaignId);
    return [
      { key: 'judging.rounds_draft', label: '未开始的评审轮次', count: Number(rounds.drafts), href: '/rounds', tone: 'info' },
      { key: 'judging.rounds_due', label: '已到截止时间、待结束的轮次', count: Number(rounds.due_to_close), href: '/rounds', tone: 'warn' },
      {
        key: 'judging.judges_behind',
        label: '还有作品未评完的评委',
        count: Number(behind.judges),
        href: '/rounds',
        due: behind.closes ? new Date(behind.closes) : null,
        tone: 'warn',
      },
      { key: 'judging.awards', label: '已结束、待评定奖项的轮次', count: Number(rounds.awards), href: '/rounds', tone: 'info' },
      ...(await objectionItems(db, campaignId)),
    ];
  }
  if (user.role === 'supervisor' || user.role === 'newmedia') {
    const awarded = await countAwarded(db, campaignId);
    return [
      {
        key: 'judging.awarded',
        label: user.role === 'newmedia' ? '获奖作品（可制作新媒体内容）' : '获奖作品（公示名单）',
        count: awarded,
        href: '/results',
        tone: 'info',
      },
    ];
  }
  return [];
}

/** The city's open objections of the 公示期: to accept, and accepted or under review awaiting a conclusion. */
async function objectionItems(db: Kysely<DB>, campaignId: string): Promise<TodoItem[]> {
  const n = await openCounts(db, campaignId);
  const items: TodoItem[] = [];
  if (n.submitted)
    items.push({ key: 'objections.submitted', label: '待受理的公示异议', count: n.submitted, href: '/objections?status=submitted', tone: 'danger' });
  const inProgress = n.accepted + n.reviewing;
  if (inProgress) items.push({ key: 'objections.open', label: '待作出结论的公示异议', count: inProgress, href: '/objections', tone: 'warn' });
  return items;
}
