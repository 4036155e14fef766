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

/** Objections (异议) during the 公示期: the steps of their handling and the outcomes. */
export const OBJECTION_STATUS_LABELS = { submitted: '待受理', accepted: '已受理', reviewing: '复核中', concluded: '已有结论' } as const;
export const OBJECTION_OUTCOME_LABELS = { upheld: '异议成立', rejected: '异议不成立' } as const;
