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
