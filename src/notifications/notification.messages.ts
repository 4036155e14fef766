import type { Role } from '../platform/db/schema';

/** Chinese sentences and labels of the message centre and its delivery. */

/** Roles whose messages the city's group robot posts (the county robots post their county's school and county messages). */
export const CITY_ROLES: readonly Role[] = ['admin', 'tv', 'newmedia', 'supervisor'];

export const DIGEST_SUBJECT = (n: number) => `唱响：您有 ${n} 条新消息`;
export const ROBOT_DIGEST_TITLE = (n: number) => `唱响：${n} 条新消息`;

export const CHANNEL_LABELS: Record<string, string> = { email: '邮件', wecom: '企业微信群机器人', dingtalk: '钉钉群机器人' };

/** What each kind of message is about (the list shows it beside the title). */
export const KIND_LABELS: Record<string, string> = {
  'entry.returned': '作品退回',
  'video.failed': '视频处理失败',
  'video.warn': '视频质量提醒',
  'entry.forwarded': '报送市教育局',
  'round.opened': '评审开始',
  'round.assigned': '评审分配',
  'round.reminder': '评审截止提醒',
  'entries.submit_due': '提交截止提醒',
  'entries.forward_due': '报送截止提醒',
  'entry.awarded': '获奖',
  'master.ready': '播出母版就绪',
};
export const kindLabel = (kind: string) => KIND_LABELS[kind] ?? '通知';

/** A failed send on the robots page: when it is tried again, or that it was given up. */
export const RETRY_AT = (at: string) => `${at} 重试`;
export const RETRY_GAVE_UP = '已放弃（约一天内重试 10 次均失败）';

export const ROBOT_NOT_FOUND = '没有找到这个群机器人，可能已被删除。';
export const ROBOT_URL_HINT = {
  wecom: '企业微信群机器人的 Webhook 地址，形如 https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…',
  dingtalk: '钉钉自定义机器人的 Webhook 地址，形如 https://oapi.dingtalk.com/robot/send?access_token=…；安全设置选「加签」时填写以 SEC 开头的密钥',
};
export const COUNTY_OR_CITY = '县区';
export const CITY_SCOPE_LABEL = '全市（市教育局群）';
