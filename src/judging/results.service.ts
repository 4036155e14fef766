import type { Writable } from 'node:stream';
import ExcelJS from 'exceljs';
import type { CurrentUser } from '../accounts/account.types';
import { assertArea } from '../accounts/policy';
import { recordAudit } from '../platform/audit';
import type { Db } from '../platform/db/database';
import { invalidState, notFound, validationFailed } from '../platform/errors';

/** The usual 公示期 when the city gives none: seven days from publishing. */
export const DEFAULT_PUBLICITY_DAYS = 7;
const REVISION_REASON_NEEDED = '结果已公示，再次改动将作为一次修订列入公示页的修订记录，请填写修订原因。';
import { DEFAULT_SPREAD_FLAG, rankRound } from './aggregation';
import { judgeProgress } from './round.repository';
import * as repo from './results.repository';
import { AWARDED_TITLE, AWARD_LABELS, ROUND_NOT_FOUND } from './judging.messages';
import { AUDIT_ACTION_LABELS, AUDIT_OBJECT_LABELS } from '../review/review.messages';
import { notify } from '../notifications/notify';
import type { AwardTier } from './judging.schema';
import { parse } from '../platform/validate';
import { awardsInput, publishInput, shortlistInput, TIERS } from './judging.contract';
import { canonicalJson, sha256Hex, type ResultsSnapshot } from './snapshot';
import type { Transaction } from 'kysely';
import type { DB } from '../platform/db/schema';
import type { AggregationMethod, RankedEntry, RubricCriterion } from './judging.types';

export interface RankingRow extends RankedEntry {
  /** The round's blind label (what judges of a blind round saw). */
  label: string;
  title: string;
  songId: string | null;
  songTitle: string;
  form: string;
  level: string;
  schoolName: string;
  countyName: string | null;
  shortlisted: boolean;
  award: AwardTier | null;
}

/**
 * Ranking (from submitted scores only), shortlists and awards of a round, the public results
 * list (公示, no scores) and the XLSX exports. City staff only, except the public list.
 */
