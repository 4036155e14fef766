import type { CurrentUser } from '../accounts/account.types';
import { assertArea } from '../accounts/policy';
import type { Db } from '../platform/db/database';
import { notFound } from '../platform/errors';
import * as repo from './feedback.repository';
import type { RubricCriterion } from './judging.types';

export interface EntryFeedback {
  roundId: string;
  roundName: string;
  entryId: string;
  code: string;
  title: string;
  scoreCount: number;
  /** The mean of the judges' totals, two decimals. */
  totalMean: string;
  criteria: Array<{ key: string; label: string; max: number; mean: string }>;
  /** 评委A, 评委B, … — never a judge's name. */
  comments: Array<{ judge: string; comment: string }>;
}

const judgeLabel = (i: number) => `评委${i < 26 ? String.fromCharCode(65 + i) : `${String.fromCharCode(65 + (i % 26))}${Math.floor(i / 26) + 1}`}`;
const two = (x: number) => (Math.round(x * 100 + 1e-7) / 100).toFixed(2);

/**
 * Feedback to schools (issue 18, optional per round): after the 公示 begins, a school sees for each
 * of its entries the criterion means and the judges' comments as 评委A/B/… — never a name.
 */
export function createFeedbackService(db: Db, deps: { now?: () => Date } = {}) {
  const now = deps.now ?? (() => new Date());

  async function collect(schoolId: string, entryId?: string): Promise<EntryFeedback[]> {
    const rows = await repo.schoolFeedbackRows(db, schoolId, now(), entryId);
    const out = new Map<string, { fb: EntryFeedback; sums: Map<string, number>; totals: number[] }>();
    for (const r of rows) {
      const key = `${r.round_id}\u0000${r.entry_id}`;
      let item = out.get(key);
      const rubric = r.rubric as RubricCriterion[];
      if (!item) {
        item = {
          fb: {
            roundId: r.round_id,
            roundName: r.round_name,
            entryId: r.entry_id,
            code: r.code,
            title: r.title,
            scoreCount: 0,
            totalMean: '',
            criteria: rubric.map((c) => ({ key: c.key, label: c.label, max: c.max, mean: '' })),
            comments: [],
          },
          sums: new Map(),
          totals: [],
        };
        out.set(key, item);
      }
      const scores = (r.scores ?? {}) as Record<string, number>;
      const index = item.fb.scoreCount++;
      for (const c of rubric) item.sums.set(c.key, (item.sums.get(c.key) ?? 0) + (scores[c.key] ?? 0));
      item.totals.push(r.total ?? rubric.reduce((s, c) => s + (scores[c.key] ?? 0), 0));
      const comment = (r.comment ?? '').trim();
      if (comment) item.fb.comments.push({ judge: judgeLabel(index), comment });
    }
    return [...out.values()].map(({ fb, sums, totals }) => ({
      ...fb,
      totalMean: two(totals.reduce((s, x) => s + x, 0) / totals.length),
      criteria: fb.criteria.map((c) => ({ ...c, mean: two((sums.get(c.key) ?? 0) / fb.scoreCount) })),
    }));
  }

  return {
    /** Every feedback of the school's entries (newest round first). */
    async list(actor: CurrentUser): Promise<EntryFeedback[]> {
      const user = assertArea(actor, 'feedback');
      if (!user.schoolId) return [];
      return collect(user.schoolId);
    },

    /** One entry's feedback; 404 for another school's entry or an entry without any. */
    async forEntry(actor: CurrentUser, entryId: string): Promise<EntryFeedback[]> {
      const user = assertArea(actor, 'feedback');
      const list = user.schoolId ? await collect(user.schoolId, entryId) : [];
      if (!list.length) throw notFound('该作品暂无评审反馈，或不是本校的作品。');
      return list;
    },
  };
}

export type FeedbackService = ReturnType<typeof createFeedbackService>;
