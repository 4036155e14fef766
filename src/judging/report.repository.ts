import { sql, type Kysely, type Transaction } from 'kysely';
import type { DB } from '../platform/db/schema';
import type { EntryStatus } from '../entries/entry.schema';

/**
 * The figures of the 县区成绩单 (county report) and the city's, read in one go per scope
 * (`countyId` null: the whole city). Drafts never count — an entry counts once its school submitted it —
 * except in the QC figures (a video that fails the check keeps its entry a draft).
 */
type Q = Kysely<DB> | Transaction<DB>;

export const FORWARDED: readonly EntryStatus[] = ['forwarded', 'in_judging', 'shortlisted', 'not_selected', 'awarded', 'broadcast_selected', 'aired'];

export function countyRow(q: Q, countyId: string) {
  return q.selectFrom('counties').select(['id', 'name']).where('id', '=', countyId).executeTakeFirst();
}

export function allCounties(q: Q) {
  return q.selectFrom('counties').select(['id', 'name']).orderBy('sort').execute();
}

export async function reportFigures(q: Q, campaignId: string, countyId: string | null, roundId: string | null) {
  let all = q.selectFrom('entries as e').where('e.campaign_id', '=', campaignId);
  if (countyId) all = all.where('e.county_id', '=', countyId);
  const entries = all.where('e.status', '!=', 'draft');
  let schools = q.selectFrom('schools as s');
  if (countyId) schools = schools.where('s.county_id', '=', countyId);

  const [schoolCount, schoolsWithEntries, bySong, byForm, qc, returns, returnedNow, funnel, quota] = await Promise.all([
    schools.select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow(),
    entries.select((eb) => eb.fn.count<string>('e.school_id').distinct().as('n')).executeTakeFirstOrThrow(),
    entries
      .leftJoin('songs as g', 'g.id', 'e.song_id')
      .select([sql<string>`coalesce(g.title, e.custom_song_title, '')`.as('song'), (eb) => eb.fn.countAll<string>().as('n')])
      .groupBy(sql`coalesce(g.title, e.custom_song_title, '')`)
      .orderBy(sql`count(*)`, 'desc')
      .orderBy(sql`coalesce(g.title, e.custom_song_title, '')`)
      .execute(),
    entries
      .leftJoin('performance_forms as f', 'f.code', 'e.form')
      .select([sql<string>`coalesce(f.label, e.form)`.as('form'), (eb) => eb.fn.countAll<string>().as('n')])
      .groupBy(sql`coalesce(f.label, e.form)`)
      .orderBy(sql`count(*)`, 'desc')
      .execute(),
    // QC counts drafts too: a video that fails the check cannot be submitted, so that is where they are.
    all
      .innerJoin('videos as v', 'v.id', 'e.video_id')
      .select([
        (eb) => eb.fn.countAll<string>().filterWhere('v.qc_verdict', '=', 'fail').as('fail'),
        (eb) => eb.fn.countAll<string>().filterWhere('v.qc_verdict', '=', 'warn').as('warn'),
        (eb) => eb.fn.countAll<string>().filterWhere('v.status', '=', 'failed').as('failed'),
      ])
      .executeTakeFirstOrThrow(),
    // Every return ever made (the audit log keeps them after the school resubmitted), by reason.
    (countyId
      ? q.selectFrom('audit_log as a').innerJoin('entries as e', 'e.id', 'a.object_id').where('e.county_id', '=', countyId)
      : q.selectFrom('audit_log as a').innerJoin('entries as e', 'e.id', 'a.object_id')
    )
      .where('a.object_type', '=', 'entry')
      .where('a.action', '=', 'entry.return')
      .where('e.campaign_id', '=', campaignId)
      .select([sql<string>`coalesce(a.reason, '')`.as('reason'), (eb) => eb.fn.countAll<string>().as('n')])
      .groupBy(sql`coalesce(a.reason, '')`)
      .orderBy(sql`count(*)`, 'desc')
      .limit(30)
      .execute(),
    entries
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('e.status', '=', 'returned')
      .executeTakeFirstOrThrow(),
    entries
      .select([
        (eb) => eb.fn.countAll<string>().as('submitted'),
        (eb) => eb.fn.countAll<string>().filterWhere('e.status', 'in', FORWARDED).as('forwarded'),
        (eb) =>
          eb.fn
            .countAll<string>()
            .filterWhere(({ exists, selectFrom }) =>
              exists(selectFrom('round_entries as re').select('re.entry_id').whereRef('re.entry_id', '=', 'e.id').where('re.shortlisted', '=', true)),
            )
            .as('shortlisted'),
        (eb) => eb.fn.countAll<string>().filterWhere('e.award', 'is not', null).as('awarded'),
      ])
      .executeTakeFirstOrThrow(),
    // Quota per period: the county's override, else the period's default; used = forwarded in that period.
    sql<{ period_id: string; name: string; county_id: string; county_name: string; quota: number; used: string }>`
      SELECT p.id AS period_id, p.name, c.id AS county_id, c.name AS county_name,
             coalesce(pq.quota, p.quota) AS quota,
             (SELECT count(*) FROM entries e WHERE e.period_id = p.id AND e.county_id = c.id
                AND e.status IN (${sql.join(FORWARDED.map((s) => sql`${s}`))})) AS used
      FROM periods p CROSS JOIN counties c
      LEFT JOIN period_county_quotas pq ON pq.period_id = p.id AND pq.county_id = c.id
      WHERE p.campaign_id = ${campaignId} ${countyId ? sql`AND c.id = ${countyId}` : sql``}
      ORDER BY p.sort, c.sort`.execute(q),
  ]);

  const criteria = roundId ? await criterionMeans(q, roundId, countyId) : [];
  return {
    schools: Number(schoolCount.n),
    schoolsWithEntries: Number(schoolsWithEntries.n),
    bySong: bySong.map((r) => ({ label: r.song, count: Number(r.n) })),
    byForm: byForm.map((r) => ({ label: r.form, count: Number(r.n) })),
    qc: { fail: Number(qc.fail), warn: Number(qc.warn), processingFailed: Number(qc.failed) },
    returns: {
      total: returns.reduce((s, r) => s + Number(r.n), 0),
      returnedNow: Number(returnedNow.n),
      reasons: returns.map((r) => ({ reason: r.reason, count: Number(r.n) })),
    },
    funnel: {
      submitted: Number(funnel.submitted),
      forwarded: Number(funnel.forwarded),
      shortlisted: Number(funnel.shortlisted),
      awarded: Number(funnel.awarded),
    },
    quota: quota.rows.map((r) => ({
      periodId: r.period_id,
      period: r.name,
      countyId: r.county_id,
      county: r.county_name,
      quota: Number(r.quota),
      used: Number(r.used),
    })),
    criteria,
  };
}

