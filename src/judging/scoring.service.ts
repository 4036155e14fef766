import { sql, type Transaction } from 'kysely';
import type { CurrentUser } from '../accounts/account.types';
import { assertArea } from '../accounts/policy';
import { recordAudit } from '../platform/audit';
import type { Db } from '../platform/db/database';
import type { DB } from '../platform/db/schema';
import { notFound, validationFailed } from '../platform/errors';
import { parse, type PageQuery } from '../platform/validate';
import { conflictInput, reopenInput, scoresOf, scoreSaveInput } from './judging.contract';
import { ASSIGNMENT_NOT_FOUND } from './judging.messages';
import { reassignAfterConflict } from './assignment';
import type { AssignmentStatus } from './judging.schema';
import { roundClosed } from './round.service';
import type { RubricCriterion } from './judging.types';

/**
 * The judge's side: their own assignments only, blind when the round is blind — nothing a judge
 * receives carries the school, county, director or uploader, nor anything that can be looked up
 * elsewhere: the entry's code and title give way to the round's label (`round_entries.label`), and
 * media are served under the assignment's id as `<label>.mp4`. Scores stay editable until the round
 * closes; afterwards only a score an admin reopened (with a reason) can change.
 */
export interface JudgeAssignment {
  id: string;
  roundId: string;
  roundName: string;
  status: AssignmentStatus;
  blind: boolean;
  rubric: RubricCriterion[];
  closesAt: string | null;
  editable: boolean;
  entry: {
    /** The entry code; in a blind round the round's label instead (the code is public on the 公示 page). */
    code: string;
    /** The school's title; in a blind round 「作品 <label>」. */
    title: string;
    /** This round's label of the entry, e.g. "B-017" (random order, not derived from the code). */
    label: string;
    song: { title: string; designated: boolean };
    form: string;
    level: string;
    durationS: number | null;
    previewUrl: string | null;
    posterUrl: string | null;
    /** only in rounds that are not blind */
    school?: { name: string };
    county?: { name: string } | null;
  };
  scores: Record<string, number> | null;
  comment: string | null;
}

