import type { MasterProfile, MasterStatus } from './broadcast.schema';

/** The broadcast component's words: master profiles and states as the city and the TV desk read them. */

export const PROFILE_LABELS: Record<MasterProfile, string> = {
  'xdcam-hd422': 'XDCAM HD422（1080i50 MXF，电视台标准）',
  'h264-1080p25': 'H.264 1080p25（MP4）',
};

export const MASTER_STATUS_LABELS: Record<MasterStatus, string> = { queued: '排队中', processing: '制作中', ready: '可下载', failed: '制作失败' };
/** The desk's and the programme sheet's word for an entry whose master is not made yet. */
export const NO_MASTER = '未制作';

/** The TV desk's message when a master is made and verified. */
export const MASTER_READY_MESSAGE = (title: string) => ({ title: `《${title}》的播出母版已就绪`, body: '母版已制作并通过校验，可以在电视台展播页下载。' });

/** What 选送电视台 does, said before it happens (dialog and confirm page). */
export const SELECT_CONFIRMATION = {
  title: '确认选送电视台',
  message: '选送后作品状态改为「已选送电视台」，系统开始制作广播母版，电视台在母版完成后即可下载播出。',
  confirmLabel: '确认选送',
};

/** Several awarded entries at once (the city's broadcast page). */
export const SELECT_MANY_CONFIRMATION = {
  title: '确认选送电视台',
  message: '选送所勾选的作品后，它们的状态改为「已选送电视台」，系统逐件制作广播母版，电视台在母版完成后即可下载播出。',
  confirmLabel: '确认选送',
};
export const selectManyMessage = (n: number) => `选送这 ${n} 件作品后，它们的状态改为「已选送电视台」，系统逐件制作广播母版，电视台在母版完成后即可下载播出。`;
