import type { ApiOperation } from '../web/openapi';
import { boolean, oneOf, optional, text, z } from '../platform/validate';
import { COUNTY_OR_CITY } from './notification.messages';

/** The message centre's and delivery settings' inputs and operations under /api/v1. */
export const listQuery = z.object({
  before: z
    .preprocess((v) => {
      const n = Number.parseInt(String(v ?? ''), 10);
      return Number.isFinite(n) && n > 0 ? n : undefined;
    }, z.number().int().optional())
    .openapi({ type: 'integer', description: '只列出 id 小于此值的消息（下一页）' }),
  limit: z
    .preprocess((v) => Math.max(1, Math.min(100, Number.parseInt(String(v ?? 20), 10) || 20)), z.number().int())
    .openapi({ type: 'integer', minimum: 1, maximum: 100, default: 20 }),
  unread: z.preprocess((v) => v === '1' || v === 'true', z.boolean()).openapi({ type: 'boolean', description: '只看未读' }),
});

export const markReadInput = z
  .object({
    // A form sends one id as a string, several as a list; JSON sends numbers.
    ids: z
      .preprocess(
        (v) =>
          [
            ...new Set((Array.isArray(v) ? v : v === undefined || v === null ? [] : [v]).map((x) => Number(x)).filter((n) => Number.isSafeInteger(n) && n > 0)),
          ].slice(0, 200),
        z.array(z.number().int()),
      )
      .openapi({ type: 'array', items: { type: 'integer' }, maxItems: 200, description: '要标记为已读的消息 id；与 all 二选一' }),
    all: boolean('全部已读'),
  })
  .openapi('MarkReadInput');

const EMAIL = /^[^\s@<>"]+@[^\s@<>"]+\.[^\s@<>"]+$/;
export const preferencesInput = z
  .object({
    email: optional(text('邮箱', { max: 200, pattern: EMAIL, patternMessage: '邮箱格式不正确，例如 zhangsan@example.cn' })),
    emailNotify: boolean('接收邮件通知'),
  })
  .openapi('NotificationPreferencesInput');

const WEBHOOK = /^https?:\/\/[^\s]+$/;
export const robotInput = z
  .object({
    name: text('名称', { min: 1, max: 60 }),
    kind: oneOf('机器人类型', ['wecom', 'dingtalk'] as const),
    countyId: text(COUNTY_OR_CITY, { max: 64 }).optional(),
    url: text('Webhook 地址', { min: 1, max: 500, pattern: WEBHOOK, patternMessage: 'Webhook 地址应以 https:// 开头' }),
    secret: optional(text('加签密钥', { max: 200 })),
    enabled: boolean('启用'),
  })
  .openapi('RobotInput');

const tag = 'notifications';
export const notificationOperations: ApiOperation[] = [
  {
    method: 'get',
    path: '/notifications',
    summary: 'My messages, newest first { items, unread, nextBefore } (?before=&limit=&unread=1)',
    tag,
    query: listQuery,
  },
  { method: 'post', path: '/notifications/read', summary: 'Mark messages read { ids } or { all: true } → { unread }', tag, body: markReadInput },
  { method: 'get', path: '/notifications/preferences', summary: 'My email address and opt-in', tag },
  { method: 'put', path: '/notifications/preferences', summary: 'Set my email address and opt-in { email, emailNotify }', tag, body: preferencesInput },
  { method: 'get', path: '/notifications/robots', summary: 'Group robots (admin)', tag },
  {
    method: 'post',
    path: '/notifications/robots',
    summary: 'Add a group robot { name, kind, countyId?, url, secret?, enabled } (admin)',
    tag,
    body: robotInput,
    status: 201,
  },
  { method: 'delete', path: '/notifications/robots/{id}', summary: 'Remove a group robot (admin)', tag, status: 204 },
  { method: 'get', path: '/todo', summary: 'My to-do counts { items: [{ key, label, count, href, due?, tone? }] }', tag: 'todo' },
];
