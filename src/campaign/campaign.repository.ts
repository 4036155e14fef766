import { sql, type Insertable, type Kysely, type Selectable, type Transaction, type Updateable } from 'kysely';
import type { DB } from '../platform/db/schema';

/** The campaign, its songs, forms, levels and periods as rows (Kysely); rules in campaign.service.ts. */
type Q = Kysely<DB> | Transaction<DB>;

export type PeriodRow = Selectable<DB['periods']>;

export function findCampaign(q: Q, id: string) {
  return q.selectFrom('campaigns').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
}

export function listSongs(q: Q, campaignId: string) {
  return q.selectFrom('songs').select(['id', 'title', 'designated']).where('campaign_id', '=', campaignId).orderBy('sort').execute();
}

export function listForms(q: Q) {
  return q.selectFrom('performance_forms').select(['code', 'label']).orderBy('sort').execute();
}

export function listLevels(q: Q) {
  return q.selectFrom('levels').select(['code', 'label']).orderBy('sort').execute();
}

/** Whether the song is one of the campaign's (an entry may only name its own campaign's songs). */
export async function songInCampaign(q: Q, songId: string, campaignId: string): Promise<boolean> {
  return Boolean(await q.selectFrom('songs').select('id').where('id', '=', songId).where('campaign_id', '=', campaignId).executeTakeFirst());
}

export async function formExists(q: Q, code: string): Promise<boolean> {
  return Boolean(await q.selectFrom('performance_forms').select('code').where('code', '=', code).executeTakeFirst());
}

export async function levelExists(q: Q, code: string): Promise<boolean> {
  return Boolean(await q.selectFrom('levels').select('code').where('code', '=', code).executeTakeFirst());
}

export function listPeriodRows(q: Q, campaignId: string): Promise<PeriodRow[]> {
  return q.selectFrom('periods').selectAll().where('campaign_id', '=', campaignId).orderBy('sort').orderBy('submit_by').execute();
}

export function findPeriod(q: Q, id: string): Promise<PeriodRow | undefined> {
  return q.selectFrom('periods').selectAll().where('id', '=', id).executeTakeFirst();
}

/** The period an entry submitted now falls in: the campaign's earliest one still open for submissions. */
export function nextSubmitPeriod(q: Q, campaignId: string, now: Date): Promise<{ id: string } | undefined> {
  return q
    .selectFrom('periods')
    .select('id')
    .where('campaign_id', '=', campaignId)
    .where('submit_by', '>', now)
    .orderBy('submit_by')
    .limit(1)
    .executeTakeFirst();
}

/** The campaign's next submission deadline after `now` (null when every period's has passed). */
export async function nextSubmitDeadline(q: Q, campaignId: string, now: Date): Promise<Date | null> {
  const deadline = await q
    .selectFrom('periods')
    .select((eb) => eb.fn.min('submit_by').as('due'))
    .where('campaign_id', '=', campaignId)
    .where('submit_by', '>', now)
    .executeTakeFirst();
  return deadline?.due ? new Date(deadline.due as unknown as string) : null;
}

/** The campaign's periods whose school (`submit_by`) or county (`forward_by`) deadline falls in (from, to], earliest first. */
export function periodsDue(q: Q, campaignId: string, deadline: 'submit_by' | 'forward_by', from: Date, to: Date) {
  return q
    .selectFrom('periods')
    .select(['id', 'name', 'submit_by', 'forward_by'])
    .where('campaign_id', '=', campaignId)
    .where(deadline, '>', from)
    .where(deadline, '<=', to)
    .orderBy(deadline)
    .execute();
}

export async function updatePeriod(q: Q, id: string, values: Updateable<DB['periods']>): Promise<void> {
  await q.updateTable('periods').set(values).where('id', '=', id).execute();
}

export type CampaignRow = Selectable<DB['campaigns']>;

/** Every campaign, newest year first (a handful per year: no paging needed, capped anyway). */
export function listCampaigns(q: Q): Promise<CampaignRow[]> {
  return q.selectFrom('campaigns').selectAll().orderBy('year', 'desc').orderBy('created_at', 'desc').orderBy('id').limit(200).execute();
}

export function findCampaignRow(q: Q, id: string): Promise<CampaignRow | undefined> {
  return q.selectFrom('campaigns').selectAll().where('id', '=', id).executeTakeFirst();
}

export function lockCampaign(trx: Transaction<DB>, id: string): Promise<CampaignRow | undefined> {
  return trx.selectFrom('campaigns').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
}