export function createResultsService(db: Db, deps: { now?: () => Date } = {}) {
  const now = deps.now ?? (() => new Date());

  async function loadRound(id: string) {
    const r = await repo.findRound(db, id);
    if (!r) throw notFound(ROUND_NOT_FOUND);
    return r;
  }

  /**
   * The ranking of a round, kept until anything it shows changes: the submitted scores (count,
   * update times, totals), the entries' shown fields, method and rubric. The fingerprint is one
   * statement (aggregates, one row), so every process (several web processes share the database)
   * checks it on each call and a changed or reopened score, a shortlist or a rename is never served
   * stale. A few rounds at most (LRU).
   */
  type Ranked = { rows: RankingRow[]; judges: ReturnType<typeof rankRound>['judges'] };
  const rankCache = new Map<string, { fingerprint: string; ranked: Ranked }>();
  const RANK_CACHE_ROUNDS = 8;

  async function rankInputFingerprint(round: { id: string; aggregation: string; rubric: unknown }): Promise<string> {
    const f = await repo.rankingFingerprint(db, round.id);
    return JSON.stringify([round.aggregation, round.rubric, f.submitted, f.stamp, f.entries, f.entriesHash]);
  }

  async function ranking(id: string): Promise<{ rows: RankingRow[]; judges: ReturnType<typeof rankRound>['judges']; rubric: RubricCriterion[] }> {
    const round = await loadRound(id);
    const rubric = round.rubric as RubricCriterion[];
    const fingerprint = await rankInputFingerprint(round);
    const hit = rankCache.get(id);
    if (hit?.fingerprint === fingerprint) return { rows: hit.ranked.rows.slice(), judges: hit.ranked.judges, rubric };
    const ranked = await rankNow(round, rubric);
    // Only cache what is still current: something changed while we read would be in `ranked` but not
    // in the key, and a later state could bring the key back (a shortlist undone) — so check again.
    if ((await rankInputFingerprint(round)) === fingerprint) {
      rankCache.delete(id);
      rankCache.set(id, { fingerprint, ranked });
      if (rankCache.size > RANK_CACHE_ROUNDS) rankCache.delete(rankCache.keys().next().value!);
    }
    return { rows: ranked.rows.slice(), judges: ranked.judges, rubric };
  }

  async function rankNow(round: { id: string; aggregation: AggregationMethod }, rubric: RubricCriterion[]): Promise<Ranked> {
    const [entries, scores] = await Promise.all([repo.rankingEntries(db, round.id), repo.submittedScores(db, round.id)]);
    const result = rankRound({
      method: round.aggregation,
      criteria: rubric.map((c) => ({ key: c.key, max: c.max })),
      scores,
      entries: entries.map((e) => ({ id: e.id, code: e.code })),
    });
    const byId = new Map(entries.map((e) => [e.id, e]));
    // An explicit literal, not `{ ...r, … }`: a spread into this many properties makes V8 build
    // dictionary-mode objects, ~40 µs each — 0.4 s of a 10,000-entry ranking went there.
    const rows = result.ranking.map((r): RankingRow => {
      const e = byId.get(r.entryId)!;
      return {
        entryId: r.entryId,
        code: r.code,
        rank: r.rank,
        score: r.score,
        scoreDisplay: r.scoreDisplay,
        rawMean: r.rawMean,
        scoreCount: r.scoreCount,
        spread: r.spread,
        tied: r.tied,
        flags: r.flags,
        label: e.label,
        title: e.title,
        songId: e.song_id,
        songTitle: e.song_title ?? e.custom_song_title ?? '',
        form: e.form,
        level: e.level,
        schoolName: e.school_name,
        countyName: e.county_name,
        shortlisted: e.shortlisted,
        award: e.award,
      };
    });
    return { rows, judges: result.judges };
  }

  /** Whether confirming these tiers would give exactly the awards the round has now. */
  async function sameAwardsAsPlanned(id: string, tiers: Array<{ award: AwardTier; count: number }>): Promise<boolean> {
    const { rows } = await ranking(id);
    const plan = planAwards(rows, tiers);
    const now = rows.filter((r) => r.award !== null);
    if (now.length !== plan.awarded.length) return false;
    const byId = new Map(rows.map((r) => [r.entryId, r.award]));
    return plan.awarded.every((a) => byId.get(a.entryId) === a.award);
  }

  /** The canonical results of a round as they stand in `trx`: awards (as the 公示 shows them) and the ranking. */
  async function snapshotOf(trx: Transaction<DB>, round: { id: string; name: string }, rows: RankingRow[]): Promise<{ text: string; sha256: string }> {
    const awards = await repo.roundAwards(trx, round.id);
    const snap: ResultsSnapshot = {
      format: 1,
      round: { id: round.id, name: round.name },
      awards: awards
        .map((x) => ({
          award: x.award!,
          code: x.code,
          title: x.title,
          song: x.song_title ?? x.custom_song_title ?? '',
          form: x.form_label ?? '',
          school: x.school_name,
          county: x.county_name ?? '市直',
        }))
        .sort((a, b) => TIERS.indexOf(a.award as AwardTier) - TIERS.indexOf(b.award as AwardTier) || (a.code < b.code ? -1 : a.code > b.code ? 1 : 0)),
      ranking: rows.filter((r) => r.scoreDisplay !== null).map((r) => ({ code: r.code, rank: r.rank, score: r.scoreDisplay! })),
    };
    const text = canonicalJson(snap);
    return { text, sha256: sha256Hex(text) };
  }

  /**
   * Freezes the round's results: the first 公示 is revision 0; results that differ from the last
   * frozen ones become the next numbered revision, which needs a reason; unchanged results add none.
   * `rows` is the round's ranking, read before the transaction (scores of a closed round do not
   * move; everything else is read in `trx` — one connection on PGlite, so nothing outside it).
   */
  async function freeze(trx: Transaction<DB>, actor: CurrentUser, round: { id: string; name: string }, reason: string | null, rows: RankingRow[]) {
    const latest = await repo.latestRevision(trx, round.id);
    const snap = await snapshotOf(trx, round, rows);
    if (latest && latest.snapshot_sha256 === snap.sha256) return { revision: latest.revision, sha256: latest.snapshot_sha256, created: false };
    if (latest && !reason) throw validationFailed([{ field: 'revisionReason', message: REVISION_REASON_NEEDED }]);
    const revision = latest ? latest.revision + 1 : 0;
    await repo.insertRevision(trx, {
      round_id: round.id,
      revision,
      reason: latest ? reason : null,
      snapshot: snap.text,
      snapshot_sha256: snap.sha256,
      actor_id: actor.id,
      created_at: now(),
    });
    await recordAudit(trx, {
      actor,
      action: revision === 0 ? 'round.results_frozen' : 'round.results_revised',
      objectType: 'round',
      objectId: round.id,
      reason: latest ? reason : null,
      detail: { revision, sha256: snap.sha256 },
    });
    return { revision, sha256: snap.sha256, created: true };
  }

  return {
    async ranking(actor: CurrentUser, id: string) {
      assertArea(actor, 'roundsRead');
      return ranking(id);
    },

    /** The ranking for another service of this component that has made its own access check (reports). */
    rankingChecked: (id: string) => ranking(id),

    /**
     * Shortlist: the top N overall, or the top N of each song / level / form, or the given entries.
     * Shortlisted entries become `shortlisted`; the rest of the round `not_selected`.
     */
    async shortlist(actor: CurrentUser, id: string, body: unknown): Promise<{ shortlisted: string[] }> {
      assertArea(actor, 'rounds');
      const round = await loadRound(id);
      if (round.status !== 'closed') throw invalidState('请先结束本轮评审，再确定入围名单。');
      const input = parse(shortlistInput, body);
      const { rows } = await ranking(id);
      let chosen: string[];
      if (input.entryIds) {
        const wanted = new Set(input.entryIds);
        chosen = rows.filter((r) => wanted.has(r.entryId)).map((r) => r.entryId);
      } else {
        const top = input.top!;
        const per = input.per ?? null;
        const groupOf = (r: RankingRow) =>
          per === 'song' ? (r.songId ?? `custom:${r.songTitle}`) : per === 'level' ? r.level : per === 'form' ? r.form : 'all';
        // Ties at the cut-off go in together: compare with the rank of each group's last place.
        // (Computed once per group: filtering the whole ranking again for every row was O(n²),
        // seconds for a 10,000-entry round.)
        const scoredByGroup = new Map<string, RankingRow[]>();
        for (const r of rows) {
          if (r.score === null) continue;
          const g = groupOf(r);
          const list = scoredByGroup.get(g);
          if (list) list.push(r);
          else scoredByGroup.set(g, [r]);
        }
        const lastRankOf = new Map([...scoredByGroup].map(([g, list]) => [g, list[top - 1]?.rank ?? Infinity]));
        const taken = new Map<string, number>();
        chosen = [];
        for (const r of rows) {
          if (r.score === null) continue;
          const g = groupOf(r);
          const n = taken.get(g) ?? 0;
          if (n < top || r.rank <= lastRankOf.get(g)!) {
            chosen.push(r.entryId);
            taken.set(g, n + 1);
          }
        }
      }
      if (!chosen.length) throw validationFailed([{ field: 'top', message: '没有可入围的作品（是否还没有提交的评分？）' }]);
      await db.transaction().execute(async (trx) => {
        const chosenSet = new Set(chosen);
        const rest = rows.map((r) => r.entryId).filter((e) => !chosenSet.has(e));
        await repo.writeShortlist(trx, id, chosen, rest, now());
        await recordAudit(trx, {
          actor,
          action: 'round.shortlist',
          objectType: 'round',
          objectId: id,
          detail: { count: chosen.length, per: input.per ?? null, top: input.top ?? null },
        });
      });
      return { shortlisted: chosen };
    },

    /**
     * Awards by tier counts down the ranking (一等奖 first). The call is the admin's confirmation:
     * the page shows the preview (`previewAwards`) before it. Ties at a tier boundary are refused
     * until a person settles them (they would otherwise be decided by list order).
     */
    previewAwards: async (actor: CurrentUser, id: string, tiers: Array<{ award: AwardTier; count: number }>) => {
      assertArea(actor, 'rounds');
      const { rows, judges } = await ranking(id);
      const names = new Map((await judgeProgress(db, id)).map((j) => [j.judgeId, j.name]));
      return { ...planAwards(rows, tiers), fairness: fairnessFlags(rows, judges, names) };
    },

    async awards(
      actor: CurrentUser,
      id: string,
      body: unknown,
    ): Promise<{ awarded: Array<{ entryId: string; award: AwardTier }>; revoked: string[]; revision: number | null }> {
      assertArea(actor, 'rounds');
      const round = await loadRound(id);
      if (round.status !== 'closed') throw invalidState('请先结束本轮评审，再评定奖项。');
      const { tiers, revisionReason } = parse(awardsInput, body);
      if (round.published_at && !revisionReason) {
        // Only a change needs a reason: the same awards again are no revision.
        const same = await sameAwardsAsPlanned(id, tiers);
        if (!same) throw validationFailed([{ field: 'revisionReason', message: REVISION_REASON_NEEDED }]);
      }
      const { rows } = await ranking(id);
      const plan = planAwards(rows, tiers);
      if (plan.boundaryTies.length) {
        throw invalidState(`第 ${plan.boundaryTies.join('、')} 名有并列，奖项分界处需要人工决定，请调整各奖项数量。`);
      }
      let revision: number | null = null;
      const revoked: string[] = [];
      await db.transaction().execute(async (trx) => {
        const before = await repo.currentAwards(trx, id);
        await repo.clearAwards(trx, id);
        const kept = new Map(plan.awarded.map((a) => [a.entryId, a.award]));
        // An entry no longer awarded (or awarded a different tier) loses what this round gave it.
        for (const b of before) {
          if (kept.get(b.entry_id) === b.award) continue;
          // Its certificates of this round say so on /verify (已撤销 with the reason); a new tier gets a new number on re-issue.
          await repo.revokeCertificatesOfEntry(trx, id, b.entry_id, `奖项已修订：${revisionReason ?? '重新评定奖项'}`, now());
          if (!kept.has(b.entry_id) && (await repo.revokeAward(trx, b.entry_id, b.award!, b.shortlisted, now()))) {
            revoked.push(b.entry_id);
            await recordAudit(trx, {
              actor,
              action: 'entry.award_revoked',
              objectType: 'entry',
              objectId: b.entry_id,
              from: 'awarded',
              to: b.shortlisted ? 'shortlisted' : 'not_selected',
              reason: revisionReason,
              detail: { award: b.award, roundId: id },
            });
          }
        }
        for (const a of plan.awarded) {
          await repo.writeAward(trx, id, a.entryId, a.award, now());
          await recordAudit(trx, {
            actor,
            action: 'entry.award',
            objectType: 'entry',
            objectId: a.entryId,
            to: 'awarded',
            detail: { award: a.award, roundId: id },
          });
        }
        await repo.updateRound(trx, id, { awards_confirmed_at: now(), updated_at: now() });
        // Published: the public list follows only through a numbered revision with its reason.
        if (round.published_at) revision = (await freeze(trx, actor, round, revisionReason, rows)).revision;
      });
      return { awarded: plan.awarded, revoked, revision };
    },

    /**
     * 公示: make the round's awards list public with its 公示期 and objection contact, freezing the
     * results (revision 0, or a numbered revision when they changed since), or withdraw it.
     */
    async publish(actor: CurrentUser, id: string, body: unknown) {
      assertArea(actor, 'rounds');
      const input = parse(publishInput, body);
      const round = await loadRound(id);
      if (!input.publish) {
        await db.transaction().execute(async (trx) => {
          await repo.updateRound(trx, id, { published_at: null, updated_at: now() });
          await recordAudit(trx, { actor, action: 'round.unpublish', objectType: 'round', objectId: id });
        });
        return;
      }
      if (!round.awards_confirmed_at) throw invalidState('请先评定奖项，再公示。');
      const from = input.publicityFrom ?? (round.publicity_from && round.published_at ? new Date(round.publicity_from) : now());
      const to =
        input.publicityTo ??
        (round.publicity_to && round.published_at ? new Date(round.publicity_to) : new Date(from.getTime() + DEFAULT_PUBLICITY_DAYS * 86400_000));
      if (to.getTime() <= from.getTime()) throw validationFailed([{ field: 'publicityTo', message: '公示结束时间应晚于开始时间' }]);
      const { rows } = await ranking(id);
      await db.transaction().execute(async (trx) => {
        await repo.updateRound(trx, id, {
          published_at: round.published_at ?? now(),
          publicity_from: from,
          publicity_to: to,
          objection_contact: input.objectionContact ?? round.objection_contact,
          ...(input.feedbackEnabled !== null && { feedback_enabled: input.feedbackEnabled }),
          updated_at: now(),
        });
        const frozen = await freeze(trx, actor, round, input.revisionReason, rows);
        await recordAudit(trx, {
          actor,
          action: 'round.publish',
          objectType: 'round',
          objectId: id,
          detail: { publicityFrom: from.toISOString(), publicityTo: to.toISOString(), revision: frozen.revision, sha256: frozen.sha256 },
        });
        if (!round.published_at) {
          await notify(trx, {
            kind: 'round.published',
            recipients: { roles: ['supervisor'] },
            title: `「${round.name}」获奖名单已公示`,
            link: `/supervision/rounds/${id}`,
            dedupeKey: `round.published:${id}:${frozen.revision}`,
          });
        }
        // Each school learns its award when the list is public (once per entry and tier, however often it is republished).
        for (const e of await repo.awardedEntriesOf(trx, id)) {
          const tier = AWARD_LABELS[e.award as AwardTier];
          await notify(trx, {
            kind: 'entry.awarded',
            recipients: { schoolId: e.school_id },
            title: AWARDED_TITLE(e.title, tier),
            body: `「${round.name}」获奖名单已公示。`,
            link: `/entries/${e.id}`,
            entryId: e.id,
            dedupeKey: `entry.awarded:${id}:${e.id}:${e.award}`,
          });
        }
      });
    },

    /**
     * The public list (no login): the frozen awards of each published round (its newest revision),
     * without scores, with the snapshot's SHA-256, the 修订记录, the 公示期, the objection contact
     * and how many objections came in (a count, nothing of them). A round published before results
     * were frozen shows its live awards and no hash.
     */
    async publicResults(campaignId: string) {
      const rounds = await repo.publishedRounds(db, campaignId);
      const ids = rounds.map((r) => r.id);
      const [snapshots, revisions, counts, publicCodes] = await Promise.all([
        repo.latestSnapshots(db, ids),
        repo.revisionsOf(db, ids),
        repo.objectionCounts(db, ids),
        repo.publicScopeCodes(db, ids),
      ]);
      const snapshotOf = new Map(snapshots.map((x) => [x.round_id, x]));
      const live = rounds.some((r) => !snapshotOf.has(r.id)) ? await repo.publishedAwards(db, campaignId) : [];
      const t = now().getTime();
      return rounds.map((r) => {
        const frozen = snapshotOf.get(r.id);
        const awards = frozen
          ? (JSON.parse(frozen.snapshot) as ResultsSnapshot).awards
          : live
              .filter((x) => x.round_id === r.id)
              .map((x) => ({
                award: x.award!,
                code: x.code,
                title: x.title,
                song: x.song_title ?? x.custom_song_title ?? '',
                form: x.form_label ?? '',
                school: x.school_name,
                county: x.county_name ?? '市直',
              }));
        const tiers = TIERS.map((tier) => ({
          award: tier,
          label: AWARD_LABELS[tier],
          entries: awards
            .filter((x) => x.award === tier)
            .sort((a, b) => a.code.localeCompare(b.code))
            .map(({ code, title, song, form, school, county }) => {
              // Title, school and county only with the guardians' standing 'public' scope (read now, so a
              // withdrawal after publishing takes effect); otherwise code, song and form keep the list complete.
              const shown = publicCodes.has(code);
              return { code, title: shown ? title : null, song, form, school: shown ? school : null, county: shown ? county : null, consented: shown };
            }),
        })).filter((x) => x.entries.length);
        const from = r.publicity_from ? new Date(r.publicity_from) : null;
        const to = r.publicity_to ? new Date(r.publicity_to) : null;
        return {
          id: r.id,
          name: r.name,
          publishedAt: new Date(r.published_at!).toISOString(),
          tiers,
          snapshotSha256: frozen?.snapshot_sha256 ?? null,
          revision: frozen?.revision ?? null,
          revisions: revisions
            .filter((x) => x.round_id === r.id)
            .map((x) => ({ revision: x.revision, reason: x.reason, snapshotSha256: x.snapshot_sha256, createdAt: new Date(x.created_at).toISOString() })),
          publicity: {
            from: from?.toISOString() ?? null,
            to: to?.toISOString() ?? null,
            contact: r.objection_contact,
            /** Objections are taken now (inside the 公示期). */
            open: from !== null && to !== null && from.getTime() <= t && t <= to.getTime(),
          },
          objectionCount: counts.get(r.id) ?? 0,
        };
      });
    },

    /** The audit trail of a round (city and 监督), newest first, 50 a page. */
    async roundAudit(actor: CurrentUser, id: string, page: number) {
      assertArea(actor, 'roundsRead');
      await loadRound(id);
      const pageSize = 50;
      const { total, rows } = await repo.roundAudit(db, id, page, pageSize);
      return {
        items: rows.map((r) => ({
          at: new Date(r.at).toISOString(),
          actor: r.actor_name,
          action: r.action,
          actionLabel: AUDIT_ACTION_LABELS[r.action] ?? '其他操作',
          objectType: r.object_type,
          objectLabel: AUDIT_OBJECT_LABELS[r.object_type] ?? r.object_type,
          objectId: r.object_id,
          from: r.from_state,
          to: r.to_state,
          reason: r.reason,
        })),
        total,
        page,
        pageSize,
      };
    },

    /** The frozen revisions of a round, oldest first (no snapshot text). */
    async revisions(actor: CurrentUser, id: string) {
      assertArea(actor, 'roundsRead');
      return (await repo.revisionsOf(db, [id])).map((x) => ({
        revision: x.revision,
        reason: x.reason,
        snapshotSha256: x.snapshot_sha256,
        createdAt: new Date(x.created_at).toISOString(),
      }));
    },

    /** The canonical JSON of one revision (city and 监督): recompute its SHA-256 to check the 公示. */
    async snapshotText(actor: CurrentUser, id: string, revision: number): Promise<string> {
      assertArea(actor, 'roundsRead');
      const row = await repo.findRevision(db, id, revision);
      if (!row) throw notFound('该修订版本不存在。');
      return row.snapshot;
    },

    /** XLSX: the ranking, or the full score sheet (entries × judges × criteria). Streamed. */
    async exportXlsx(actor: CurrentUser, id: string, kind: 'ranking' | 'scores', out: Writable): Promise<void> {
      assertArea(actor, 'rounds');
      const round = await loadRound(id);
      const { rows, rubric, judges } = await ranking(id);
      const judgeMoments = new Map(judges.map((j) => [j.judgeId, j]));
      // Everything is read before the workbook exists (it writes bytes — and so the download's
      // headers — as soon as it is created): a fault before that is an ordinary error answer.
      const detail = kind === 'scores' ? await repo.scoreSheet(db, round.id) : [];
      const workbook = new ExcelJS.stream.xlsx.WorkbookWriter({ stream: out, useStyles: true });
      if (kind === 'ranking') {
        const sheet = workbook.addWorksheet('排名');
        sheet.columns = [
          { header: '名次', key: 'rank', width: 6 },
          { header: '编号', key: 'code', width: 12 },
          { header: '作品名称', key: 'title', width: 30 },
          { header: '歌曲', key: 'song', width: 22 },
          { header: '学校', key: 'school', width: 26 },
          { header: '县区', key: 'county', width: 10 },
          { header: '得分', key: 'score', width: 10 },
          { header: '原始平均分', key: 'raw', width: 12 },
          { header: '评分数', key: 'count', width: 8 },
          { header: '极差', key: 'spread', width: 8 },
          { header: '并列', key: 'tied', width: 6 },
          { header: '入围', key: 'short', width: 6 },
          { header: '奖项', key: 'award', width: 8 },
          { header: '匿名编号', key: 'label', width: 10 },
        ];
        for (const r of rows) {
          sheet
            .addRow({
              rank: r.rank,
              code: r.code,
              label: r.label,
              title: r.title,
              song: r.songTitle,
              school: r.schoolName,
              county: r.countyName ?? '市直',
              score: r.scoreDisplay === null ? '' : Number(r.scoreDisplay),
              raw: r.rawMean === null ? '' : Math.round(r.rawMean * 100) / 100,
              count: r.scoreCount,
              spread: r.spread ?? '',
              tied: r.tied ? '是' : '',
              short: r.shortlisted ? '是' : '',
              award: r.award ? AWARD_LABELS[r.award] : '',
            })
            .commit();
        }
      } else {
        const sheet = workbook.addWorksheet('评分明细');
        sheet.columns = [
          { header: '编号', key: 'code', width: 12 },
          { header: '作品名称', key: 'title', width: 28 },
          { header: '评委', key: 'judge', width: 14 },
          { header: '状态', key: 'status', width: 8 },
          ...rubric.map((c) => ({ header: `${c.label}（${c.max}）`, key: `c_${c.key}`, width: 12 })),
          { header: '总分', key: 'total', width: 8 },
          { header: '标准分（z）', key: 'z', width: 10 },
          { header: '评语', key: 'comment', width: 40 },
        ];
        const statusLabel = { pending: '未评', draft: '草稿', submitted: '已提交' } as const;
        for (const d of detail) {
          const scores = (d.scores ?? {}) as Record<string, number>;
          sheet
            .addRow({
              code: d.code,
              title: d.title,
              judge: d.display_name,
              status: statusLabel[d.status],
              ...Object.fromEntries(rubric.map((c) => [`c_${c.key}`, scores[c.key] ?? ''])),
              total: d.total ?? '',
              // The raw total standardised within its judge: (total − judge's mean) / judge's SD (0 when the SD is 0).
              z: zOf(judgeMoments.get(d.judge_id), d.status === 'submitted' ? d.total : null),
              comment: d.comment ?? '',
            })
            .commit();
        }
      }
      await workbook.commit();
    },
  };
}

