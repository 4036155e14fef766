import type { EntryStatus } from '../entries/entry.schema';

/** County review's sentences for the people it tells (消息, email, group robots). */
export const RETURNED_MESSAGE = (title: string, reason: string) => ({ title: `《${title}》被退回，请修改后重新提交`, body: `退回原因：${reason}` });
export const FORWARDED_MESSAGE = (title: string) => ({ title: `《${title}》已报送市教育局`, body: '县区教育局已将作品报送市教育局，等待市级评审。' });

/** The county review's words: what 报送 and 撤回报送 do, said before and after. */

const dayFormat = new Intl.DateTimeFormat('zh-CN', {
  timeZone: 'Asia/Shanghai',
  month: 'long',
  day: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  hour12: false,
});

/** What 报送市教育局 does, with the quota it spends (「报送后占用名额 3/10，截止前可撤回」). */
export function forwardConfirmation(use: { used: number; quota: number; forwardBy: Date }) {
  return {
    title: '确认报送市教育局',
    message: `报送后占用名额 ${use.used + 1}/${use.quota}，${dayFormat.format(use.forwardBy)} 县区报送截止前可撤回（撤回后名额释放）；截止后不能撤回。`,
    confirmLabel: '确认报送',
  };
}

export const FORWARD_CLOSED_RECALL = '本期县区报送已截止，不能再撤回。如需退回，请联系市教育局。';

export function NOT_RECALLABLE(status: EntryStatus): string {
  if (status === 'draft' || status === 'submitted' || status === 'returned') return '作品还没有报送市教育局，无需撤回。';
  return '作品已进入市级评审，县区不能再撤回。如需退回，请联系市教育局。';
}

/** The audit log's words: every action in Chinese (the codes stay in the API). */
export const AUDIT_ACTION_LABELS: Record<string, string> = {
  'entry.create': '创建了作品',
  'entry.update': '修改了作品信息',
  'video.upload': '上传了视频',
  'video.retry': '重新处理了视频',
  'entry.submit': '提交了作品',
  'entry.withdraw': '撤回了作品',
  'entry.return': '退回了作品',
  'entry.forward': '报送市教育局',
  'entry.recall': '撤回了报送',
  'entry.rank': '调整了报送排序',
  'entry.judging': '将作品纳入评审',
  'entry.award': '评定了奖项',
  'entry.broadcast': '选送电视台',
  'entry.aired': '登记了播出',
  'period.update': '修改了报送期',
  'period.quota': '调整了县区名额',
  'school.create': '新建了学校',
  'school.update': '修改了学校',
  'school.import': '导入了学校',
  'user.create': '创建了账号',
  'user.update': '修改了账号',
  'user.disable': '停用了账号',
  'user.enable': '启用了账号',
  'user.password_reset': '重置了密码',
  'user.password_change': '修改了自己的密码',
  'login.lockout': '登录受限（密码错误过多）',
  'login.unlock': '解除了登录限制',
  'round.create': '新建了评审轮次',
  'round.update': '修改了轮次设置',
  'round.entries': '向轮次添加了作品',
  'round.judges': '设置了评委名单',
  'round.assign': '自动分配了作品',
  'round.open': '开始了评审',
  'round.close': '结束了评审',
  'round.shortlist': '确定了入围名单',
  'round.publish': '公示了获奖名单',
  'round.unpublish': '撤回了公示',
  'assignment.add': '增加了一条分配',
  'assignment.remove': '删除了一条分配',
  'assignment.conflict': '声明回避',
  'score.submit': '提交了评分',
  'score.reopen': '重新开放了评分',
  'round.results_frozen': '冻结了公示结果',
  'round.results_revised': '修订了公示结果',
  'entry.award_revoked': '撤销了奖项',
  'entry.broadcast_revoked': '因授权撤回取消了电视台选送',
  'entry.media_pack': '制作了新媒体包',
  'entry.media_pack_restart': '重新制作了新媒体包',
  'entry.media_pack_removed': '删除了新媒体包',
  'objection.submit': '收到公示异议',
  'objection.accept': '受理了公示异议',
  'objection.review': '复核了公示异议',
  'objection.conclude': '对公示异议作出结论',
  'consent.record': '登记了监护人授权',
  'consent.withdraw': '撤回了监护人授权',
  'consent.scan_read': '查看了授权书扫描件',
  'consent.settings': '修改了授权书要求',
  'school.data_export': '导出了本校数据',
  'school.erase_personal_data': '删除了学校的个人信息',
  'campaign.create': '创建了活动',
  'campaign.status': '修改了活动状态',
  'campaign.close': '关闭了活动',
  'campaign.retention': '设置了保留期限',
  'retention.dry_run': '预演了到期清理',
  'retention.confirm': '确认了到期清理',
  'retention.run': '执行了到期清理',
  'certificate.issue': '制作了获奖证书',
  'certificate.revoke': '撤销了获奖证书',
  'certificate.seal': '更换了证书印章',
  'learning.report': '填报了学唱进度',
  'learning.deadline': '修改了学唱填报截止日期',
  'notification.preferences': '修改了通知设置',
  'notification.robot.add': '添加了群机器人',
  'notification.robot.remove': '删除了群机器人',
};

/** What kind of thing an audit row is about. */
export const AUDIT_OBJECT_LABELS: Record<string, string> = {
  entry: '作品',
  round: '轮次',
  user: '账号',
  school: '学校',
  period: '报送期',
  assignment: '评审任务',
  login: '登录',
  campaign: '活动',
  objection: '公示异议',
  certificate: '获奖证书',
  robot: '群机器人',
};

/** The details worth reading, by key (ids and internal keys are left out). */
export const AUDIT_DETAIL_LABELS: Record<string, string> = {
  name: '名称',
  username: '用户名',
  displayName: '名称',
  role: '角色',
  count: '数量',
  added: '新增',
  removed: '删除',
  cleared: '清除记录',
  award: '奖项',
  profile: '母版格式',
  pillarbox: '两侧填充',
  airedOn: '播出日期',
  quota: '名额',
  override: '单独名额',
  top: '前几名',
  per: '每县区',
  sizeBytes: '文件大小',
  problem: '问题',
};
