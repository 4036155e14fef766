/**
 * The one way any component tells people something (消息). Call it inside the transaction of the
 * change that causes it — `await notify(trx, { … })` — so the message exists exactly when the cause
 * committed and never for a rolled-back one. Recipients are resolved to active accounts in one
 * INSERT … SELECT (no query per person); a `dedupeKey` makes a repeated cause one message per person.
 *
 * This writes the in-app message centre. Delivery beyond the app (email, WeCom/DingTalk robots,
 * digests) hangs off the same call, queued as jobs — never sent inside a request.
 */
import crypto from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import type { DB, Role } from '../platform/db/schema';
import { enqueueJob } from '../platform/queue/queue';
import { insertForRecipients } from './notification.repository';

/** The delivery job (email, robots): typed in JobPayloads (src/jobs.ts). */
export const NOTIFY_DELIVER_JOB = 'notifications.deliver';
export type NotifyDeliverPayload = Record<string, never>;

/**
 * Messages written within one window go out together: one delivery job per window, run when it
 * ends, so a burst (20 entries returned in a minute) becomes one digest per person and channel.
 */
export const DELIVERY_WINDOW_MS = 60_000;

type Q = Kysely<DB> | Transaction<DB>;

/** Who should hear of it: any mix of explicit accounts, a school's, a county's, and whole city roles. */
export interface Recipients {
  userIds?: readonly string[];
  /** every active school account of this school */
  schoolId?: string;
  /** every active county account of this county (a 市直 school's entry has none: pass roles ['admin']) */
  countyId?: string;
  /** every active account with one of these city-level roles (admin, tv, supervisor, newmedia) */
  roles?: readonly Role[];
}

export interface NotificationEvent {
  /** a stable code for what happened, e.g. 'entry.returned', 'round.assigned' (labels live with the kinds) */
  kind: string;
  recipients: Recipients;
  /** one Chinese line, e.g. 「《歌唱祖国》被退回：画面不完整」 */
  title: string;
  body?: string;
  /** the page that lets the person act, e.g. /entries/<id> */
  link?: string | null;
  entryId?: string | null;
  /** the same key for the same cause: sent once per person however often notify() runs for it */
  dedupeKey?: string | null;
}

/**
 * Records the message for every recipient and schedules its delivery (email, robots) in the same
 * transaction; returns how many people got it.
 */
export async function notify(q: Q, event: NotificationEvent, now: Date = new Date()): Promise<number> {
  const { recipients, ...message } = event;
  const count = await insertForRecipients(q, recipients, message, crypto.randomUUID());
  if (count > 0) await scheduleDelivery(q, now);
  return count;
}

/**
 * A message whose words depend on a number per person ("还有 N 件…"): one notify() per distinct
 * number, not per person. Returns how many people got it.
 */
export async function notifyByCount(
  q: Q,
  people: ReadonlyArray<{ userId: string; count: number }>,
  message: (count: number) => Omit<NotificationEvent, 'recipients'>,
  now: Date = new Date(),
): Promise<number> {
  const byCount = new Map<number, string[]>();
  for (const p of people) if (p.count > 0) byCount.set(p.count, [...(byCount.get(p.count) ?? []), p.userId]);
  let told = 0;
  for (const [count, userIds] of byCount) told += await notify(q, { ...message(count), recipients: { userIds } }, now);
  return told;
}

/** One delivery job per window (dedupe key = the window), run when the window ends. */
export function scheduleDelivery(q: Q, now: Date) {
  const windowEnd = Math.floor(now.getTime() / DELIVERY_WINDOW_MS + 1) * DELIVERY_WINDOW_MS;
  return enqueueJob(
    q,
    { type: NOTIFY_DELIVER_JOB, payload: {}, runAt: new Date(windowEnd), maxAttempts: 8, dedupeKey: `${NOTIFY_DELIVER_JOB}:${windowEnd}` },
    now,
  );
}

/**
 * The delivery job for the moment a failed send is due again (delivery.ts). Keyed by that moment,
 * not by a window: a window's key may belong to a job that has already run.
 */
export function scheduleDeliveryRetry(q: Q, at: Date, now: Date) {
  return enqueueJob(q, { type: NOTIFY_DELIVER_JOB, payload: {}, runAt: at, maxAttempts: 8, dedupeKey: `${NOTIFY_DELIVER_JOB}:retry:${at.getTime()}` }, now);
}
