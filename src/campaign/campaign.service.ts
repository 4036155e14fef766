import crypto from 'node:crypto';
import type { CurrentUser } from '../accounts/account.types';
import { assertArea } from '../accounts/policy';
import { recordAudit } from '../platform/audit';
import type { Db } from '../platform/db/database';
import { isUniqueViolation } from '../platform/db/errors';
import { campaignClosed, invalidState, notFound, validationFailed } from '../platform/errors';
import { parse, parsePartial } from '../platform/validate';
import * as repo from './campaign.repository';
import { campaignInput, campaignStatusInput, closeInput, periodInput, retentionInput } from './campaign.contract';
import { CAMPAIGN_NOT_FOUND, CAMPAIGN_STATUS_LABELS, NO_OPEN_CAMPAIGN, PERIOD_NOT_FOUND } from './campaign.messages';
import type { CampaignStatus } from './campaign.schema';

export interface Song {
  id: string;
  title: string;
  designated: boolean;
}
export interface CodeLabel {
  code: string;
  label: string;
}
export interface Period {
  id: string;
  name: string;
  submitBy: Date;
  forwardBy: Date;
  quota: number;
}
/** What every request knows about its campaign (req.campaign, resolved in current-campaign.ts). */
export interface CampaignRef {
  id: string;
  title: string;
  year: number;
  status: CampaignStatus;
  statusLabel: string;
  closedAt: Date | null;
  retentionDays: number | null;
  retentionNotAwarded: boolean;
}
export interface Campaign extends CampaignRef {
  maxDurationS: number;
  /** the rubric new rounds start from (copied from an earlier campaign), null: the default */
  rubric: Array<{ key: string; label: string; max: number }> | null;
  songs: Song[];
  forms: CodeLabel[];
  levels: CodeLabel[];
  periods: Period[];
}

export function toCampaignRef(row: repo.CampaignRow): CampaignRef {
  return {
    id: row.id,
    title: row.title,
    year: row.year,
    status: row.status,
    statusLabel: CAMPAIGN_STATUS_LABELS[row.status],
    closedAt: row.closed_at ? new Date(row.closed_at) : null,
    retentionDays: row.retention_days,
    retentionNotAwarded: row.retention_not_awarded,
  };
}

/** A new campaign's id: readable in URLs and logs (`2027-3f9a1c`). */
const newCampaignId = (year: number) => `${year}-${crypto.randomBytes(3).toString('hex')}`;

/**
 * How long this process reuses the campaign list. Every request resolves its campaign against the
 * list (current-campaign.ts): without the cache that is one statement per request for a table that
 * changes a few times a year. This process's own changes drop it at once (after their commit);
 * another process's change (a second web process) is seen within this time.
 */
export const CAMPAIGN_LIST_TTL_MS = 2_000;

