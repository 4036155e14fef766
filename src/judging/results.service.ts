import type { Writable } from 'node:stream';
import ExcelJS from 'exceljs';
import type { CurrentUser } from '../accounts/account.types';
import { assertArea } from '../accounts/policy';
import { recordAudit } from '../platform/audit';
import type { Db } from '../platform/db/database';
import { invalidState, notFound, validationFailed } from '../platform/errors';
import { rankRound } from './aggregation';
import * as repo from './results.repository';
import { AWARDED_TITLE, AWARD_LABELS, ROUND_NOT_FOUND } from './judging.messages';
import { notify } from '../notifications/notify';
import type { AwardTier } from './judging.schema';
import { parse } from '../platform/validate';
import { shortlistInput, tiersInput, TIERS } from './judging.contract';
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

  return {
    async ranking(actor: CurrentUser, id: string) {
      assertArea(actor, 'rounds');
      return ranking(id);
    },

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
      const { rows } = await ranking(id);
      return planAwards(rows, tiers);
    },

    async awards(actor: CurrentUser, id: string, body: unknown): Promise<{ awarded: Array<{ entryId: string; award: AwardTier }> }> {
      assertArea(actor, 'rounds');
      const round = await loadRound(id);
      if (round.status !== 'closed') throw invalidState('请先结束本轮评审，再评定奖项。');
      const { tiers } = parse(tiersInput, body);
      const { rows } = await ranking(id);
      const plan = planAwards(rows, tiers);
      if (plan.boundaryTies.length) {
        throw invalidState(`第 ${plan.boundaryTies.join('、')} 名有并列，奖项分界处需要人工决定，请调整各奖项数量。`);
      }
      await db.transaction().execute(async (trx) => {
        await repo.clearAwards(trx, id);
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
      });
      return { awarded: plan.awarded };
    },

    /** 公示: make (or withdraw) the round's awards list public. */
    async publish(actor: CurrentUser, id: string, publish: boolean) {
      assertArea(actor, 'rounds');
      const round = await loadRound(id);
      if (publish && !round.awards_confirmed_at) throw invalidState('请先评定奖项，再公示。');
      await db.transaction().execute(async (trx) => {
        await repo.updateRound(trx, id, { published_at: publish ? now() : null, updated_at: now() });
        await recordAudit(trx, { actor, action: publish ? 'round.publish' : 'round.unpublish', objectType: 'round', objectId: id });
        if (!publish) return;
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

    /** The public list (no login): awarded entries of published rounds, without scores. */
    /** The 公示 of one campaign (the request's). */
    async publicResults(campaignId: string) {
      const [rounds, awarded] = await Promise.all([repo.publishedRounds(db, campaignId), repo.publishedAwards(db, campaignId)]);
      return Promise.all(
        rounds.map(async (r) => {
          const rows = awarded.filter((x) => x.round_id === r.id);
          const tiers = TIERS.map((t) => ({
            award: t,
            label: AWARD_LABELS[t],
            entries: rows
              .filter((x) => x.award === t)
              .sort((a, b) => a.code.localeCompare(b.code))
              .map((x) => {
                // Title, school and county only with the guardians' 'public' scope; otherwise the code,
                // song and form keep the list complete and let the school recognise its own award.
                const shown = x.scope_public === true && x.consent_withdrawn_at === null;
                return {
                  code: x.code,
                  title: shown ? x.title : null,
                  song: x.song_title ?? x.custom_song_title ?? '',
                  form: x.form_label ?? '',
                  school: shown ? x.school_name : null,
                  county: shown ? (x.county_name ?? '市直') : null,
                  consented: shown,
                };
              }),
          })).filter((t) => t.entries.length);
          return { id: r.id, name: r.name, publishedAt: new Date(r.published_at!).toISOString(), tiers };
        }),
      );
    },

    /** XLSX: the ranking, or the full score sheet (entries × judges × criteria). Streamed. */
    async exportXlsx(actor: CurrentUser, id: string, kind: 'ranking' | 'scores', out: Writable): Promise<void> {
      assertArea(actor, 'rounds');
      const round = await loadRound(id);
      const { rows, rubric } = await ranking(id);
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
              comment: d.comment ?? '',
            })
            .commit();
        }
      }
      await workbook.commit();
    },
  };
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
