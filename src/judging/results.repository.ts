import { sql, type Kysely, type Transaction, type Updateable } from 'kysely';
import type { AwardTier } from './judging.schema';
import type { DB } from '../platform/db/schema';

/** What ranking reads (Kysely); the aggregation itself is aggregation.ts, pure. */
type Q = Kysely<DB> | Transaction<DB>;

/** A round's entries joined to what a person reads of them: school, county, song. */
function roundEntriesNamed(q: Q) {
  return q
    .selectFrom('round_entries as re')
    .innerJoin('entries as e', 'e.id', 're.entry_id')
    .innerJoin('schools as s', 's.id', 'e.school_id')
    .leftJoin('counties as c', 'c.id', 'e.county_id')
    .leftJoin('songs as g', 'g.id', 'e.song_id');
}

/** A round's entries with what the ranking table shows of them. */
export function rankingEntries(q: Q, roundId: string) {
  return roundEntriesNamed(q)
    .select([
      'e.id',
      'e.code',
      'e.title',
      'e.song_id',
      'e.custom_song_title',
      'g.title as song_title',
      'e.form',
      'e.level',
      's.name as school_name',
      'c.name as county_name',
      're.shortlisted',
      're.award',
      're.label',
    ])
    .where('re.round_id', '=', roundId)
    .execute();
}

/** The submitted scores of a round, in the shape rankRound takes (no second pass over 50,000 rows). */
export async function submittedScores(q: Q, roundId: string): Promise<Array<{ entryId: string; judgeId: string; values: Record<string, number> }>> {
  const rows = await q
    .selectFrom('assignments')
    .select(['entry_id as entryId', 'judge_id as judgeId', 'scores as values'])
    .where('round_id', '=', roundId)
    .where('status', '=', 'submitted')
    .execute();
  return rows as Array<{ entryId: string; judgeId: string; values: Record<string, number> }>;
}

/**
 * What the ranking depends on, in one statement: how many scores are submitted, the sums of their
 * update times (any save, submit or reopen changes it — a sum, not a max, so a web process whose
 * clock lags another's still changes it) and of their totals; and a hash over every field the
 * ranking rows show of the round's entries (title, song, school, county, label, shortlist, award),
 * so a rename or a shortlist changes it too.
 */
export async function rankingFingerprint(q: Q, roundId: string): Promise<{ submitted: number; stamp: string; entries: number; entriesHash: string }> {
  const { rows } = await sql<{ submitted: number | string; stamp: string | null; entries: number | string; entries_hash: string | null }>`
    select (select count(*) from assignments a where a.round_id = ${roundId} and a.status = 'submitted') as submitted,
           (select (coalesce(sum(extract(epoch from a.updated_at)), 0) || '/' || coalesce(sum(a.total), 0))::text
              from assignments a where a.round_id = ${roundId} and a.status = 'submitted') as stamp,
           count(*) as entries,
           coalesce(sum(hashtext(concat_ws('|', e.id, e.code, e.title, e.song_id, e.custom_song_title, g.title, e.form, e.level,
                                           s.name, c.name, re.label, re.shortlisted::text, re.award))::bigint), 0)::text as entries_hash
    from round_entries re
    join entries e on e.id = re.entry_id
    join schools s on s.id = e.school_id
    left join counties c on c.id = e.county_id
    left join songs g on g.id = e.song_id
    where re.round_id = ${roundId}`.execute(q);
  const r = rows[0]!;
  return { submitted: Number(r.submitted), stamp: r.stamp ?? '0', entries: Number(r.entries), entriesHash: r.entries_hash ?? '0' };
}

export function findRound(q: Q, id: string) {
  return q.selectFrom('rounds').selectAll().where('id', '=', id).executeTakeFirst();
}

/** The shortlist of a round becomes exactly `chosen`; chosen entries `shortlisted`, the rest `not_selected`. */
export async function writeShortlist(trx: Transaction<DB>, roundId: string, chosen: string[], rest: string[], at: Date): Promise<void> {
  await trx.updateTable('round_entries').set({ shortlisted: false }).where('round_id', '=', roundId).execute();
  await trx.updateTable('round_entries').set({ shortlisted: true }).where('round_id', '=', roundId).where('entry_id', 'in', chosen).execute();
  await trx
    .updateTable('entries')
    .set({ status: 'shortlisted', updated_at: at })
    .where('id', 'in', chosen)
    .where('status', 'in', ['in_judging', 'shortlisted', 'not_selected'])
    .execute();
  if (rest.length)
    await trx
      .updateTable('entries')
      .set({ status: 'not_selected', updated_at: at })
      .where('id', 'in', rest)
      .where('status', 'in', ['in_judging', 'shortlisted'])
      .execute();
}

export async function clearAwards(trx: Transaction<DB>, roundId: string): Promise<void> {
  await trx.updateTable('round_entries').set({ award: null }).where('round_id', '=', roundId).execute();
}