/**
 * Fairness flags before awards (issue 18), from the ranking's own flags (aggregation.ts): entries
 * whose judges disagree strongly (highest − lowest total beyond DEFAULT_SPREAD_FLAG points), judges
 * whose mean sits far from the panel's (harsh / lenient), judges with near-constant scores (narrow).
 */
export function fairnessFlags(
  rows: RankingRow[],
  judges: ReturnType<typeof rankRound>['judges'],
  names: Map<string, string>,
): {
  spreadThreshold: number;
  panelMean: number | null;
  entries: Array<{ entryId: string; code: string; title: string; rank: number; spread: number; scoreCount: number }>;
  judges: Array<{ judgeId: string; name: string; mean: number; sd: number; count: number; flags: string[] }>;
} {
  const panelMean = judges.length ? judges.reduce((s, j) => s + j.mean, 0) / judges.length : null;
  return {
    spreadThreshold: DEFAULT_SPREAD_FLAG,
    panelMean,
    entries: rows
      .filter((r) => r.flags.includes('wide_spread'))
      .map((r) => ({ entryId: r.entryId, code: r.code, title: r.title, rank: r.rank, spread: r.spread!, scoreCount: r.scoreCount })),
    judges: judges
      .filter((j) => j.flags.length)
      .map((j) => ({ judgeId: j.judgeId, name: names.get(j.judgeId) ?? '', mean: j.mean, sd: j.sd, count: j.count, flags: j.flags })),
  };
}

/** A submitted total standardised within its judge (two decimals), or '' when there is none. */
function zOf(m: { mean: number; sd: number; count: number } | undefined, total: number | null): number | '' {
  if (!m || total === null) return '';
  if (m.count < 2 || m.sd < 1e-9) return 0;
  return Math.round(((total - m.mean) / m.sd) * 100) / 100;
}

/** Walks the ranking down, tier by tier; reports ranks tied across a tier boundary. */
export function planAwards(
  rows: Array<{ entryId: string; rank: number; score: number | null; tied: boolean }>,
  tiers: Array<{ award: AwardTier; count: number }>,
) {
  const scored = rows.filter((r) => r.score !== null);
  const awarded: Array<{ entryId: string; award: AwardTier }> = [];
  const boundaryTies: number[] = [];
  let i = 0;
  for (const t of tiers) {
    const end = Math.min(scored.length, i + t.count);
    for (; i < end; i++) awarded.push({ entryId: scored[i].entryId, award: t.award });
    if (t.count > 0 && i > 0 && i < scored.length && scored[i].rank === scored[i - 1].rank) boundaryTies.push(scored[i].rank);
  }
  return { awarded, boundaryTies };
}

export type ResultsService = ReturnType<typeof createResultsService>;
