import { sql, type Kysely } from 'kysely';
import type { CurrentUser } from '../accounts/account.types';
import type { DB } from '../platform/db/schema';
import type { TodoItem } from '../todo/todo.types';
import { openCounts } from './objection.repository';

/**
 * A judge's to-do: entries to score and drafts in open rounds, and when the round closes; the
 * city: rounds to open or close and judges behind; 监督 and 新媒体: published results and winners.
 */
export async function todoItems(db: Kysely<DB>, user: CurrentUser, campaignId: string): Promise<TodoItem[]> {
  if (user.role === 'judge') {
    const row = await db
      .selectFrom('assignments as a')
      .innerJoin('rounds as r', 'r.id', 'a.round_id')
      .select([
        sql<string>`count(*) FILTER (WHERE a.status = 'pending')`.as('pending'),
        sql<string>`count(*) FILTER (WHERE a.status = 'draft')`.as('drafts'),
        sql<Date | null>`min(r.closes_at) FILTER (WHERE a.status <> 'submitted')`.as('closes'),
      ])
      .where('a.judge_id', '=', user.id)
      .where('r.status', '=', 'open')
      .where('r.campaign_id', '=', campaignId)
      .executeTakeFirstOrThrow();
    const due = row.closes ? new Date(row.closes) : null;
    return [
      { key: 'judging.pending', label: '待评的作品', count: Number(row.pending), href: '/judging', due, tone: 'warn' },
      { key: 'judging.drafts', label: '已保存草稿、未提交的评分', count: Number(row.drafts), href: '/judging', due, tone: 'warn' },
    ];
  }
  if (user.role === 'admin') {
    const now = new Date();
    const rounds = await db
      .selectFrom('rounds')
      .select([
        sql<string>`count(*) FILTER (WHERE status = 'draft')`.as('drafts'),
        sql<string>`count(*) FILTER (WHERE status = 'open' AND closes_at IS NOT NULL AND closes_at <= ${now})`.as('due_to_close'),
        sql<string>`count(*) FILTER (WHERE status = 'closed' AND awards_confirmed_at IS NULL)`.as('awards'),
      ])
      .where('campaign_id', '=', campaignId)
      .executeTakeFirstOrThrow();
    const behind = await db
      .selectFrom('assignments as a')
      .innerJoin('rounds as r', 'r.id', 'a.round_id')
      .select([sql<string>`count(DISTINCT a.judge_id)`.as('judges'), sql<Date | null>`min(r.closes_at)`.as('closes')])
      .where('r.status', '=', 'open')
      .where('r.campaign_id', '=', campaignId)
      .where('a.status', '<>', 'submitted')
      .executeTakeFirstOrThrow();
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
    const row = await db
      .selectFrom('entries')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('campaign_id', '=', campaignId)
      .where('award', 'is not', null)
      .executeTakeFirstOrThrow();
    return [
      {
        key: 'judging.awarded',
        label: user.role === 'newmedia' ? '获奖作品（可制作新媒体内容）' : '获奖作品（公示名单）',
        count: Number(row.n),
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