export async function writeAward(trx: Transaction<DB>, roundId: string, entryId: string, award: AwardTier, at: Date): Promise<void> {
  await trx.updateTable('round_entries').set({ award }).where('round_id', '=', roundId).where('entry_id', '=', entryId).execute();
  await trx
    .updateTable('entries')
    .set({ award, status: 'awarded', updated_at: at })
    .where('id', '=', entryId)
    .where('status', 'in', ['in_judging', 'shortlisted', 'not_selected', 'awarded'])
    .execute();
}

export async function updateRound(q: Q, roundId: string, values: Updateable<DB['rounds']>): Promise<void> {
  await q.updateTable('rounds').set(values).where('id', '=', roundId).execute();
}

/** Awarded entries of every published round (newest round first): one query for the whole 公示 list. */
export function publishedAwards(q: Q, campaignId: string) {
  return q
    .selectFrom('rounds as r')
    .innerJoin('round_entries as re', 're.round_id', 'r.id')
    .innerJoin('entries as e', 'e.id', 're.entry_id')
    .innerJoin('schools as s', 's.id', 'e.school_id')
    .leftJoin('counties as c', 'c.id', 'e.county_id')
    .leftJoin('songs as g', 'g.id', 'e.song_id')
    .leftJoin('performance_forms as f', 'f.code', 'e.form')
    .leftJoin('entry_consents as k', 'k.entry_id', 'e.id')
    .select([
      'k.scope_public',
      'k.withdrawn_at as consent_withdrawn_at',
      'r.id as round_id',
      'r.name as round_name',
      'r.published_at',
      'e.code',
      'e.title',
      'g.title as song_title',
      'e.custom_song_title',
      'f.label as form_label',
      's.name as school_name',
      'c.name as county_name',
      're.award',
    ])
    .where('r.campaign_id', '=', campaignId)
    .where('r.published_at', 'is not', null)
    .where('re.award', 'is not', null)
    .orderBy('r.published_at', 'desc')
    .orderBy('r.id')
    .execute();
}

export function publishedRounds(q: Q, campaignId: string) {
  return q
    .selectFrom('rounds')
    .select(['id', 'name', 'published_at', 'publicity_from', 'publicity_to', 'objection_contact'])
    .where('campaign_id', '=', campaignId)
    .where('published_at', 'is not', null)
    .orderBy('published_at', 'desc')
    .execute();
}

/** Every score of a round with entry and judge (the score sheet export). */
export function scoreSheet(q: Q, roundId: string) {
  return q
    .selectFrom('assignments as a')
    .innerJoin('entries as e', 'e.id', 'a.entry_id')
    .innerJoin('users as u', 'u.id', 'a.judge_id')
    .select(['e.code', 'e.title', 'u.display_name', 'a.judge_id', 'a.status', 'a.scores', 'a.total', 'a.comment'])
    .where('a.round_id', '=', roundId)
    .orderBy('e.code')
    .orderBy('u.display_name')
    .execute();
}

/** The round's awarded entries with their school (to tell each school its award). */
export function awardedEntriesOf(q: Kysely<DB> | Transaction<DB>, roundId: string) {
  return q
    .selectFrom('round_entries as re')
    .innerJoin('entries as e', 'e.id', 're.entry_id')
    .select(['e.id', 'e.title', 'e.school_id', 're.award'])
    .where('re.round_id', '=', roundId)
    .where('re.award', 'is not', null)
    .execute();
}

/* ── Issue 18: frozen results, revisions, re-confirmed awards ───────────────────────────────── */

/** The awarded entries of one round as the 公示 shows them (read inside the caller's transaction). */
export function roundAwards(q: Q, roundId: string) {
  return roundEntriesNamed(q)
    .leftJoin('performance_forms as f', 'f.code', 'e.form')
    .select([
      'e.code',
      'e.title',
      'g.title as song_title',
      'e.custom_song_title',
      'f.label as form_label',
      's.name as school_name',
      'c.name as county_name',
      're.award',
    ])
    .where('re.round_id', '=', roundId)
    .where('re.award', 'is not', null)
    .execute();
}

/** Entries holding an award in this round now (before a re-confirmation replaces them). */
export function currentAwards(trx: Transaction<DB>, roundId: string) {
  return trx.selectFrom('round_entries').select(['entry_id', 'award', 'shortlisted']).where('round_id', '=', roundId).where('award', 'is not', null).execute();
}

/**
 * An entry dropped by a re-confirmation loses the award it had from this round: `entries.award`
 * cleared and its status back to shortlisted / not_selected — so it can no longer be chosen for
 * broadcast. Only while it still carries that award and is `awarded` (a later round's award stays).
 */