export function createScoringService(db: Db, deps: { now?: () => Date } = {}) {
  const now = deps.now ?? (() => new Date());

  function baseQuery(q: Db | Transaction<DB>) {
    return q
      .selectFrom('assignments as a')
      .innerJoin('rounds as r', 'r.id', 'a.round_id')
      .innerJoin('entries as e', 'e.id', 'a.entry_id')
      .innerJoin('round_entries as re', (j) => j.onRef('re.round_id', '=', 'a.round_id').onRef('re.entry_id', '=', 'a.entry_id'))
      .innerJoin('schools as s', 's.id', 'e.school_id')
      .leftJoin('counties as c', 'c.id', 'e.county_id')
      .leftJoin('songs as g', 'g.id', 'e.song_id')
      .leftJoin('videos as v', 'v.id', 'e.video_id')
      .leftJoin('performance_forms as f', 'f.code', 'e.form')
      .leftJoin('levels as l', 'l.code', 'e.level')
      .select([
        'a.id',
        'a.round_id',
        'a.status',
        'a.scores',
        'a.comment',
        'a.reopened_at',
        'a.entry_id',
        'r.name as round_name',
        'r.blind',
        'r.rubric',
        'r.status as round_status',
        'r.opens_at',
        'r.closes_at',
        'e.code',
        're.label',
        'e.title',
        'e.custom_song_title',
        'g.title as song_title',
        'g.designated',
        'f.label as form_label',
        'l.label as level_label',
        'v.status as video_status',
        'v.duration_s',
        's.name as school_name',
        'c.name as county_name',
      ]);
  }
  type Row = Awaited<ReturnType<ReturnType<typeof baseQuery>['executeTakeFirstOrThrow']>>;

  /** The judge's own work that is open now (or reopened after the round closed). */
  const queueQuery = (judge: CurrentUser) =>
    baseQuery(db)
      .where('a.judge_id', '=', judge.id)
      .where((eb) => eb.or([eb('r.status', '=', 'open'), eb.and([eb('r.status', '=', 'closed'), eb('a.reopened_at', 'is not', null)])]));

  /** Open for scoring: the round is open and inside its times, or this score was reopened. */
  function editable(r: Pick<Row, 'round_status' | 'opens_at' | 'closes_at' | 'reopened_at' | 'status'>): boolean {
    const t = now().getTime();
    const inWindow = r.round_status === 'open' && (!r.opens_at || new Date(r.opens_at).getTime() <= t) && (!r.closes_at || new Date(r.closes_at).getTime() > t);
    return inWindow || (r.round_status === 'closed' && r.reopened_at !== null && r.status !== 'submitted');
  }
  /** Visible to the judge: the round is open, or this score was reopened after it closed. */
  const visible = (r: Row) => r.round_status === 'open' || (r.round_status === 'closed' && r.reopened_at !== null);

  function present(r: Row): JudgeAssignment {
    const ready = r.video_status === 'ready';
    // Blind: the round's label stands in for the code and the school's own title (API fields kept).
    const shown = r.blind ? { code: r.label, title: `作品 ${r.label}` } : { code: r.code, title: r.title };
    return {
      id: r.id,
      roundId: r.round_id,
      roundName: r.round_name,
      status: r.status,
      blind: r.blind,
      rubric: r.rubric as RubricCriterion[],
      closesAt: r.closes_at ? new Date(r.closes_at).toISOString() : null,
      editable: editable(r),
      entry: {
        ...shown,
        label: r.label,
        song: { title: r.song_title ?? r.custom_song_title ?? '', designated: Boolean(r.designated) },
        form: r.form_label ?? '',
        level: r.level_label ?? '',
        durationS: r.duration_s,
        previewUrl: ready ? `/api/v1/judging/assignments/${r.id}/preview` : null,
        posterUrl: ready ? `/api/v1/judging/assignments/${r.id}/poster` : null,
        ...(!r.blind && { school: { name: r.school_name }, county: r.county_name ? { name: r.county_name } : null }),
      },
      scores: (r.scores as Record<string, number> | null) ?? null,
      comment: r.comment,
    };
  }

  async function own(judge: CurrentUser, id: string, q: Db | Transaction<DB> = db): Promise<Row> {
    const r = await baseQuery(q).where('a.id', '=', id).where('a.judge_id', '=', judge.id).executeTakeFirst();
    if (!r || !visible(r)) throw notFound(ASSIGNMENT_NOT_FOUND);
    return r;
  }

  /**
   * For changes (score, conflict): the judge's own assignment. One of a closed round answers 409
   * `round_closed` (API: "round closed → 409 round_closed") — the judge knows it, so nothing is
   * disclosed; anyone else's, or one of a round not open yet, stays 404.
   */
  async function ownForChange(judge: CurrentUser, id: string, q: Db | Transaction<DB>): Promise<Row> {
    const r = await baseQuery(q).where('a.id', '=', id).where('a.judge_id', '=', judge.id).executeTakeFirst();
    if (r && !visible(r) && r.round_status === 'closed') throw roundClosed();
    if (!r || !visible(r)) throw notFound(ASSIGNMENT_NOT_FOUND);
    return r;
  }

  return {
    /** The judge's queue: pending and drafts first, then submitted; only open (or reopened) work. */
    async list(judge: CurrentUser, page: PageQuery = { page: 1, pageSize: 2000 }): Promise<JudgeAssignment[]> {
      assertArea(judge, 'judging');
      const rows = await queueQuery(judge)
        .orderBy((eb) => eb.case().when('a.status', '=', 'submitted').then(1).else(0).end())
        .orderBy('r.created_at')
        .orderBy(sql`case when r.blind then re.label else e.code end`)
        .limit(page.pageSize)
        .offset((page.page - 1) * page.pageSize)
        .execute();
      return rows.map(present);
    },

    /** One page of the queue with the whole queue's counts and the reminder (for the judge's page). */
    async queue(judge: CurrentUser, page: PageQuery) {
      assertArea(judge, 'judging');
      const light = await db
        .selectFrom('assignments as a')
        .innerJoin('rounds as r', 'r.id', 'a.round_id')
        .select(['a.status', 'a.reopened_at', 'r.status as round_status', 'r.opens_at', 'r.closes_at'])
        .where('a.judge_id', '=', judge.id)
        .where((eb) => eb.or([eb('r.status', '=', 'open'), eb.and([eb('r.status', '=', 'closed'), eb('a.reopened_at', 'is not', null)])]))
        .execute();
      const pending = light.filter((r) => r.status !== 'submitted' && editable(r));
      const closesAt = pending.map((r) => (r.closes_at ? new Date(r.closes_at).toISOString() : null)).filter((c): c is string => Boolean(c)).sort()[0] ?? null;
      return {
        items: await this.list(judge, page),
        total: light.length,
        page: page.page,
        pageSize: page.pageSize,
        submitted: light.filter((r) => r.status === 'submitted').length,
        reminder: pending.length ? { pending: pending.length, closesAt } : null,
      };
    },

    async get(judge: CurrentUser, id: string): Promise<JudgeAssignment> {
      assertArea(judge, 'judging');
      return present(await own(judge, id));
    },

    /** The stored preview/poster key of an assignment's entry (for blind media serving). */
    async mediaKey(judge: CurrentUser, id: string, kind: 'preview' | 'poster'): Promise<{ key: string; name: string; blind: boolean }> {
      assertArea(judge, 'judging');
      const r = await own(judge, id);
      const video = await db.selectFrom('videos as v').innerJoin('entries as e', 'e.video_id', 'v.id').select(['v.preview_key', 'v.poster_key', 'v.status']).where('e.id', '=', r.entry_id).executeTakeFirst();
      const key = video?.status === 'ready' ? (kind === 'preview' ? video.preview_key : video.poster_key) : null;
      if (!key) throw notFound('视频还没有准备好。');
      return { key, name: r.blind ? r.label : r.code, blind: r.blind };
    },

    /** Save a draft, or submit (every criterion scored). Out of range → 400; closed → 409 round_closed. */
    async save(judge: CurrentUser, id: string, body: unknown): Promise<JudgeAssignment> {
      assertArea(judge, 'judging');
      const input = parse(scoreSaveInput, body);
      const comment = input.comment;
      await db.transaction().execute(async (trx) => {
        // Lock first, then read: two concurrent submits (two web processes) must not both see
        // 'draft' and both write a score.submit audit row; the second one now reads 'submitted'.
        await trx.selectFrom('assignments').select('id').where('id', '=', id).forUpdate().execute();
        const r = await ownForChange(judge, id, trx);
        if (!editable(r)) throw roundClosed();
        const rubric = r.rubric as RubricCriterion[];
        const submit = input.submit || r.status === 'submitted';
        const { scores } = parse(scoresOf(rubric, submit), { scores: input.scores ?? r.scores ?? {} });
        const total = rubric.every((c) => c.key in scores) ? rubric.reduce((a, c) => a + scores[c.key], 0) : null;
        const status: AssignmentStatus = submit ? 'submitted' : 'draft';
        await trx
          .updateTable('assignments')
          .set({ scores: JSON.stringify(scores), comment, total, status, submitted_at: submit ? now() : null, updated_at: now(), ...(submit && r.reopened_at && { reopened_at: null }) })
          .where('id', '=', id)
          .execute();
        if (submit && r.status !== 'submitted') {
          await recordAudit(trx, { actor: judge, action: 'score.submit', objectType: 'assignment', objectId: id, from: r.status, to: 'submitted' });
        }
      });
      return present(await baseQuery(db).where('a.id', '=', id).executeTakeFirstOrThrow());
    },

    /** A declared conflict: recorded, the assignment removed, the entry given to another judge. */
    async declareConflict(judge: CurrentUser, id: string, body: unknown): Promise<{ reassignedTo: string | null }> {
      assertArea(judge, 'judging');
      const { reason } = parse(conflictInput, body);
      return db.transaction().execute(async (trx) => {
        const r = await ownForChange(judge, id, trx);
        if (!editable(r)) throw roundClosed();
        await trx.insertInto('judge_conflicts').values({ round_id: r.round_id, entry_id: r.entry_id, judge_id: judge.id, reason }).onConflict((oc) => oc.doNothing()).execute();
        await trx.deleteFrom('assignments').where('id', '=', id).execute();
        const [current, judges, entries, conflicts] = await Promise.all([
          trx.selectFrom('assignments').select(['judge_id', 'entry_id']).where('round_id', '=', r.round_id).execute(),
          trx.selectFrom('round_judges as rj').innerJoin('users as u', 'u.id', 'rj.judge_id').leftJoin('schools as s', 's.id', 'u.school_id').select(['u.id', 'u.school_id', 'u.county_id', 's.county_id as school_county_id']).where('rj.round_id', '=', r.round_id).execute(),
          trx.selectFrom('entries').select(['id', 'code', 'school_id', 'county_id']).where('id', '=', r.entry_id).execute(),
          trx.selectFrom('judge_conflicts').select(['judge_id', 'entry_id']).where('round_id', '=', r.round_id).execute(),
        ]);
        const pick = reassignAfterConflict(
          current.map((a) => ({ judgeId: a.judge_id, entryId: a.entry_id })),
          { judgeId: judge.id, entryId: r.entry_id },
          judges.map((j) => ({ id: j.id, schoolId: j.school_id, countyId: j.county_id ?? j.school_county_id })),
          entries.map((e) => ({ id: e.id, code: e.code, schoolId: e.school_id, countyId: e.county_id })),
          conflicts.map((c) => ({ judgeId: c.judge_id, entryId: c.entry_id })),
        );
        const reassignedTo = pick.ok ? pick.judgeId : null;
        if (reassignedTo) await trx.insertInto('assignments').values({ round_id: r.round_id, entry_id: r.entry_id, judge_id: reassignedTo }).execute();
        await recordAudit(trx, {
          actor: judge,
          action: 'assignment.conflict',
          objectType: 'round',
          objectId: r.round_id,
          reason,
          detail: { entryId: r.entry_id, reassignedTo, ...(pick.ok ? {} : { problem: pick.reason }) },
        });
        return { reassignedTo };
      });
    },

    /** Admin: reopen one submitted score (after the round closed too), with a reason; audited. */
    async reopen(actor: CurrentUser, id: string, body: unknown): Promise<{ id: string; status: AssignmentStatus }> {
      assertArea(actor, 'rounds');
      const { reason } = parse(reopenInput, body);
      await db.transaction().execute(async (trx) => {
        const a = await trx.selectFrom('assignments').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
        if (!a) throw notFound('评分不存在。');
        if (a.status !== 'submitted') throw validationFailed([{ field: 'id', message: '只有已提交的评分需要重新开放' }]);
        await trx.updateTable('assignments').set({ status: 'draft', reopened_at: now(), updated_at: now() }).where('id', '=', id).execute();
        await recordAudit(trx, { actor, action: 'score.reopen', objectType: 'assignment', objectId: id, from: 'submitted', to: 'draft', reason, detail: { roundId: a.round_id, entryId: a.entry_id, judgeId: a.judge_id } });
      });
      return { id, status: 'draft' };
    },

  };
}

export type ScoringService = ReturnType<typeof createScoringService>;
