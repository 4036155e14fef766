/** The Chinese sentences and labels of 获奖证书. */
export const CERTIFICATE_TEXT = {
  title: '荣誉证书',
  kindDirector: '指导教师',
  closing: '特发此证，以资鼓励。',
  closingDirector: '特授予“优秀指导教师”称号，特发此证。',
  numberLabel: '证书编号：',
  scan: '扫码验证证书真伪',
  organisationAward: '优秀组织奖',
} as const;

export const CERTIFICATE_KIND_LABELS = { entry: '作品获奖证书', director: '指导教师证书', organisation: '优秀组织奖证书' } as const;
export const CERTIFICATE_STATUS_LABELS = { pending: '生成中', ready: '已生成', failed: '生成失败' } as const;

export const CERTIFICATE_MESSAGES = {
  notFound: '证书不存在，请核对证书编号。',
  roundNotFound: '评审轮次不存在。',
  awardsFirst: '请先评定奖项，再制作证书。',
  noCertificates: '还没有证书。',
  notReady: '证书正在生成，请稍后再下载。',
  printNotReady: '打印版正在生成，请稍后再下载。',
  schoolNotFound: '学校不存在，或不在您的管辖范围内。',
  awardWithdrawn: '奖项已撤销',
  awardChanged: (label: string) => `奖项已变更为${label}，本证书作废并已重新颁发`,
  directorChanged: '指导教师已变更，本证书作废并已重新颁发',
  organisationWithdrawn: '优秀组织奖已撤销',
  sealNotPng: '公章图片须为 PNG 格式（建议透明背景）。',
  sealTooLarge: '公章图片不能超过 2 MB。',
  sealMissing: '请选择公章图片（PNG）。',
  unknownCounty: '县区不存在',
  renderFailed: '证书生成失败，请重新制作；如果多次失败，请联系技术人员。',
} as const;