export async function revokeAward(trx: Transaction<DB>, entryId: string, award: AwardTier, shortlisted: boolean, at: Date): Promise<boolean> {
  const r = await trx
    .updateTable('entries')
    .set({ award: null, status: shortlisted ? 'shortlisted' : 'not_selected', updated_at: at })
    .where('id', '=', entryId)
    .where('status', '=', 'awarded')
    .where('award', '=', award)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

export function latestRevision(q: Q, roundId: string) {
  return q.selectFrom('result_revisions').selectAll().where('round_id', '=', roundId).orderBy('revision', 'desc').limit(1).executeTakeFirst();
}

export async function insertRevision(
  trx: Transaction<DB>,
  row: { round_id: string; revision: number; reason: string | null; snapshot: string; snapshot_sha256: string; actor_id: string | null; created_at: Date },
): Promise<void> {
  await trx.insertInto('result_revisions').values(row).execute();
}

/** Every revision of the given rounds (no snapshot text), oldest first. */
export function revisionsOf(q: Q, roundIds: string[]) {
  if (!roundIds.length) return Promise.resolve([]);
  return q
    .selectFrom('result_revisions')
    .select(['round_id', 'revision', 'reason', 'snapshot_sha256', 'created_at'])
    .where('round_id', 'in', roundIds)
    .orderBy('round_id')
    .orderBy('revision')
    .execute();
}

/** The newest snapshot text of each given round. */
export function latestSnapshots(q: Q, roundIds: string[]) {
  if (!roundIds.length) return Promise.resolve([]);
  return q
    .selectFrom('result_revisions as rr')
    .select(['rr.round_id', 'rr.revision', 'rr.snapshot', 'rr.snapshot_sha256', 'rr.created_at'])
    .where('rr.round_id', 'in', roundIds)
    .where(({ eb, selectFrom }) =>
      eb(
        'rr.revision',
        '=',
        selectFrom('result_revisions as x')
          .select((x) => x.fn.max('x.revision').as('m'))
          .whereRef('x.round_id', '=', 'rr.round_id'),
      ),
    )
    .execute();
}

/** Objections per round (the public sees this count and nothing else of them). */
export async function objectionCounts(q: Q, roundIds: string[]): Promise<Map<string, number>> {
  if (!roundIds.length) return new Map();
  const rows = await q
    .selectFrom('objections')
    .select(['round_id', (eb) => eb.fn.countAll<string>().as('n')])
    .where('round_id', 'in', roundIds)
    .groupBy('round_id')
    .execute();
  return new Map(rows.map((r) => [r.round_id, Number(r.n)]));
}

export function findRevision(q: Q, roundId: string, revision: number) {
  return q.selectFrom('result_revisions').selectAll().where('round_id', '=', roundId).where('revision', '=', revision).executeTakeFirst();
}

/** A round's audit trail, newest first: the round's own rows and every row naming it in detail.roundId. */
export async function roundAudit(q: Q, roundId: string, page: number, pageSize: number) {
  const base = q
    .selectFrom('audit_log')
    .where((eb) => eb.or([eb.and([eb('object_type', '=', 'round'), eb('object_id', '=', roundId)]), eb(sql<string>`detail->>'roundId'`, '=', roundId)]));
  const [{ n }, rows] = await Promise.all([
    base.select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow(),
    base
      .select(['id', 'at', 'actor_name', 'action', 'object_type', 'object_id', 'from_state', 'to_state', 'reason'])
      .orderBy('at', 'desc')
      .orderBy('id', 'desc')
      .limit(pageSize)
      .offset((page - 1) * pageSize)
      .execute(),
  ]);
  return { total: Number(n), rows };
}

/**
 * Codes of the awarded entries of these rounds whose guardians' 'public' permission stands now: the
 * 公示 prints title, school and county only for these (read at request time, so a withdrawal counts).
 */
export async function publicScopeCodes(q: Q, roundIds: string[]): Promise<Set<string>> {
  if (!roundIds.length) return new Set();
  const rows = await q
    .selectFrom('round_entries as re')
    .innerJoin('entries as e', 'e.id', 're.entry_id')
    .innerJoin('entry_consents as k', 'k.entry_id', 'e.id')
    .select('e.code')
    .where('re.round_id', 'in', roundIds)
    .where('re.award', 'is not', null)
    .where('k.scope_public', '=', true)
    .where('k.withdrawn_at', 'is', null)
    .execute();
  return new Set(rows.map((r) => r.code));
}

/** Revokes an entry's live certificates (award and director) of one round: its award was withdrawn or changed. */
export async function revokeCertificatesOfEntry(trx: Transaction<DB>, roundId: string, entryId: string, reason: string, at: Date): Promise<number> {
  const r = await trx
    .updateTable('certificates')
    .set({ revoked_at: at, revoked_reason: reason })
    .where('round_id', '=', roundId)
    .where('entry_id', '=', entryId)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return Number(r.numUpdatedRows);
}

/** How many of the campaign's entries carry an award. */
export async function countAwarded(q: Q, campaignId: string): Promise<number> {
  const row = await q
    .selectFrom('entries')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('campaign_id', '=', campaignId)
    .where('award', 'is not', null)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}
