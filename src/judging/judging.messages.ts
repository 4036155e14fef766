import type { AwardTier } from './judging.schema';
import type { AggregationMethod } from './judging.types';

/** The judging component's words: award and method labels, and sentences more than one module says. */

export const AWARD_LABELS: Record<AwardTier, string> = { first: '一等奖', second: '二等奖', third: '三等奖', excellence: '优秀奖' };

export const AGGREGATION_LABELS: Record<AggregationMethod, string> = {
  trimmed_mean: '去掉一个最高分和一个最低分后取平均',
  mean: '平均分',
  zscore: '标准分（评委评分尺度不同时使用）',
};

export const ROUND_NOT_FOUND = '评审轮次不存在。';
/** A judge's assignment that is not theirs, or whose round no longer takes scores. */
export const ASSIGNMENT_NOT_FOUND = '评审任务不存在，或本轮评审已结束。';

/** Messages to judges (消息, email). */
export const ROUND_OPENED_TITLE = (name: string, n: number) => `评审「${name}」已开始：您有 ${n} 件作品待评`;
export const ROUND_OPENED_BODY = (closes: string | null) => (closes ? `请在 ${closes} 前完成评分。` : '请尽快完成评分。');
export const REMINDER_TITLE = (name: string, left: number) => `评审「${name}」即将截止：您还有 ${left} 件未提交`;
export const REMINDER_BODY = (closes: string) => `截止时间 ${closes}，截止后评分将锁定。`;
export const AWARDED_TITLE = (title: string, tier: string) => `《${title}》获得${tier}`;

/** What each one-way step of a round does, said before it happens (dialog and confirm page). */
export const ROUND_CONFIRMATIONS = {
  open: {
    title: '确认开始评审',
    message: '开始后，评分标准、评委人数和计分方法不能再修改，评委会在「我的评审」中看到作品并开始评分。',
    confirmLabel: '确认开始',
  },
  close: {
    title: '确认结束评审',
    message: '结束后所有评分锁定，评委不能再评分或修改；未提交的评分不计入结果。个别评分需要更正时，可以在分配表中「重新开放」。',
    confirmLabel: '确认结束',
    danger: true,
  },
  awards: {
    title: '确认评定奖项',
    message: '确认后按预览名单评定奖项：获奖作品的学校会在作品页看到奖项，其余作品标为未入选。',
    confirmLabel: '确认评定',
  },
  publish: {
    title: '确认公示获奖名单',
    message: '公示后，任何人无需登录即可在公示页看到获奖名单（不含分数）。公示后可以撤回，但已看到的人无法收回。',
    confirmLabel: '确认公示',
  },
} as const;

/** Trimming needs this many scores per entry (aggregation.ts: fewer → the plain mean). */
export const TRIM_MIN_SCORES = 5;

/**
 * The method as it is applied, not only as it was chosen: with fewer than 5 scores per entry
 * nothing is trimmed, so 去掉最高分和最低分 would mislead — it says 平均分 and why.
 */
export function methodApplied(aggregation: AggregationMethod, judgesPerEntry: number): { label: string; note: string | null } {
  if (aggregation === 'mean') return { label: AGGREGATION_LABELS.mean, note: null };
  const trims = aggregation === 'trimmed_mean' ? '去掉最高分和最低分' : '标准分去掉最高和最低';
  if (judgesPerEntry < TRIM_MIN_SCORES) {
    return {
      label: aggregation === 'trimmed_mean' ? '平均分' : '标准分的平均',
      note: `每件作品 ${judgesPerEntry} 位评委，少于 ${TRIM_MIN_SCORES} 个评分时不${trims}，直接取平均（所选方法：${AGGREGATION_LABELS[aggregation]}）。`,
    };
  }
  return { label: AGGREGATION_LABELS[aggregation], note: `某件作品的评分少于 ${TRIM_MIN_SCORES} 个时（如有评委回避），该作品不${trims}，直接取平均。` };
}

/** Objections (异议) during the 公示期: the steps of their handling and the outcomes. */
export const OBJECTION_STATUS_LABELS = { submitted: '待受理', accepted: '已受理', reviewing: '复核中', concluded: '已有结论' } as const;
export const OBJECTION_OUTCOME_LABELS = { upheld: '异议成立', rejected: '异议不成立' } as const;