export function openCampaignRow(q: Q): Promise<CampaignRow | undefined> {
  return q.selectFrom('campaigns').selectAll().where('status', '=', 'open').executeTakeFirst();
}

export async function insertCampaign(trx: Transaction<DB>, values: Insertable<DB['campaigns']>): Promise<void> {
  await trx.insertInto('campaigns').values(values).execute();
}

export async function updateCampaign(q: Q, id: string, values: Updateable<DB['campaigns']>): Promise<void> {
  await q.updateTable('campaigns').set(values).where('id', '=', id).execute();
}

/** Moves whichever campaign is open (other than `exceptId`) to 评审中: at most one is open. */
export async function demoteOpen(trx: Transaction<DB>, exceptId: string): Promise<string[]> {
  const rows = await trx.updateTable('campaigns').set({ status: 'running' }).where('status', '=', 'open').where('id', '!=', exceptId).returning('id').execute();
  return rows.map((r) => r.id);
}

export async function copySongs(trx: Transaction<DB>, from: string, to: string): Promise<number> {
  const rows = await trx
    .insertInto('songs')
    .columns(['campaign_id', 'title', 'designated', 'sort'])
    .expression((eb) =>
      eb
        .selectFrom('songs')
        .select([sql.lit(to).as('campaign_id'), 'title', 'designated', 'sort'])
        .where('campaign_id', '=', from),
    )
    .returning('id')
    .execute();
  return rows.length;
}

/** Copies the periods, each deadline moved by `years` calendar years (names and quotas as they were). */
export async function copyPeriods(trx: Transaction<DB>, from: string, to: string, years: number): Promise<number> {
  const rows = await trx
    .insertInto('periods')
    .columns(['campaign_id', 'name', 'submit_by', 'forward_by', 'quota', 'sort'])
    .expression((eb) =>
      eb
        .selectFrom('periods')
        .select([
          sql.lit(to).as('campaign_id'),
          'name',
          sql<Date>`submit_by + make_interval(years => ${years})`.as('submit_by'),
          sql<Date>`forward_by + make_interval(years => ${years})`.as('forward_by'),
          'quota',
          'sort',
        ])
        .where('campaign_id', '=', from),
    )
    .returning('id')
    .execute();
  return rows.length;
}

/** The rubric a campaign's new rounds start from: its own, else its newest round's. */
export async function rubricOf(q: Q, campaignId: string): Promise<unknown> {
  const own = await q.selectFrom('campaigns').select('rubric').where('id', '=', campaignId).executeTakeFirst();
  if (own?.rubric) return own.rubric;
  const round = await q.selectFrom('rounds').select('rubric').where('campaign_id', '=', campaignId).orderBy('created_at', 'desc').limit(1).executeTakeFirst();
  return round?.rubric ?? null;
}

/** What closing would cut short: rounds still open, masters still being made. */
export async function unfinishedWork(q: Q, campaignId: string): Promise<{ openRounds: number; pendingMasters: number }> {
  const [rounds, masters] = await Promise.all([
    q
      .selectFrom('rounds')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('campaign_id', '=', campaignId)
      .where('status', '=', 'open')
      .executeTakeFirstOrThrow(),
    q
      .selectFrom('masters as m')
      .innerJoin('entries as e', 'e.id', 'm.entry_id')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('e.campaign_id', '=', campaignId)
      .where('m.status', 'in', ['queued', 'processing'])
      .executeTakeFirstOrThrow(),
  ]);
  return { openRounds: Number(rounds.n), pendingMasters: Number(masters.n) };
}

/** Closed campaigns whose retention period has passed and whose clearing was never confirmed (the city's to-do). */
export async function retentionDue(q: Q, now: Date): Promise<Array<{ id: string; due: Date }>> {
  const rows = await q
    .selectFrom('campaigns as c')
    .select(['c.id', sql<Date>`c.closed_at + make_interval(days => c.retention_days)`.as('due')])
    .where('c.status', '=', 'closed')
    .where('c.retention_days', 'is not', null)
    .where(sql<boolean>`c.closed_at + make_interval(days => c.retention_days) <= ${now}`)
    .where((eb) =>
      eb.not(
        eb.exists(
          eb.selectFrom('retention_runs as r').select('r.id').whereRef('r.campaign_id', '=', 'c.id').where('r.status', 'in', ['queued', 'running', 'done']),
        ),
      ),
    )
    .orderBy('due')
    .execute();
  return rows.map((r) => ({ id: r.id, due: new Date(r.due) }));
}
