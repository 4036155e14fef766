import { createHash, randomInt, randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import type { CurrentUser } from '../accounts/account.types';
import { assertArea } from '../accounts/policy';
import { notify } from '../notifications/notify';
import { formatDateTime } from '../platform/format';
import { recordAudit } from '../platform/audit';
import type { Db } from '../platform/db/database';
import { AppError, invalidState, notFound, rateLimited, validationFailed } from '../platform/errors';
import type { ObjectStore } from '../platform/storage/object-store';
import { objectKeys } from '../platform/storage/object-keys';
import { parse } from '../platform/validate';
import { objectionInput, objectionListQuery, objectionStepInput } from './objection.contract';
import * as repo from './objection.repository';
import { latestSnapshots } from './results.repository';
import type { ObjectionStatus } from './results.schema';
import type { ResultsSnapshot } from './snapshot';
import { OBJECTION_OUTCOME_LABELS, OBJECTION_STATUS_LABELS } from './judging.messages';

/** At most this many objections from one address per window (a real-name form, not a survey). */
export const OBJECTION_RATE = { max: 5, windowMs: 3600_000 };
export const MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024;
export const OBJECTIONS_PAGE = 50;

/** Which step may follow which: 受理 → 复核 → 结论. */
const NEXT: Record<ObjectionStatus, ObjectionStatus | null> = { submitted: 'accepted', accepted: 'reviewing', reviewing: 'concluded', concluded: null };

export const objectionClosed = (detail: string) => new AppError(409, 'objection_closed', '不在公示期内', detail);

/** The attachment's type from its first bytes (never from its name or the browser's word). */
export function sniffAttachment(head: Buffer): { type: string; ext: string } | null {
  if (head.subarray(0, 5).toString('latin1') === '%PDF-') return { type: 'application/pdf', ext: 'pdf' };
  if (head.length >= 8 && head.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return { type: 'image/png', ext: 'png' };
  if (head.length >= 3 && head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) return { type: 'image/jpeg', ext: 'jpg' };
  return null;
}

const RECEIPT_ALPHABET = '23456789ABCDEFGHJKLMNPQRSTUVWXYZ';
const fmtDay = (d: Date) =>
  new Intl.DateTimeFormat('sv-SE', { timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit' }).format(d).replace(/-/g, '');
const fmtTime = formatDateTime;

export interface UploadedAttachment {
  path: string;
  size: number;
}

export function createObjectionService(db: Db, deps: { store: ObjectStore; now?: () => Date }) {
  const now = deps.now ?? (() => new Date());

  async function newReceipt(at: Date): Promise<string> {
    for (;;) {
      const tail = Array.from({ length: 6 }, () => RECEIPT_ALPHABET[randomInt(RECEIPT_ALPHABET.length)]).join('');
      const receipt = `YY${fmtDay(at)}-${tail}`;
      if (!(await repo.receiptExists(db, receipt))) return receipt;
    }
  }

  function view(o: NonNullable<Awaited<ReturnType<typeof repo.findObjection>>>) {
    return {
      id: o.id,
      roundId: o.round_id,
      roundName: o.round_name,
      receiptNumber: o.receipt_number,
      entryCode: o.entry_code,
      name: o.name,
      phone: o.phone,
      relation: o.relation,
      reason: o.reason,
      attachment: o.attachment_key ? { type: o.attachment_type, size: o.attachment_size, url: `/api/v1/objections/${o.id}/attachment` } : null,
      status: o.status,
      statusLabel: OBJECTION_STATUS_LABELS[o.status],
      outcome: o.outcome,
      outcomeLabel: o.outcome ? OBJECTION_OUTCOME_LABELS[o.outcome] : null,
      conclusion: o.conclusion,
      createdAt: new Date(o.created_at).toISOString(),
      updatedAt: new Date(o.updated_at).toISOString(),
    };
  }

  return {
    /**
     * Anyone, by real name, during the 公示期. The rate limit counts what this address sent in the
     * last hour; the attachment is sniffed and stored privately before the row commits (a failed
     * commit removes it again). The city and 监督 are told in the same transaction.
     */
    async submit(body: unknown, attachment: UploadedAttachment | null, clientAddress: string): Promise<{ receiptNumber: string; status: ObjectionStatus }> {
      const at = now();
      const clientKey = createHash('sha256').update(`objection:${clientAddress}`).digest('hex');
      const recent = await repo.countFromClientSince(db, clientKey, new Date(at.getTime() - OBJECTION_RATE.windowMs));
      if (recent.n >= OBJECTION_RATE.max) {
        const wait = recent.oldest ? Math.max(60, Math.ceil((recent.oldest.getTime() + OBJECTION_RATE.windowMs - at.getTime()) / 1000)) : 3600;
        const err = rateLimited(wait);
        throw new AppError(
          429,
          'rate_limited',
          '提交过于频繁',
          `同一网络一小时内最多提交 ${OBJECTION_RATE.max} 份异议，请 ${Math.ceil(wait / 60)} 分钟后再试。`,
          undefined,
          err.headers,
        );
      }
      const input = parse(objectionInput, body);
      const round = await repo.publishedRound(db, input.roundId);
      if (!round) throw notFound('该公示不存在或已撤回。');
      const from = round.publicity_from ? new Date(round.publicity_from) : null;
      const to = round.publicity_to ? new Date(round.publicity_to) : null;
      if (!from || !to || at < from || at > to) {
        throw objectionClosed(
          from && to
            ? `「${round.name}」的公示期为 ${fmtTime(from)} 至 ${fmtTime(to)}，现在不在公示期内，不能提交异议。`
            : `「${round.name}」没有设定公示期，不能提交异议。`,
        );
      }
      const entryCode = input.entryCode ? input.entryCode.toUpperCase() : null;
      if (entryCode) {
        const [snap] = await latestSnapshots(db, [round.id]);
        const awards = snap ? (JSON.parse(snap.snapshot) as ResultsSnapshot).awards : [];
        if (!awards.some((a) => a.code.toUpperCase() === entryCode)) {
          throw validationFailed([
            { field: 'entryCode', message: `作品编号 ${entryCode} 不在本次公示的获奖名单中，请核对（也可不填，针对整个名单提出异议）。` },
          ]);
        }
      }
      const id = randomUUID();
      let stored: { key: string; type: string; size: number } | null = null;
      if (attachment) {
        if (attachment.size > MAX_ATTACHMENT_BYTES) throw new AppError(413, 'payload_too_large', '附件太大', '附件不能超过 10 MB。');
        if (attachment.size === 0) throw validationFailed([{ field: 'attachment', message: '附件是空文件，请重新选择。' }]);
        const fh = await fs.open(attachment.path, 'r');
        const head = Buffer.alloc(16);
        try {
          await fh.read(head, 0, 16, 0);
        } finally {
          await fh.close();
        }
        const kind = sniffAttachment(head);
        if (!kind) throw new AppError(415, 'unsupported_media', '附件格式不支持', '附件只能是 JPG、PNG 图片或 PDF 文件。');
        const key = objectKeys.objectionAttachment(id);
        await deps.store.putFile(key, attachment.path, { contentType: kind.type, move: true });
        stored = { key, type: kind.type, size: attachment.size };
      }
      const receiptNumber = await newReceipt(at);
      try {
        await db.transaction().execute(async (trx) => {
          await repo.insertObjection(trx, {
            id,
            campaign_id: round.campaign_id,
            round_id: round.id,
            receipt_number: receiptNumber,
            entry_code: entryCode,
            name: input.name,
            phone: input.phone,
            relation: input.relation,
            reason: input.reason,
            attachment_key: stored?.key ?? null,
            attachment_type: stored?.type ?? null,
            attachment_size: stored?.size ?? null,
            client_key: clientKey,
            created_at: at,
            updated_at: at,
          });
          // The log names no one: the person's details stay in the objection itself.
          await recordAudit(trx, {
            actor: null,
            action: 'objection.submit',
            objectType: 'objection',
            objectId: id,
            to: 'submitted',
            detail: { roundId: round.id, receiptNumber },
          });
          await notify(trx, {
            kind: 'objection.submitted',
            recipients: { roles: ['admin', 'supervisor'] },
            title: `「${round.name}」公示收到一份异议（回执 ${receiptNumber}）`,
            body: entryCode ? `涉及作品 ${entryCode}，请受理。` : '针对整个获奖名单，请受理。',
            link: `/objections/${id}`,
            dedupeKey: `objection.submitted:${id}`,
          });
        });
      } catch (err) {
        if (stored) await deps.store.delete(stored.key).catch(() => undefined);
        throw err;
      }
      return { receiptNumber, status: 'submitted' };
    },

    async list(actor: CurrentUser, campaignId: string, query: unknown) {
      assertArea(actor, 'roundsRead');
      const q = parse(objectionListQuery, query);
      const page = q.page ?? 1;
      const { total, items } = await repo.listObjections(db, { campaignId, roundId: q.roundId, status: q.status }, page, OBJECTIONS_PAGE);
      return { items: items.map(view), total, page, pageSize: OBJECTIONS_PAGE };
    },

    async get(actor: CurrentUser, id: string) {
      assertArea(actor, 'roundsRead');
      const o = await repo.findObjection(db, id);
      if (!o) throw notFound('异议不存在。');
      const history = await repo.objectionAudit(db, id);
      return {
        ...view(o),
        history: history.map((h) => ({
          at: new Date(h.at).toISOString(),
          actor: h.actor_name === 'system' ? '异议人' : h.actor_name,
          from: h.from_state,
          to: h.to_state,
          toLabel: h.to_state && h.to_state in OBJECTION_STATUS_LABELS ? OBJECTION_STATUS_LABELS[h.to_state as ObjectionStatus] : h.to_state,
          note: h.reason,
        })),
      };
    },

    /** The attachment's key and type (the route streams it, never a presigned link). */
    async attachment(actor: CurrentUser, id: string) {
      assertArea(actor, 'roundsRead');
      const o = await repo.findObjection(db, id);
      if (!o || !o.attachment_key) throw notFound('该异议没有附件。');
      const ext = o.attachment_type === 'application/pdf' ? 'pdf' : o.attachment_type === 'image/png' ? 'png' : 'jpg';
      return { key: o.attachment_key, type: o.attachment_type ?? 'application/octet-stream', name: `异议附件-${o.receipt_number}.${ext}` };
    },

    /** One step of handling, in order; the conclusion carries its outcome and reason. Audited. */
    async step(actor: CurrentUser, id: string, body: unknown) {
      assertArea(actor, 'objectionHandle');
      const input = parse(objectionStepInput, body);
      await db.transaction().execute(async (trx) => {
        const o = await repo.lockObjection(trx, id);
        if (!o) throw notFound('异议不存在。');
        if (NEXT[o.status] !== input.status) {
          const next = NEXT[o.status];
          throw invalidState(
            next
              ? `这份异议现在是「${OBJECTION_STATUS_LABELS[o.status]}」，下一步应是「${OBJECTION_STATUS_LABELS[next]}」。`
              : '这份异议已有结论，不能再更改。',
          );
        }
        await repo.updateObjection(trx, id, {
          status: input.status,
          ...(input.status === 'concluded' && { outcome: input.outcome, conclusion: input.note }),
          updated_at: now(),
        });
        await recordAudit(trx, {
          actor,
          action: `objection.${input.status === 'accepted' ? 'accept' : input.status === 'reviewing' ? 'review' : 'conclude'}`,
          objectType: 'objection',
          objectId: id,
          from: o.status,
          to: input.status,
          reason: input.note,
          detail: { roundId: o.round_id, receiptNumber: o.receipt_number, ...(input.outcome && { outcome: input.outcome }) },
        });
        if (input.status === 'concluded') {
          await notify(trx, {
            kind: 'objection.concluded',
            recipients: { roles: ['supervisor'] },
            title: `异议 ${o.receipt_number} 已有结论：${OBJECTION_OUTCOME_LABELS[input.outcome!]}`,
            link: `/objections/${id}`,
            dedupeKey: `objection.concluded:${id}`,
          });
        }
      });
      return this.get(actor, id);
    },
  };
}

export type ObjectionService = ReturnType<typeof createObjectionService>;
