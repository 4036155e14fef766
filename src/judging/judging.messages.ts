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

/** What the round's audit trail shows 监督 for each action (unknown codes are shown as they are). */
export const ROUND_AUDIT_LABELS: Record<string, string> = {
  'round.create': '创建轮次',
  'entry.judging': '作品进入评审',
  'assignment.add': '增加分配',
  'assignment.remove': '删除分配',
  'assignment.conflict': '评委声明回避',
  'round.update': '修改轮次设置',
  'round.entries': '添加作品',
  'round.judges': '设定评委',
  'round.assign': '分配评审任务',
  'round.open': '开始评审',
  'round.close': '结束评审',
  'round.shortlist': '确定入围名单',
  'round.publish': '公示',
  'round.unpublish': '撤回公示',
  'round.results_frozen': '冻结公示结果',
  'round.results_revised': '修订公示结果',
  'entry.award': '评定奖项',
  'entry.award_revoked': '撤销奖项',
  'score.reopen': '重新开放评分',
  'score.submit': '提交评分',
  'objection.submit': '收到异议',
  'objection.accept': '受理异议',
  'objection.review': '复核异议',
  'objection.conclude': '异议结论',
};

/** The kinds of object in a round's audit trail. */
export const AUDIT_OBJECT_LABELS: Record<string, string> = { round: '轮次', entry: '作品', objection: '异议', assignment: '评分任务' };