/** Mean of each criterion over the round's submitted scores: of the scope's entries, and of all (the city's). */
export async function criterionMeans(q: Q, roundId: string, countyId: string | null) {
  const rows = await sql<{ key: string; city: number | null; scope: number | null; n_scope: string }>`
    SELECT c.key,
           avg(c.value::float8) AS city,
           avg(c.value::float8) FILTER (WHERE ${countyId ? sql`e.county_id = ${countyId}` : sql`true`}) AS scope,
           count(*) FILTER (WHERE ${countyId ? sql`e.county_id = ${countyId}` : sql`true`}) AS n_scope
    FROM assignments a
    JOIN entries e ON e.id = a.entry_id
    CROSS JOIN LATERAL jsonb_each_text(a.scores) AS c(key, value)
    WHERE a.round_id = ${roundId} AND a.status = 'submitted'
    GROUP BY c.key`.execute(q);
  return rows.rows.map((r) => ({
    key: r.key,
    city: r.city === null ? null : Number(r.city),
    scope: r.scope === null ? null : Number(r.scope),
    scoreCount: Number(r.n_scope),
  }));
}

/** The newest round of the campaign that has submitted scores (the report's default round). */
export async function newestScoredRound(q: Q, campaignId: string) {
  return q
    .selectFrom('rounds as r')
    .select(['r.id', 'r.name', 'r.rubric'])
    .where('r.campaign_id', '=', campaignId)
    .where(({ exists, selectFrom }) =>
      exists(selectFrom('assignments as a').select('a.id').whereRef('a.round_id', '=', 'r.id').where('a.status', '=', 'submitted')),
    )
    .orderBy('r.created_at', 'desc')
    .limit(1)
    .executeTakeFirst();
}

export function roundRow(q: Q, roundId: string) {
  return q.selectFrom('rounds').select(['id', 'name', 'rubric', 'campaign_id']).where('id', '=', roundId).executeTakeFirst();
}

/** One judge's scores in a round (the 评委签字表), by entry code. */
export function judgeScores(q: Q, roundId: string, judgeId: string) {
  return q
    .selectFrom('assignments as a')
    .innerJoin('round_entries as re', (j) => j.onRef('re.round_id', '=', 'a.round_id').onRef('re.entry_id', '=', 'a.entry_id'))
    .innerJoin('entries as e', 'e.id', 'a.entry_id')
    .select(['e.code', 'e.title', 're.label', 'a.status', 'a.scores', 'a.total', 'a.submitted_at'])
    .where('a.round_id', '=', roundId)
    .where('a.judge_id', '=', judgeId)
    .orderBy('re.label')
    .execute();
}

export function judgeRow(q: Q, roundId: string, judgeId: string) {
  return q
    .selectFrom('round_judges as rj')
    .innerJoin('users as u', 'u.id', 'rj.judge_id')
    .select(['u.id', 'u.display_name'])
    .where('rj.round_id', '=', roundId)
    .where('rj.judge_id', '=', judgeId)
    .executeTakeFirst();
}

/** Rounds with their panel (the 评委签字表 links), newest first. */
export async function roundsWithJudges(q: Q, campaignId: string) {
  const rows = await q
    .selectFrom('rounds as r')
    .innerJoin('round_judges as rj', 'rj.round_id', 'r.id')
    .innerJoin('users as u', 'u.id', 'rj.judge_id')
    .select(['r.id', 'r.name', 'r.created_at', 'u.id as judge_id', 'u.display_name'])
    .where('r.campaign_id', '=', campaignId)
    .orderBy('r.created_at', 'desc')
    .orderBy('u.display_name')
    .limit(2000)
    .execute();
  const out = new Map<string, { id: string; name: string; judges: Array<{ id: string; name: string }> }>();
  for (const r of rows) {
    const item = out.get(r.id) ?? { id: r.id, name: r.name, judges: [] };
    item.judges.push({ id: r.judge_id, name: r.display_name });
    out.set(r.id, item);
  }
  return [...out.values()];
}
