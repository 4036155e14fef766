import type { PackStatus } from './newmedia.schema';

/** The new-media component's words: pack states, the file names in the ZIP, the post's fixed wording. */

export const PACK_STATUS_LABELS: Record<PackStatus, string> = { queued: '排队中', processing: '制作中', ready: '可下载', failed: '制作失败' };
export const NO_PACK = '未制作';

/** Names of the files inside a pack's ZIP (under a folder named after the entry). */
export const PACK_FILE_NAMES = {
  oa: '公众号视频.mp4',
  vertical: '视频号竖版.mp4',
  coverWide: '封面_2.35比1.jpg',
  coverSquare: '封面_1比1.jpg',
  post: '推文草稿.txt',
} as const;

export const PACK_NOT_ALLOWED = '只有获奖作品可以制作新媒体包。';
export const PACK_NO_VIDEO = '作品没有可用的视频。';
export const PACK_NONE_YET = '这件作品还没有制作新媒体包。';
export const PACK_NOT_READY = '新媒体包还没有制作完成。';
export const PACK_NONE_READY = '还没有制作完成的新媒体包。';
export const PACK_NOT_FOUND = '作品不存在，或不是获奖作品。';
export const PACK_INFRA_FAILURE = '系统故障（数据库或文件存储长时间不可用），新媒体包未能制作；原始视频完好，请稍后重试。';
export const PACK_GENERIC_FAILURE = '新媒体包制作失败，请稍后重试；如果多次失败，请联系技术人员。';

/** The campaign's own wording (市教育局《通知》), for the post's opening paragraph. */
export const CAMPAIGN_WORDING =
  '为深入学习贯彻党的二十大精神，市教育局在全市各学校开展“学习党的二十大精神、唱响青春主旋律”主题活动，聚焦“爱党、爱国、爱家乡、爱师长”活动主题，' +
  '弘扬主旋律，传播正能量。现将各学校录制、择优遴选的优秀传唱视频通过微信公众号、视频号等新媒体平台面向社会展播，集中展现广大师生爱国情怀和良好道德风貌。';
export const CAMPAIGN_CLOSING = '让我们一起聆听吕梁新时代好少年的心声，唱响青春主旋律！';

export const CREDIT_LABELS = {
  school: '演唱单位',
  form: '表演形式',
  performers: '表演人数',
  teachers: '指导教师',
  award: '获奖情况',
} as const;

/** Messages to the editor who started a pack (notify kinds media_pack.ready / media_pack.failed). */
export const packReadyTitle = (song: string) => `新媒体包已制作完成：《${song}》`;
export const packFailedTitle = (song: string) => `新媒体包制作失败：《${song}》`;
