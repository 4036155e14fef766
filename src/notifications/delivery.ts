/**
 * Delivery of notifications beyond the app: per-user email (SMTP, opt-out per person) and group
 * robots per county or for the city (企业微信群机器人, 钉钉自定义机器人 with its signing secret).
 *
 * Two steps, both inside the delivery job (never inside a request):
 * 1. plan — every message notify() wrote and nobody planned yet becomes, per recipient × channel,
 *    ONE batch (a single message, or a digest of all that arrived in the window). The delivery log
 *    (notification_deliveries, primary key channel × target × item) is written in the same
 *    transaction: a notification reaches a channel's target once, ever.
 * 2. send — every batch due is sent; success marks it sent, a failure counts an attempt and sets
 *    when to try that batch again (30 s, then longer, over about a day: RETRY_BACKOFF_MS), and the
 *    job puts a delivery job on the queue for the earliest such time.
 */
import crypto from 'node:crypto';
import nodemailer from 'nodemailer';
import type { Config } from '../config';
import type { Db } from '../platform/db/database';
import type { Logger } from '../platform/logger';
import * as repo from './delivery.repository';
import type { DeliveryChannel, RobotKind } from './notification.schema';
import { CITY_ROLES, DIGEST_SUBJECT, ROBOT_DIGEST_TITLE } from './notification.messages';
import { scheduleDeliveryRetry } from './notify';

/** What one batch carries, rendered per channel when sent. */
interface Item {
  title: string;
  body: string;
  link: string | null;
}

export interface MailMessage {
  from: string;
  to: string;
  subject: string;
  text: string;
  messageId: string;
}

export interface DeliveryChannels {
  /** undefined: no SMTP server configured, nothing goes by email */
  sendMail?: (message: MailMessage) => Promise<void>;
  /** POSTs JSON to a robot webhook; throws on a non-2xx answer or a non-zero errcode */
  postRobot: (kind: RobotKind, url: string, secret: string | null, payload: unknown, now: Date) => Promise<void>;
  /** Ends any open connection (after a run). */
  close?: () => void;
}

export function createDeliveryChannels(config: Config['notifications']): DeliveryChannels {
  const smtp = config.smtp;
  // Pooled: one run's mails share a few connections (200 digests: 27 s with a connection each, 7.5 s pooled);
  // closed after each run so no idle connection outlives the job.
  const options = smtp
    ? {
        ...(smtp.url
          ? { url: smtp.url }
          : { host: smtp.host, port: smtp.port, secure: smtp.secure, auth: smtp.user ? { user: smtp.user, pass: smtp.pass ?? '' } : undefined }),
        pool: true as const,
        maxConnections: 3,
        maxMessages: 100,
      }
    : undefined;
  let transport: ReturnType<typeof nodemailer.createTransport> | undefined;
  return {
    sendMail: options
      ? async (m) => {
          transport ??= nodemailer.createTransport(options);
          await transport.sendMail({ from: m.from, to: m.to, subject: m.subject, text: m.text, messageId: m.messageId });
        }
      : undefined,
    postRobot: postRobot,
    close() {
      transport?.close();
      transport = undefined;
    },
  };
}

/** DingTalk's signature: base64(HMAC-SHA256(secret, `${timestamp}\n${secret}`)), URL-encoded. */
export function dingTalkSign(secret: string, timestamp: number): string {
  return encodeURIComponent(crypto.createHmac('sha256', secret).update(`${timestamp}\n${secret}`).digest('base64'));
}

export function signedRobotUrl(kind: RobotKind, url: string, secret: string | null, now: Date): string {
  if (kind !== 'dingtalk' || !secret) return url;
  const timestamp = now.getTime();
  return `${url}${url.includes('?') ? '&' : '?'}timestamp=${timestamp}&sign=${dingTalkSign(secret, timestamp)}`;
}

async function postRobot(kind: RobotKind, url: string, secret: string | null, payload: unknown, now: Date): Promise<void> {
  const res = await fetch(signedRobotUrl(kind, url, secret, now), {
    method: 'POST',
    headers: { 'content-type': 'application/json; charset=utf-8' },
    body: JSON.stringify(payload),
    signal: AbortSignal.timeout(10_000),
    redirect: 'error',
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`HTTP ${res.status}: ${text.slice(0, 200)}`);
  // Both robots answer 200 with {"errcode":0,"errmsg":"ok"}; anything else is a refusal.
  let body: { errcode?: number; errmsg?: string } = {};
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    throw new Error(`机器人返回的不是 JSON：${text.slice(0, 200)}`);
  }
  if (body.errcode !== undefined && body.errcode !== 0) throw new Error(`errcode ${body.errcode}: ${body.errmsg ?? ''}`);
}

