import { randomInt } from 'node:crypto';
import type { Transaction } from 'kysely';
import type { CurrentUser } from '../accounts/account.types';
import { assertArea } from '../accounts/policy';
import { recordAudit } from '../platform/audit';
import type { Db } from '../platform/db/database';
import type { DB } from '../platform/db/schema';
import { AppError, invalidState, notFound, validationFailed } from '../platform/errors';
import { parse, parsePartial } from '../platform/validate';
import { addEntriesInput, assignmentInput, judgesInput, roundInput } from './judging.contract';
import { ROUND_NOT_FOUND } from './judging.messages';
import { assignJudges } from './assignment';
import { notifyByCount } from '../notifications/notify';
import { formatDateTime } from '../platform/format';
import { ROUND_OPENED_BODY, ROUND_OPENED_TITLE } from './judging.messages';
import { judgesBehind } from './reminder.repository';
import { scheduleRoundReminder } from './reminder.job';
import * as repo from './round.repository';
import type { EntryStatus } from '../entries/entry.schema';
import type { RoundStatus } from './judging.schema';
import type { AggregationMethod, RubricCriterion } from './judging.types';

export interface RoundView {
  id: string;
  name: string;
  campaignId: string;
  periodId: string | null;
  sourceRoundId: string | null;
  judgesPerEntry: number;
  blind: boolean;
  aggregation: AggregationMethod;
  rubric: RubricCriterion[];
  status: RoundStatus;
  opensAt: string | null;
  closesAt: string | null;
  awardsConfirmedAt: string | null;
  publishedAt: string | null;
  /** 公示期 (issue 18): objections are taken from … to; whom to contact. */
  publicityFrom: string | null;
  publicityTo: string | null;
  objectionContact: string | null;
  feedbackEnabled: boolean;
  entryCount: number;
  judgeCount: number;
  assignmentCount: number;
  /** Open, and inside its open/close times: judges may score. */
  scoringOpen: boolean;
}

export const roundClosed = (detail = '本轮评审已结束，不能再修改评分。') => new AppError(409, 'round_closed', '评审已结束', detail);

/** An entry in one of these has been decided already: a new round takes it only when told to. */
const DECIDED_STATUSES: readonly EntryStatus[] = ['awarded', 'broadcast_selected', 'aired'];

/**
 * Blind labels for entries new to a round: "<letter>-<number>", the letter the round's place in
 * creation order (A…Z, then A again), the numbers continuing after the round's highest so far and
 * dealt out in a random permutation (crypto) — nothing about the label follows from the entry's
 * code, id, school or the order the entries were listed in.
 */
async function labelNewEntries(trx: Transaction<DB>, round: { id: string; created_at: Date | string }, entryIds: string[]): Promise<Map<string, string>> {
  const letter = String.fromCharCode(65 + ((await repo.roundsBefore(trx, round)) % 26));
  const existing = await repo.roundLabels(trx, round.id);
  const highest = existing.reduce((m, label) => Math.max(m, Number(/-(\d+)$/.exec(label)?.[1] ?? 0)), 0);
  const numbers = entryIds.map((_, i) => highest + i + 1);
  for (let i = numbers.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [numbers[i], numbers[j]] = [numbers[j], numbers[i]];
  }
  return new Map(entryIds.map((entryId, i) => [entryId, `${letter}-${String(numbers[i]).padStart(3, '0')}`]));
}

