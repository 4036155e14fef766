import type { CampaignStatus } from './campaign.schema';

/** The campaign component's sentences that more than one module says (review uses them too). */
export const PERIOD_NOT_FOUND = '报送期不存在。';
export const CAMPAIGN_NOT_FOUND = '活动不存在。';
export const NO_OPEN_CAMPAIGN = '当前没有正在接受报送的活动，不能新建或提交作品。';
export const NOT_OPEN_CAMPAIGN = '这件作品所属的活动已不再接受报送，不能提交。';

export const CAMPAIGN_STATUS_LABELS: Record<CampaignStatus, string> = {
  preparing: '筹备中',
  open: '报送中',
  running: '评审中',
  closed: '已关闭',
};

export const RETENTION_KIND_LABELS = { original: '原始视频', preview: '预览视频', poster: '封面图' } as const;

export const RETENTION_RUN_STATUS_LABELS = {
  planned: '预演（未执行）',
  queued: '已确认，等待执行',
  running: '正在删除',
  done: '已完成',
  cancelled: '已作废',
} as const;