const absolute = (publicUrl: string, link: string | null) => (link ? (/^https?:\/\//.test(link) ? link : `${publicUrl}${link}`) : null);

export function emailText(items: readonly Item[], publicUrl: string): string {
  const parts = items.map((i) => [i.title, i.body, absolute(publicUrl, i.link) ? `查看：${absolute(publicUrl, i.link)}` : ''].filter(Boolean).join('\n'));
  return `${parts.join('\n\n')}\n\n——\n唱响 · 吕梁市中小学校园歌曲展播。不想再收到邮件？请登录后在「消息 → 通知设置」中关闭邮件通知。\n${publicUrl}/notifications/settings\n`;
}

export function robotMarkdown(items: readonly Item[], publicUrl: string): string {
  const lines = items.map((i) => {
    const url = absolute(publicUrl, i.link);
    return `**${i.title}**${i.body ? `\n> ${i.body.replace(/\n/g, ' ')}` : ''}${url ? `\n[查看](${url})` : ''}`;
  });
  // Always signed 唱响: DingTalk's 「自定义关键词」 security setting can use it as the keyword.
  return `${items.length > 1 ? `### ${ROBOT_DIGEST_TITLE(items.length)}\n\n` : ''}${lines.join('\n\n')}\n\n—— 唱响 · 吕梁市中小学校园歌曲展播`;
}

export function robotPayload(kind: RobotKind, subject: string, markdown: string): unknown {
  // WeCom markdown content is limited to 4096 bytes, DingTalk's to about 20000: keep well under.
  const content =
    Buffer.byteLength(markdown) > 4000
      ? `${Buffer.from(markdown)
          .subarray(0, 3900)
          .toString('utf8')
          .replace(/\uFFFD+$/, '')}\n……`
      : markdown;
  return kind === 'wecom' ? { msgtype: 'markdown', markdown: { content } } : { msgtype: 'markdown', markdown: { title: subject, text: content } };
}

export interface DeliveryResult {
  planned: number;
  sent: number;
  /** sends that failed in this run (each batch is tried again later, or given up: see RETRY_BACKOFF_MS) */
  failed: number;
  /** when the earliest batch waiting for a retry is due (a delivery job is queued for then), or null */
  retryAt: Date | null;
}

export function createDelivery(deps: { db: Db; channels: DeliveryChannels; config: Config['notifications']; logger: Logger; now?: () => Date }) {
  const { db, channels, config, logger } = deps;
  const now = deps.now ?? (() => new Date());

  /** Step 1: turns unplanned messages into batches (one per recipient × channel). Returns batches made. */
  async function plan(limit = 2000): Promise<{ messages: number; batches: number }> {
    return db.transaction().execute(async (trx) => {
      const rows = await repo.lockUndispatched(trx, limit);
      if (rows.length === 0) return { messages: 0, batches: 0 };
      const groups = new Map<string, { channel: DeliveryChannel; target: string; items: string[]; content: Item[] }>();
      const add = (channel: DeliveryChannel, target: string, item: string, content: Item) => {
        const key = `${channel}\u0000${target}`;
        let g = groups.get(key);
        if (!g) groups.set(key, (g = { channel, target, items: [], content: [] }));
        if (g.items.includes(item)) return;
        g.items.push(item);
        g.content.push(content);
      };
      if (channels.sendMail) {
        for (const r of rows) if (r.email && r.email_notify) add('email', r.user_id, String(r.id), { title: r.title, body: r.body, link: r.link });
      }
      const robots = await repo.enabledRobots(trx);
      if (robots.length > 0) {
        for (const r of rows) {
          const event = r.event_id ?? `n${r.id}`;
          const content = { title: r.title, body: r.body, link: r.link };
          for (const robot of robots) {
            const reaches =
              robot.county_id === null ? CITY_ROLES.includes(r.role) : robot.county_id === r.county_id && (r.role === 'county' || r.role === 'school');
            if (reaches) add(robot.kind, robot.id, event, content);
          }
        }
      }
      let made = 0;
      const byChannel = new Map<DeliveryChannel, typeof groups extends Map<string, infer G> ? G[] : never>();
      for (const g of groups.values()) byChannel.set(g.channel, [...(byChannel.get(g.channel) ?? []), g]);
      for (const [channel, list] of byChannel) {
        const done = await repo.alreadyDelivered(
          trx,
          channel,
          list.map((g) => g.target),
          list.flatMap((g) => g.items),
        );
        for (const g of list) {
          const keep = g.items.map((item, i) => ({ item, content: g.content[i] })).filter((x) => !done.has(`${g.target}\u0000${x.item}`));
          if (keep.length === 0) continue;
          const subject = keep.length === 1 ? keep[0].content.title : DIGEST_SUBJECT(keep.length);
          await repo.insertBatch(trx, {
            channel,
            target: g.target,
            subject,
            body: JSON.stringify(keep.map((x) => x.content)),
            items: keep.map((x) => x.item),
          });
          made++;
        }
      }
      await repo.markDispatched(
        trx,
        rows.map((r) => r.id),
        now(),
      );
      return { messages: rows.length, batches: made };
    });
  }

  async function sendOne(batch: Awaited<ReturnType<typeof repo.pendingBatches>>[number]): Promise<void> {
    const items = JSON.parse(batch.body) as Item[];
    if (batch.channel === 'email') {
      const person = await repo.emailAddressOf(db, batch.target);
      if (!channels.sendMail || !person?.email || !person.email_notify || person.disabled_at) {
        // The person turned email off (or was disabled) after the message was planned: nothing to send.
        await repo.markBatchSent(db, batch.id, now(), '收件人已关闭邮件通知或账号已停用，未发送');
        return;
      }
      await channels.sendMail({
        from: config.from,
        to: person.email,
        subject: batch.subject,
        text: emailText(items, config.publicUrl),
        // The same batch has the same Message-ID: a resend after a lost answer is recognisable.
        messageId: `<notification-batch-${batch.id}@changxiang>`,
      });
    } else {
      const robot = await repo.robotById(db, batch.target);
      if (!robot || !robot.enabled) {
        await repo.markBatchSent(db, batch.id, now(), '机器人已删除或停用，未发送');
        return;
      }
      await channels.postRobot(robot.kind, robot.url, robot.secret, robotPayload(robot.kind, batch.subject, robotMarkdown(items, config.publicUrl)), now());
    }
    await repo.markBatchSent(db, batch.id, now());
  }

  /** Step 2: sends every batch due now; a failure sets when that batch is tried again. Returns counts. */
  async function send(): Promise<{ sent: number; failed: number; errors: string[] }> {
    let sent = 0;
    let failed = 0;
    const errors: string[] = [];
    let afterId = 0;
    for (;;) {
      const batches = await repo.pendingBatches(db, afterId, 100, now());
      if (batches.length === 0) break;
      for (const b of batches) {
        afterId = b.id;
        try {
          await sendOne(b);
          sent++;
        } catch (err) {
          failed++;
          const message = err instanceof Error ? err.message : String(err);
          errors.push(`${b.channel} ${b.target}: ${message}`);
          const givingUp = b.attempts + 1 >= repo.MAX_BATCH_ATTEMPTS;
          const wait = repo.RETRY_BACKOFF_MS[Math.min(b.attempts, repo.RETRY_BACKOFF_MS.length - 1)];
          logger.warn(givingUp ? 'notification delivery failed; giving up' : 'notification delivery failed; will retry', {
            batch: b.id,
            channel: b.channel,
            attempt: b.attempts + 1,
            err: message,
          });
          await repo.markBatchFailed(db, b.id, message, givingUp ? null : new Date(now().getTime() + wait));
        }
      }
    }
    return { sent, failed, errors };
  }

  return {
    plan,
    send,
    /**
     * The job's work: plan everything unplanned, send what is due, and when a batch waits for a
     * retry, queue the delivery job for the earliest one (one job per moment, by its dedupe key).
     */
    async run(): Promise<DeliveryResult> {
      let planned = 0;
      const limit = 2000;
      for (;;) {
        const step = await plan(limit);
        planned += step.batches;
        if (step.messages < limit) break;
      }
      let result: Awaited<ReturnType<typeof send>>;
      try {
        result = await send();
      } finally {
        channels.close?.();
      }
      const retryAt = await repo.nextRetryAt(db);
      if (retryAt) await scheduleDeliveryRetry(db, retryAt, now());
      return { planned, sent: result.sent, failed: result.failed, retryAt };
    },
  };
}

export type Delivery = ReturnType<typeof createDelivery>;