export function createCampaignService(db: Db) {
  let listed: { at: number; rows: Promise<repo.CampaignRow[]> } | undefined;

  /** Every campaign, newest first: from the cache while it is fresh, else one statement (a failure is not kept). */
  function campaignRows(): Promise<repo.CampaignRow[]> {
    if (listed && Date.now() - listed.at < CAMPAIGN_LIST_TTL_MS) return listed.rows;
    const entry = { at: Date.now(), rows: repo.listCampaigns(db) };
    listed = entry;
    entry.rows.catch(() => {
      if (listed === entry) listed = undefined;
    });
    return entry.rows;
  }

  /** After a change of campaigns (committed or not): the next request reads the list again. */
  const forgetList = () => {
    listed = undefined;
  };

  /** The campaign nobody chose: the one open for submissions, else the newest not closed, else the newest (as current-campaign.ts). */
  async function defaultId(): Promise<string> {
    const rows = await campaignRows();
    const row = rows.find((c) => c.status === 'open') ?? rows.find((c) => c.status !== 'closed') ?? rows[0];
    if (!row) throw notFound(CAMPAIGN_NOT_FOUND);
    return row.id;
  }

  /** Periods of a campaign (of the default campaign when none is named: scripts and tests). */
  async function listPeriods(campaignId?: string): Promise<Period[]> {
    const rows = await repo.listPeriodRows(db, campaignId ?? (await defaultId()));
    return rows.map((p) => ({ id: p.id, name: p.name, submitBy: new Date(p.submit_by), forwardBy: new Date(p.forward_by), quota: p.quota }));
  }

  async function ref(id: string): Promise<CampaignRef> {
    const row = await repo.findCampaignRow(db, id);
    if (!row) throw notFound(CAMPAIGN_NOT_FOUND);
    return toCampaignRef(row);
  }

  return {
    /** One campaign with its songs, forms, levels and periods (the default campaign when none is named). */
    async get(id?: string): Promise<Campaign> {
      const campaignId = id ?? (await defaultId());
      const [row, songs, forms, levels, periods] = await Promise.all([
        repo.findCampaignRow(db, campaignId),
        repo.listSongs(db, campaignId),
        repo.listForms(db),
        repo.listLevels(db),
        listPeriods(campaignId),
      ]);
      if (!row) throw notFound(CAMPAIGN_NOT_FOUND);
      const rubric = Array.isArray(row.rubric) ? (row.rubric as Campaign['rubric']) : null;
      return { ...toCampaignRef(row), maxDurationS: row.max_duration_s, rubric, songs, forms, levels, periods };
    },

    ref,

    /** Every campaign (the nav's switcher and the admin page). */
    async list(): Promise<CampaignRef[]> {
      return (await campaignRows()).map(toCampaignRef);
    },

    /** Forget the cached list now (after campaigns were written by hand, as a test does). */
    forgetList,

    /** The campaign open for submissions, or a 409 a school understands. */
    async openForSubmissions(): Promise<CampaignRef> {
      const row = await repo.openCampaignRow(db);
      if (!row) throw invalidState(NO_OPEN_CAMPAIGN);
      return toCampaignRef(row);
    },

    listPeriods,

    async updatePeriod(actor: CurrentUser, id: string, body: unknown): Promise<Period> {
      assertArea(actor, 'periods');
      const current = await repo.findPeriod(db, id);
      if (!current) throw notFound(PERIOD_NOT_FOUND);
      const patch = parsePartial(periodInput, body);
      const submitBy = patch.submitBy ?? new Date(current.submit_by);
      const forwardBy = patch.forwardBy ?? new Date(current.forward_by);
      if (forwardBy < submitBy) throw validationFailed([{ field: 'forwardBy', message: '县区报送截止时间不能早于学校提交截止时间' }]);
      await db.transaction().execute(async (trx) => {
        await repo.updatePeriod(trx, id, {
          ...(patch.name !== undefined && { name: patch.name }),
          ...(patch.quota !== undefined && { quota: patch.quota }),
          submit_by: submitBy,
          forward_by: forwardBy,
        });
        await recordAudit(trx, {
          actor,
          action: 'period.update',
          objectType: 'period',
          objectId: id,
          from: patch.quota !== undefined ? String(current.quota) : null,
          to: patch.quota !== undefined ? String(patch.quota) : null,
          detail: { ...patch },
        });
      });
      return (await listPeriods(current.campaign_id)).find((p) => p.id === id)!;
    },

    /**
     * Next year's campaign, 筹备中 until the city opens it. Copies from `copyFrom` what the city chose:
     * songs, periods (every deadline moved by the difference in years) and the rubric new rounds start from.
     * Counties, schools, accounts, forms and levels are shared by every campaign.
     */
    async create(actor: CurrentUser, body: unknown): Promise<CampaignRef> {
      assertArea(actor, 'campaignAdmin');
      const input = parse(campaignInput, body);
      const source = input.copyFrom ? await repo.findCampaignRow(db, input.copyFrom) : undefined;
      if (input.copyFrom && !source) throw validationFailed([{ field: 'copyFrom', message: '要复制的活动不存在' }]);
      if (!source && (input.copySongs || input.copyPeriods || input.copyRubric)) throw validationFailed([{ field: 'copyFrom', message: '请选择要复制的活动' }]);
      const id = newCampaignId(input.year);
      await db
        .transaction()
        .execute(async (trx) => {
          const rubric = source && input.copyRubric ? await repo.rubricOf(trx, source.id) : null;
          await repo.insertCampaign(trx, {
            id,
            title: input.title,
            year: input.year,
            status: 'preparing',
            max_duration_s: source?.max_duration_s,
            rubric: rubric ? JSON.stringify(rubric) : null,
            copied_from: source?.id ?? null,
          });
          const songs = source && input.copySongs ? await repo.copySongs(trx, source.id, id) : 0;
          const periods = source && input.copyPeriods ? await repo.copyPeriods(trx, source.id, id, input.year - source.year) : 0;
          const detail = { title: input.title, year: input.year, copyFrom: source?.id ?? null, songs, periods, rubric: Boolean(rubric) };
          await recordAudit(trx, { actor, action: 'campaign.create', objectType: 'campaign', objectId: id, to: 'preparing', detail });
        })
        .finally(forgetList);
      return ref(id);
    },

    /** 筹备中 / 报送中 / 评审中. Opening one moves the campaign open before it to 评审中 (one takes submissions). */
    async setStatus(actor: CurrentUser, id: string, body: unknown): Promise<CampaignRef> {
      assertArea(actor, 'campaignAdmin');
      const { status } = parse(campaignStatusInput, body);
      await db
        .transaction()
        .execute(async (trx) => {
          const row = await repo.lockCampaign(trx, id);
          if (!row) throw notFound(CAMPAIGN_NOT_FOUND);
          if (row.status === 'closed') throw campaignClosed();
          if (row.status === status) return;
          const demoted = status === 'open' ? await repo.demoteOpen(trx, id) : [];
          await repo.updateCampaign(trx, id, { status });
          await recordAudit(trx, { actor, action: 'campaign.status', objectType: 'campaign', objectId: id, from: row.status, to: status, detail: { demoted } });
          for (const other of demoted)
            await recordAudit(trx, {
              actor,
              action: 'campaign.status',
              objectType: 'campaign',
              objectId: other,
              from: 'open',
              to: 'running',
              detail: { opened: id },
            });
        })
        .catch((err: unknown) => {
          // Two campaigns opened at the same moment: the one-open index lets only one through.
          if (isUniqueViolation(err)) throw invalidState('另一个活动刚刚开放了报送，请刷新页面后再试。');
          throw err;
        })
        .finally(forgetList);
      return ref(id);
    },

    /** Closing is final: from now on the database refuses every write to the campaign's rows. */
    async close(actor: CurrentUser, id: string, body: unknown): Promise<CampaignRef> {
      assertArea(actor, 'campaignAdmin');
      const { confirm } = parse(closeInput, body);
      if (!confirm) throw validationFailed([{ field: 'confirm', message: '关闭后该活动只能查看、不能再修改，请勾选确认' }]);
      await db
        .transaction()
        .execute(async (trx) => {
          const row = await repo.lockCampaign(trx, id);
          if (!row) throw notFound(CAMPAIGN_NOT_FOUND);
          if (row.status === 'closed') throw invalidState('该活动已经关闭。');
          const busy = await repo.unfinishedWork(trx, id);
          if (busy.openRounds > 0) throw invalidState(`还有 ${busy.openRounds} 个评审轮次正在进行，请先结束评审再关闭活动。`);
          if (busy.pendingMasters > 0) throw invalidState(`还有 ${busy.pendingMasters} 个播出母版正在制作，请等制作完成后再关闭活动。`);
          await repo.updateCampaign(trx, id, { status: 'closed', closed_at: new Date() });
          await recordAudit(trx, { actor, action: 'campaign.close', objectType: 'campaign', objectId: id, from: row.status, to: 'closed' });
        })
        .finally(forgetList);
      return ref(id);
    },

    /** Days after closing before the files of non-forwarded (and, if chosen, non-awarded) entries are deleted. */
    async setRetention(actor: CurrentUser, id: string, body: unknown): Promise<CampaignRef> {
      assertArea(actor, 'campaignAdmin');
      const input = parse(retentionInput, body);
      await db
        .transaction()
        .execute(async (trx) => {
          const row = await repo.lockCampaign(trx, id);
          if (!row) throw notFound(CAMPAIGN_NOT_FOUND);
          await repo.updateCampaign(trx, id, { retention_days: input.days, retention_not_awarded: input.includeNotAwarded });
          await recordAudit(trx, {
            actor,
            action: 'campaign.retention',
            objectType: 'campaign',
            objectId: id,
            from: row.retention_days === null ? null : String(row.retention_days),
            to: String(input.days),
            detail: { includeNotAwarded: input.includeNotAwarded },
          });
        })
        .finally(forgetList);
      return ref(id);
    },
  };
}

export type CampaignService = ReturnType<typeof createCampaignService>;
