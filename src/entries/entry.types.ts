import type { EntryStatus, QcVerdict, VideoStatus } from './entry.schema';

export type { EntryStatus, QcVerdict, VideoStatus };

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

/** Badge colour per status, for the one stylesheet. */
export const STATUS_TONE: Record<string, 'ok' | 'warn' | 'bad' | 'info' | 'muted'> = {
  draft: 'muted',
  submitted: 'info',
  returned: 'warn',
  forwarded: 'ok',
  in_judging: 'info',
  shortlisted: 'ok',
  not_selected: 'muted',
  awarded: 'ok',
  broadcast_selected: 'ok',
  aired: 'ok',
  uploaded: 'info',
  processing: 'info',
  ready: 'ok',
  failed: 'bad',
  pass: 'ok',
  warn: 'warn',
  fail: 'bad',
};

/** The Video of API.md. */
export interface VideoView {
  id: string;
  status: VideoStatus;
  progress: number;
  error: string | null;
  originalName: string;
  sizeBytes: number;
  probe: Record<string, unknown> | null;
  qc: { verdict: QcVerdict; checks: Array<{ name: string; status: string; value: string; message: string }> } | null;
  loudness: { integratedLufs: number | null; truePeakDbtp: number | null; lra: number | null } | null;
  previewUrl: string | null;
  posterUrl: string | null;
}

/** The Entry of API.md. */
export interface EntryView {
  id: string;
  code: string;
  title: string;
  status: EntryStatus;
  song: { id: string | null; title: string; designated: boolean };
  form: string;
  level: string;
  performerCount: number;
  directorName: string | null;
  description: string | null;
  school: { id: string; name: string };
  county: { id: string; name: string } | null;
  periodId: string | null;
  forwardRank: number | null;
  award: string | null;
  returnReason: string | null;
  createdAt: string;
  updatedAt: string;
  submittedAt: string | null;
  video: VideoView | null;
  /**
   * A newer upload kept behind the entry's ready video until it is ready itself (then it becomes
   * `video`), or that failed (then `video` stays). Only on single-entry answers; null otherwise.
   */
  replacement?: { id: string; status: VideoStatus; progress: number; error: string | null; originalName: string } | null;
}

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
