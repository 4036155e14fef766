import type { CurrentUser } from '../accounts/account.types';
import { assertArea } from '../accounts/policy';
import { recordAudit } from '../platform/audit';
import type { Db } from '../platform/db/database';
import { notFound, validationFailed } from '../platform/errors';
import { formatDateTime } from '../platform/format';
import { parse } from '../platform/validate';
import { failedBatches, MAX_BATCH_ATTEMPTS } from './delivery.repository';
import { listQuery, markReadInput, preferencesInput, robotInput } from './notification.contract';
import { CHANNEL_LABELS, kindLabel, RETRY_AT, RETRY_GAVE_UP, ROBOT_NOT_FOUND } from './notification.messages';
import * as repo from './notification.repository';

export interface MessageView {
  id: number;
  kind: string;
  kindLabel: string;
  title: string;
  body: string;
  link: string | null;
  entryId: string | null;
  createdAt: Date;
  read: boolean;
}

/** A robot's webhook shown without its key: enough to recognise it, not to use it. */
export function maskUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.origin}${u.pathname}${u.search ? '?…' : ''}`;
  } catch {
    return '…';
  }
}

export function createNotificationService(db: Db, deps: { now?: () => Date; emailEnabled: boolean }) {
  const now = deps.now ?? (() => new Date());
  return {
    /** One page of my messages, newest first, and how many are unread. */
    async list(actor: CurrentUser, query: unknown) {
      assertArea(actor, 'messages');
      const q = parse(listQuery, query);
      const [rows, unread] = await Promise.all([
        repo.listForUserFiltered(db, actor.id, { limit: q.limit + 1, beforeId: q.before, unreadOnly: q.unread }),
        repo.countUnread(db, actor.id),
      ]);
      const page = rows.slice(0, q.limit);
      const items: MessageView[] = page.map((r) => ({
        id: Number(r.id),
        kind: r.kind,
        kindLabel: kindLabel(r.kind),
        title: r.title,
        body: r.body,
        link: r.link,
        entryId: r.entry_id,
        createdAt: r.created_at,
        read: r.read_at !== null,
      }));
      return { items, unread, nextBefore: rows.length > q.limit ? items[items.length - 1].id : null };
    },

    unreadCount(actor: CurrentUser): Promise<number> {
      return repo.countUnread(db, actor.id);
    },

    /** Marks some (ids) or all of my messages read; returns the unread count left. */
    async markRead(actor: CurrentUser, body: unknown): Promise<{ unread: number }> {
      assertArea(actor, 'messages');
      const input = parse(markReadInput, body);
      if (!input.all && input.ids.length === 0) throw validationFailed([{ field: 'ids', message: '请选择要标记为已读的消息' }]);
      const ids = input.all ? null : input.ids;
      await repo.markRead(db, actor.id, ids);
      return { unread: await repo.countUnread(db, actor.id) };
    },

    /** Opens one of my messages: marks it read and returns the page it links to (null: none, or not mine). */
    async open(actor: CurrentUser, id: string): Promise<string | null> {
      assertArea(actor, 'messages');
      const n = Number(id);
      if (!Number.isSafeInteger(n) || n <= 0) return null;
      await repo.markRead(db, actor.id, [n]);
      return repo.linkOf(db, actor.id, n);
    },

    async preferences(actor: CurrentUser) {
      assertArea(actor, 'messages');
      const p = await repo.preferencesOf(db, actor.id);
      return { email: p?.email ?? null, emailNotify: p?.email_notify ?? true, emailEnabled: deps.emailEnabled };
    },

    async savePreferences(actor: CurrentUser, body: unknown) {
      assertArea(actor, 'messages');
      const input = parse(preferencesInput, body);
      await db.transaction().execute(async (trx) => {
        await repo.savePreferences(trx, actor.id, { email: input.email, emailNotify: input.emailNotify }, now());
        await recordAudit(trx, {
          actor,
          action: 'notification.preferences',
          objectType: 'user',
          objectId: actor.id,
          detail: { email: input.email !== null, emailNotify: input.emailNotify },
        });
      });
      return this.preferences(actor);
    },

    async robots(actor: CurrentUser) {
      assertArea(actor, 'notificationSettings');
      const rows = await repo.listRobots(db);
      return rows.map((r) => ({
        id: r.id,
        name: r.name,
        kind: r.kind,
        kindLabel: CHANNEL_LABELS[r.kind],
        countyId: r.county_id,
        countyName: r.county_name,
        url: maskUrl(r.url),
        signed: r.secret !== null,
        enabled: r.enabled,
        createdAt: r.created_at,
      }));
    },

    async addRobot(actor: CurrentUser, body: unknown): Promise<{ id: string }> {
      assertArea(actor, 'notificationSettings');
      const input = parse(robotInput, body);
      const countyId = input.countyId && input.countyId !== 'city' ? input.countyId : null;
      if (countyId && !(await repo.countyExists(db, countyId))) throw validationFailed([{ field: 'countyId', message: '所选县区不存在' }]);
      if (input.kind === 'dingtalk' && input.secret && !input.secret.startsWith('SEC'))
        throw validationFailed([{ field: 'secret', message: '钉钉加签密钥以 SEC 开头，请从机器人的安全设置中复制' }]);
      return db.transaction().execute(async (trx) => {
        const id = await repo.insertRobot(trx, {
          name: input.name,
          kind: input.kind,
          county_id: countyId,
          url: input.url,
          secret: input.secret,
          enabled: input.enabled,
        });
        await recordAudit(trx, {
          actor,
          action: 'notification.robot.add',
          objectType: 'robot',
          objectId: id,
          detail: { name: input.name, kind: input.kind, countyId },
        });
        return { id };
      });
    },

    async removeRobot(actor: CurrentUser, id: string): Promise<void> {
      assertArea(actor, 'notificationSettings');
      await db.transaction().execute(async (trx) => {
        if (!(await repo.deleteRobot(trx, id))) throw notFound(ROBOT_NOT_FOUND);
        await recordAudit(trx, { actor, action: 'notification.robot.remove', objectType: 'robot', objectId: id });
      });
    },

    /** Sends that failed and are waiting for a retry or gave up (the admin's settings page). */
    async failedDeliveries(actor: CurrentUser) {
      assertArea(actor, 'notificationSettings');
      const rows = await failedBatches(db, 50);
      return rows.map((r) => ({
        ...r,
        channelLabel: CHANNEL_LABELS[r.channel],
        retryLabel: r.attempts >= MAX_BATCH_ATTEMPTS || !r.next_attempt_at ? RETRY_GAVE_UP : RETRY_AT(formatDateTime(r.next_attempt_at)),
      }));
    },
  };
}

export type NotificationService = ReturnType<typeof createNotificationService>;