export function createRoundService(db: Db, deps: { now?: () => Date } = {}) {
  const now = deps.now ?? (() => new Date());

  function toView(r: repo.RoundCountsRow): RoundView {
    const iso = (d: Date | string | null) => (d ? new Date(d).toISOString() : null);
    const t = now().getTime();
    return {
      id: r.id,
      name: r.name,
      campaignId: r.campaign_id,
      periodId: r.period_id,
      sourceRoundId: r.source_round_id,
      judgesPerEntry: r.judges_per_entry,
      blind: r.blind,
      aggregation: r.aggregation,
      rubric: r.rubric as RubricCriterion[],
      status: r.status,
      opensAt: iso(r.opens_at),
      closesAt: iso(r.closes_at),
      awardsConfirmedAt: iso(r.awards_confirmed_at),
      publishedAt: iso(r.published_at),
      publicityFrom: iso(r.publicity_from),
      publicityTo: iso(r.publicity_to),
      objectionContact: r.objection_contact,
      feedbackEnabled: r.feedback_enabled,
      entryCount: Number(r.entry_count),
      judgeCount: Number(r.judge_count),
      assignmentCount: Number(r.assignment_count),
      scoringOpen: r.status === 'open' && (!r.opens_at || new Date(r.opens_at).getTime() <= t) && (!r.closes_at || new Date(r.closes_at).getTime() > t),
    };
  }

  async function view(q: Db | Transaction<DB>, id: string): Promise<RoundView> {
    const r = await repo.findRoundWithCounts(q, id);
    if (!r) throw notFound(ROUND_NOT_FOUND);
    return toView(r);
  }

  async function lockRound(trx: Transaction<DB>, id: string) {
    const r = await repo.lockRound(trx, id);
    if (!r) throw notFound(ROUND_NOT_FOUND);
    return r;
  }

  async function requireDraft(trx: Transaction<DB>, id: string, what: string) {
    const r = await lockRound(trx, id);
    if (r.status !== 'draft') throw invalidState(`评审已开始，不能再${what}。`);
    return r;
  }

  return {
    view: (id: string) => view(db, id),

    async list(actor: CurrentUser, campaignId: string): Promise<RoundView[]> {
      return (await this.listWithProgress(actor, campaignId)).map(({ submittedCount: _submitted, ...round }) => round);
    },

    /** The newest 200 rounds with how many of their assignments are submitted: one query (the /rounds page). */
    async listWithProgress(actor: CurrentUser, campaignId: string): Promise<Array<RoundView & { submittedCount: number }>> {
      assertArea(actor, 'roundsRead');
      const rows = await repo.listRoundsWithCounts(db, campaignId, 200);
      return rows.map((r) => ({ ...toView(r), submittedCount: Number(r.submitted_count) }));
    },

    /** The panel of a round and every enabled judge account one could put on it (the round page). */
    async panelChoices(actor: CurrentUser, id: string) {
      assertArea(actor, 'rounds');
      const [panel, judges] = await Promise.all([repo.panelJudgeIds(db, id), repo.judgeAccounts(db, 500)]);
      return { panel, judges };
    },

    /** The round an assignment belongs to, or null when there is no such assignment. */
    async assignmentRound(actor: CurrentUser, assignmentId: string): Promise<string | null> {
      assertArea(actor, 'rounds');
      return repo.assignmentRoundId(db, assignmentId);
    },

    async get(actor: CurrentUser, id: string): Promise<RoundView> {
      assertArea(actor, 'roundsRead');
      return view(db, id);
    },

    /** A round of `campaignId` (the request's campaign); its period must be that campaign's. */
    async create(actor: CurrentUser, campaignId: string, body: unknown): Promise<RoundView> {
      assertArea(actor, 'rounds');
      const input = parse(roundInput, body);
      const rubric = input.rubric;
      if (input.opensAt && input.closesAt && input.closesAt <= input.opensAt)
        throw validationFailed([{ field: 'closesAt', message: '截止时间必须晚于开始时间' }]);
      if (input.periodId && !(await repo.periodExists(db, input.periodId, campaignId))) {
        throw validationFailed([{ field: 'periodId', message: '报送期不存在' }]);
      }
      const id = await db.transaction().execute(async (trx) => {
        const newId = await repo.insertRound(trx, {
          campaign_id: campaignId,
          name: input.name,
          period_id: input.periodId,
          judges_per_entry: input.judgesPerEntry,
          blind: input.blind,
          aggregation: input.aggregation,
          rubric: JSON.stringify(rubric),
          opens_at: input.opensAt,
          closes_at: input.closesAt,
        });
        await recordAudit(trx, { actor, action: 'round.create', objectType: 'round', objectId: newId, detail: { name: input.name } });
        return newId;
      });
      return view(db, id);
    },

    /** Name, times, k, blind, method and rubric are editable until the round opens (times also after). */
    async update(actor: CurrentUser, id: string, body: unknown): Promise<RoundView> {
      assertArea(actor, 'rounds');
      const patch = parsePartial(roundInput, body);
      const rubricGiven = patch.rubric !== undefined;
      await db.transaction().execute(async (trx) => {
        const r = await lockRound(trx, id);
        const structural = rubricGiven || patch.judgesPerEntry !== undefined || patch.blind !== undefined || patch.aggregation !== undefined;
        if (structural && r.status !== 'draft') throw invalidState('评审已开始，评分标准、评委人数、匿名方式和计分方法不能再改。');
        await repo.updateRound(trx, id, {
          ...(patch.name !== undefined && { name: patch.name }),
          ...(patch.judgesPerEntry !== undefined && { judges_per_entry: patch.judgesPerEntry }),
          ...(patch.blind !== undefined && { blind: patch.blind }),
          ...(patch.aggregation !== undefined && { aggregation: patch.aggregation }),
          ...(patch.opensAt !== undefined && { opens_at: patch.opensAt }),
          ...(patch.closesAt !== undefined && { closes_at: patch.closesAt }),
          ...(patch.rubric !== undefined && { rubric: JSON.stringify(patch.rubric) }),
          updated_at: now(),
        });
        await recordAudit(trx, { actor, action: 'round.update', objectType: 'round', objectId: id });
        if (r.status === 'open' && patch.closesAt !== undefined) await scheduleRoundReminder(trx, id, patch.closesAt, now());
      });
      return view(db, id);
    },

    /**
     * Adds entries: the given ids (forwarded ones), or all forwarded entries of the round's period,
     * or the shortlist of an earlier round. Forwarded entries move to `in_judging`. Each new entry
     * gets the round's blind label (a random permutation, see `labelNewEntries`).
     *
     * Entries already awarded or selected for broadcast are never taken without a word: with
     * `includeAwarded` absent the call is refused (409, listing them); `true` takes them, `false`
     * leaves them out and counts them in `skipped`.
     */
    async addEntries(actor: CurrentUser, id: string, body: unknown): Promise<{ added: number; skipped?: number }> {
      assertArea(actor, 'rounds');
      const input = parse(addEntriesInput, body);
      const includeAwarded = input.includeAwarded ?? null;
      return db.transaction().execute(async (trx) => {
        const round = await requireDraft(trx, id, '添加作品');
        let from: Parameters<typeof repo.candidateEntries>[2];
        if (input.fromRoundShortlist !== undefined) {
          const source = input.fromRoundShortlist;
          if (source === id) throw validationFailed([{ field: 'fromRoundShortlist', message: '不能使用本轮自己的入围名单，请选择之前的一轮' }]);
          const found = source && source.length <= 64 ? await repo.roundExists(trx, source) : false;
          if (!found) throw validationFailed([{ field: 'fromRoundShortlist', message: '所选的上一轮评审不存在' }]);
          from = { shortlistOf: source };
          await repo.updateRound(trx, id, { source_round_id: source });
        } else if (input.entryIds) {
          const ids = input.entryIds;
          if (!ids.length) return { added: 0 };
          from = { ids, statuses: ['forwarded', 'in_judging', 'shortlisted', ...DECIDED_STATUSES] };
        } else {
          if (!round.period_id) throw validationFailed([{ field: 'entryIds', message: '本轮没有关联报送期，请指定作品或上一轮的入围名单' }]);
          from = { periodId: round.period_id };
        }
        const already = new Set(await repo.roundEntryIds(trx, id));
        const candidates = (await repo.candidateEntries(trx, round.campaign_id, from)).filter((r) => !already.has(r.id));
        const decided = candidates.filter((r) => r.award !== null || DECIDED_STATUSES.includes(r.status));
        if (decided.length && includeAwarded === null) {
          const codes = decided.map((r) => r.code).sort();
          throw invalidState(
            `其中有 ${decided.length} 件作品已获奖或已选送电视台（${codes.slice(0, 10).join('、')}${codes.length > 10 ? ' 等' : ''}），不会自动加入新一轮。` +
              '请明确选择：也加入这些作品，或不加入它们。',
          );
        }
        const rows = includeAwarded ? candidates : candidates.filter((r) => !decided.includes(r));
        const skipped = candidates.length - rows.length;
        // `skipped` only when something was left out (the API's `{ added }` stays as it was).
        if (!rows.length) return { added: 0, ...(skipped && { skipped }) };
        const labels = await labelNewEntries(
          trx,
          round,
          rows.map((r) => r.id),
        );
        await repo.insertRoundEntries(
          trx,
          id,
          rows.map((r) => ({ entryId: r.id, label: labels.get(r.id)! })),
        );
        const forwarded = rows.filter((r) => r.status === 'forwarded').map((r) => r.id);
        if (forwarded.length) {
          await repo.markInJudging(trx, forwarded, now());
          for (const entryId of forwarded) {
            await recordAudit(trx, {
              actor,
              action: 'entry.judging',
              objectType: 'entry',
              objectId: entryId,
              from: 'forwarded',
              to: 'in_judging',
              detail: { roundId: id },
            });
          }
        }
        if (decided.length) {
          await recordAudit(trx, {
            actor,
            action: 'round.entries',
            objectType: 'round',
            objectId: id,
            detail: { added: rows.length, awardedOrBroadcast: decided.length, includeAwarded },
          });
        }
        return { added: rows.length, ...(skipped && { skipped }) };
      });
    },

    /** The judge panel: judge accounts only. Replaces the panel while the round is a draft. */
    async setJudges(actor: CurrentUser, id: string, body: unknown): Promise<{ judges: Array<{ id: string; name: string }> }> {
      assertArea(actor, 'rounds');
      const { userIds } = parse(judgesInput, body);
      return db.transaction().execute(async (trx) => {
        await requireDraft(trx, id, '更换评委');
        const judges = await repo.enabledJudges(trx, userIds);
        if (judges.length !== userIds.length) throw validationFailed([{ field: 'userIds', message: '只能选择未停用的评委账号' }]);
        // Assignments of judges no longer on the panel go (none can have scores: the round is a draft).
        await repo.replacePanel(
          trx,
          id,
          judges.map((j) => j.id),
        );
        await recordAudit(trx, { actor, action: 'round.judges', objectType: 'round', objectId: id, detail: { count: judges.length } });
        return { judges: judges.map((j) => ({ id: j.id, name: j.display_name })) };
      });
    },

    /**
     * Automatic, balanced assignment: each entry k judges, loads within one, no judge on an entry
     * of their own school or county, declared conflicts honoured; existing pairs (manual edits)
     * are kept. Deterministic for the same input. Infeasible → 409 with the reasons.
     */
    async assign(actor: CurrentUser, id: string) {
      assertArea(actor, 'rounds');
      return db.transaction().execute(async (trx) => {
        const round = await requireDraft(trx, id, '重新分配');
        const [entries, judges, existing, conflicts] = await Promise.all([
          repo.roundEntryOrigins(trx, id),
          repo.panelJudgeOrigins(trx, id),
          repo.assignmentPairs(trx, id),
          repo.declaredConflicts(trx, id),
        ]);
        if (!entries.length) throw invalidState('本轮还没有作品，请先添加作品。');
        if (!judges.length) throw invalidState('本轮还没有评委，请先选择评委。');
        const result = assignJudges({
          entries: entries.map((e) => ({ id: e.id, code: e.code, schoolId: e.school_id, countyId: e.county_id })),
          judges: judges.map((j) => ({ id: j.id, schoolId: j.school_id, countyId: j.county_id ?? j.school_county_id })),
          judgesPerEntry: round.judges_per_entry,
          existing: existing.map((a) => ({ judgeId: a.judge_id, entryId: a.entry_id })),
          conflicts: conflicts.map((c) => ({ judgeId: c.judge_id, entryId: c.entry_id })),
        });
        if (!result.ok) throw new AppError(409, 'invalid_state', '无法完成分配', result.reason);
        const keep = new Set(result.assignments.map((a) => `${a.judgeId}\u0000${a.entryId}`));
        const drop = existing.filter((a) => !keep.has(`${a.judge_id}\u0000${a.entry_id}`));
        for (const d of drop) await repo.deleteAssignmentPair(trx, id, d.judge_id, d.entry_id);
        const have = new Set(existing.map((a) => `${a.judge_id}\u0000${a.entry_id}`));
        const add = result.assignments.filter((a) => !have.has(`${a.judgeId}\u0000${a.entryId}`));
        await repo.insertAssignments(trx, id, add);
        await recordAudit(trx, { actor, action: 'round.assign', objectType: 'round', objectId: id, detail: { added: add.length, removed: drop.length } });
        return {
          assignments: result.assignments,
          assignmentCount: result.assignments.length,
          loads: result.loads,
          balanced: result.balance.balanced,
          note: result.balance.note,
          warnings: result.warnings.map((w) => w.message),
        };
      });
    },

    /** Manual edit: one more judge on an entry (hard conflicts refused). */
    async addAssignment(actor: CurrentUser, id: string, body: unknown) {
      assertArea(actor, 'rounds');
      const { entryId, judgeId } = parse(assignmentInput, body);
      return db.transaction().execute(async (trx) => {
        const round = await lockRound(trx, id);
        if (round.status === 'closed') throw roundClosed('本轮评审已结束，不能再调整分配。');
        const [entry] = await repo.roundEntryOrigins(trx, id, entryId);
        const [judge] = await repo.panelJudgeOrigins(trx, id, judgeId);
        if (!entry || !judge) throw validationFailed([{ field: 'entryId', message: '作品或评委不在本轮中' }]);
        const judgeCounty = judge.county_id ?? judge.school_county_id;
        if ((judge.school_id && judge.school_id === entry.school_id) || (judgeCounty && judgeCounty === entry.county_id)) {
          throw validationFailed([{ field: 'judgeId', message: '该评委与作品同校或同县区，需要回避' }]);
        }
        if (await repo.hasDeclaredConflict(trx, id, entryId, judgeId))
          throw validationFailed([{ field: 'judgeId', message: '该评委已声明与此作品有利益冲突' }]);
        const newId = await repo.insertAssignment(trx, id, entryId, judgeId);
        await recordAudit(trx, { actor, action: 'assignment.add', objectType: 'round', objectId: id, detail: { entryId, judgeId } });
        return { id: newId };
      });
    },

    /** Manual edit: remove an assignment that has no scores yet. */
    async removeAssignment(actor: CurrentUser, assignmentId: string) {
      assertArea(actor, 'rounds');
      await db.transaction().execute(async (trx) => {
        const a = await repo.lockAssignment(trx, assignmentId);
        if (!a) throw notFound('分配不存在。');
        if (a.status !== 'pending') throw invalidState('评委已开始评分，不能删除这条分配。');
        await repo.deleteAssignment(trx, assignmentId);
        await recordAudit(trx, {
          actor,
          action: 'assignment.remove',
          objectType: 'round',
          objectId: a.round_id,
          detail: { entryId: a.entry_id, judgeId: a.judge_id },
        });
      });
    },

    async open(actor: CurrentUser, id: string): Promise<RoundView> {
      assertArea(actor, 'rounds');
      await db.transaction().execute(async (trx) => {
        const r = await lockRound(trx, id);
        if (r.status !== 'draft') throw invalidState(r.status === 'open' ? '评审已经开始了。' : '评审已结束，不能重新开始。');
        const { short, entries } = await repo.assignmentShortfall(trx, id, r.judges_per_entry);
        if (entries === 0) throw invalidState('本轮还没有作品。');
        if (short) throw invalidState(`还有 ${short} 件作品的评委不足 ${r.judges_per_entry} 位，请先完成分配。`);
        await repo.setRoundStatus(trx, id, 'open', now());
        await recordAudit(trx, { actor, action: 'round.open', objectType: 'round', objectId: id, from: 'draft', to: 'open' });
        // Every judge with assignments hears it opened (their 待评 count is on their home), and those
        // still behind are reminded before it closes.
        await notifyByCount(
          trx,
          (await judgesBehind(trx, id)).map((j) => ({ userId: j.judge_id, count: Number(j.left) })),
          (count) => ({
            kind: 'round.assigned',
            title: ROUND_OPENED_TITLE(r.name, count),
            body: ROUND_OPENED_BODY(r.closes_at ? formatDateTime(r.closes_at) : null),
            link: '/judging',
            dedupeKey: `round.opened:${id}`,
          }),
        );
        await scheduleRoundReminder(trx, id, r.closes_at, now());
      });
      return view(db, id);
    },

    /** Closing locks every score; only an admin can reopen one score afterwards. */
    async close(actor: CurrentUser, id: string): Promise<RoundView> {
      assertArea(actor, 'rounds');
      await db.transaction().execute(async (trx) => {
        const r = await lockRound(trx, id);
        if (r.status !== 'open') throw invalidState(r.status === 'closed' ? '评审已经结束了。' : '评审还没有开始。');
        await repo.setRoundStatus(trx, id, 'closed', now());
        await recordAudit(trx, { actor, action: 'round.close', objectType: 'round', objectId: id, from: 'open', to: 'closed' });
      });
      return view(db, id);
    },

    /** Per judge: assigned and submitted (for the progress page and reminders). */
    async progress(actor: CurrentUser, id: string) {
      assertArea(actor, 'roundsRead');
      await view(db, id);
      return repo.judgeProgress(db, id);
    },

    /** Assignments of a round for the admin's manual edits (not blind: city staff see everything). */
    async assignments(actor: CurrentUser, id: string) {
      assertArea(actor, 'rounds');
      return repo.roundAssignments(db, id, 5000);
    },
  };
}

export type RoundService = ReturnType<typeof createRoundService>;
