import type { EntryStatus, QcVerdict, VideoStatus } from './entry.schema';

/**
 * The entries component's words: the labels of statuses, QC checks and history actions, and the
 * sentences more than one module says. Other components use these labels too (review, broadcast).
 */

export const ENTRY_STATUS_LABELS: Record<EntryStatus, string> = {
  draft: '草稿',
  submitted: '已提交，待县区审核',
  returned: '已退回，待修改',
  forwarded: '已报送市教育局',
  in_judging: '评审中',
  shortlisted: '已入围',
  not_selected: '未入选',
  awarded: '已获奖',
  broadcast_selected: '已选送电视台',
  aired: '已播出',
};

export const VIDEO_STATUS_LABELS: Record<VideoStatus, string> = {
  uploaded: '已上传，排队处理',
  processing: '处理中',
  ready: '可预览',
  failed: '处理失败',
};

export const QC_VERDICT_LABELS: Record<QcVerdict, string> = { pass: '通过', warn: '有提醒', fail: '不通过' };

/** How the entry's history names each action. */
export const ACTION_LABELS: Record<string, string> = {
  'entry.create': '创建作品',
  'entry.update': '修改作品信息',
  'video.upload': '上传视频',
  'video.retry': '重新处理视频',
  'entry.submit': '提交',
  'entry.withdraw': '撤回',
  'entry.return': '退回',
  'entry.forward': '报送市教育局',
  'entry.recall': '县区撤回报送',
  'entry.rank': '调整报送排序',
  'entry.judging': '进入评审',
  'entry.award': '评定奖项',
  'entry.broadcast': '选送电视台',
  'entry.aired': '电视台已播出',
};

/** Chinese names of the QC checks (media/qc.ts names them in English). */
export const QC_CHECK_LABELS: Record<string, string> = {
  decode: '解码完整性',
  duration: '时长',
  resolution: '分辨率',
  frame_rate: '帧率',
  rotation: '画面方向',
  hdr: 'HDR 色彩',
  audio: '声音',
  loudness: '音量',
  silence: '静音片段',
  black: '黑屏片段',
  scan: '隔行扫描',
  aspect: '画面比例',
  audio_track: '音轨',
  channels: '声道',
  clipping: '削波失真',
};

/** The entry is past draft/returned: its video cannot be replaced (the page's gate, both upload paths). */
export const VIDEO_LOCKED = '作品已提交，不能更换视频。如需更换，请先撤回。';

/** Messages to the school about its video (消息, email). */
export const VIDEO_FAILED_MESSAGE = (title: string, why: string | null) => ({
  title: `《${title}》的视频处理失败`,
  body: why ?? '请打开作品页查看原因，重新上传视频。',
});
export const VIDEO_WARN_MESSAGE = (title: string) => ({
  title: `《${title}》的视频有质量提醒`,
  body: '视频已处理完成，可以提交；技术检查有提醒项，建议打开作品页查看后决定是否重新上传。',
});

/** What 提交 does, said before it happens (the dialog and the confirm page say the same). */
export function submitConfirmation(entry: { county: { name: string } | null }) {
  return entry.county
    ? {
        title: '确认提交到县区教育局',
        message: `提交后作品交${entry.county.name}教育局审核，审核期间不能修改信息或更换视频。县区处理前可以撤回，撤回后修改再提交。`,
        confirmLabel: '确认提交',
      }
    : {
        title: '确认提交到市教育局',
        message: '提交后作品直接报送市教育局，不能再修改信息、更换视频或撤回。',
        confirmLabel: '确认提交',
      };
}

/** The reminders (消息) before a deadline: schools before 学校提交截止, counties before 县区报送截止. */
export const DEADLINE_REMINDERS = {
  submitTitle: (n: number, deadline: string) => `本校还有 ${n} 件作品未提交，${deadline} 截止`,
  submitBody: (period: string) =>
    `「${period}」学校提交截止前的提醒：草稿和被退回修改的作品，提交后才会进入县区审核（市直学校直接报送市教育局）；截止后不能再提交。`,
  forwardTitle: (n: number, deadline: string) => `还有 ${n} 件作品待审核，${deadline} 截止报送市教育局`,
  forwardBody: (period: string) => `「${period}」县区报送截止前的提醒：请在截止前审核学校提交的作品，报送市教育局或退回学校。`,
};
