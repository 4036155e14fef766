import type { Writable } from 'node:stream';
import ExcelJS from 'exceljs';
import type { CurrentUser } from '../accounts/account.types';
import { assertArea, canSeeEntry } from '../accounts/policy';
import type { Campaign } from '../campaign/campaign.service';
import { recordAudit } from '../platform/audit';
import type { Db } from '../platform/db/database';
import type { DB } from '../platform/db/schema';
import type { Transaction } from 'kysely';
import { invalidState, notFound, validationFailed } from '../platform/errors';
import type { AppJobQueue } from '../jobs';
import { streamZip } from '../platform/storage/zip-stream';
import type { ObjectStore } from '../platform/storage/object-store';
import { sanitizeFileName } from '../platform/storage';
import type { EntryService } from '../entries/entry.service';
import type { EntryView } from '../entries/entry.types';
import { AWARD_LABELS } from '../judging/judging.messages';
import { formatDuration } from '../platform/format';
import type { AwardTier } from '../judging/judging.schema';
import { parse, type Page, type PageQuery } from '../platform/validate';
import { airedInput, selectInput } from './broadcast.contract';
import { MASTER_STATUS_LABELS, NO_MASTER } from './broadcast.messages';
import { SCOPE_SHORT } from '../consent/consent.messages';
import type { MasterProfile, MasterStatus } from './broadcast.schema';
import * as repo from './broadcast.repository';
import { BROADCAST_JOB } from './broadcast.job';
import { assertConsentScope, hasConsentScope, scopesOf } from '../consent/consent.gate';
import type { ConsentScope } from '../consent/consent.schema';

const DESK_PAGE = 5000;

export interface MasterView {
  status: MasterStatus;
  profile: MasterProfile;
  pillarbox: 'black' | 'blur';
  progress: number;
  sizeBytes: number | null;
  error: string | null;
  needsPerson: boolean;
  loudness: { integratedLufs: number | null; truePeakDbtp: number | null } | null;
  downloadUrl: string | null;
  fileName: string;
}

export interface DeskItem {
  entry: EntryView;
  /** The form's Chinese name (合唱…), for the desk and the file name. */
  formLabel: string;
  master: MasterView | null;
  airedOn: string | null;
  /** The scopes the guardians' authorisation grants (the desk lists only entries with 'broadcast'). */
  consentScopes: ConsentScope[];
}

/** A readable Chinese file name: 吕梁颂_离石区XX小学_合唱.mxf (no path characters). */
/** The consent column of the desk and its exports: 电视、新媒体、公示. */
export const consentText = (scopes: ConsentScope[]) => scopes.map((s) => SCOPE_SHORT[s]).join('、') || '无';

export function masterFileName(entry: EntryView, formLabel: string, profile: MasterProfile): string {
  const county = entry.county?.name ?? '市直';
  const school = entry.school.name.startsWith(county) ? entry.school.name : `${county}${entry.school.name}`;
  const parts = [entry.song.title, school, formLabel].map((p) => p.replace(/[\\/:*?"<>|\s_]+/g, ''));
  return sanitizeFileName(`${parts.join('_')}.${profile === 'xdcam-hd422' ? 'mxf' : 'mp4'}`);
}

export function createBroadcastService(
  db: Db,
  deps: {
    store: ObjectStore;
    queue: AppJobQueue;
    entries: EntryService;
    campaign: (campaignId: string) => Promise<Campaign>;
    onEnqueued?: () => void;
    now?: () => Date;
  },
) {
  const now = deps.now ?? (() => new Date());

  /** Desk items for a list of entries: their masters and airing dates in one query. */
  async function deskItems(entries: EntryView[], campaign: Campaign): Promise<Array<{ item: DeskItem; objectKey: string | null }>> {
    const ids = entries.map((e) => e.id);
    const [found, scopes] = await Promise.all([repo.mastersAndAiring(db, ids), scopesOf(db, ids)]);
    return entries.map((e) => {
      const master = found.get(e.id)?.master ?? null;
      return { item: deskItem(e, campaign, master, found.get(e.id)?.airedOn ?? null, scopes.get(e.id) ?? []), objectKey: master?.object_key ?? null };
    });
  }

  function deskItem(entry: EntryView, campaign: Campaign, m: repo.MasterRow | null, airedOn: string | null, consentScopes: ConsentScope[]): DeskItem {
    const formLabel = campaign.forms.find((f) => f.code === entry.form)?.label ?? entry.form;
    return {
      entry,
      formLabel,
      airedOn,
      consentScopes,
      master: m
        ? {
            status: m.status,
            profile: m.profile,
            pillarbox: m.pillarbox,
            progress: m.progress,
            sizeBytes: m.size_bytes === null ? null : Number(m.size_bytes),
            error: m.error,
            needsPerson: m.needs_person,
            loudness: (m.loudness as MasterView['loudness']) ?? null,
            downloadUrl: m.status === 'ready' ? `/api/v1/broadcast/entries/${entry.id}/master` : null,
            fileName: masterFileName(entry, formLabel, m.profile),
          }
        : null,
    };
  }

  async function loadDeskEntry(actor: CurrentUser, entryId: string): Promise<EntryView> {
    assertArea(actor, 'broadcastDesk');
    const entry = await deps.entries.load(entryId);
    if (!entry || !canSeeEntry(actor, entry) || !['broadcast_selected', 'aired'].includes(entry.status)) throw notFound('节目不存在，或未被选送电视台。');
    // A withdrawn broadcast permission takes the entry off the desk: its master is no longer the TV's.
    if (!(await hasConsentScope(db, entryId, 'broadcast'))) throw notFound('节目不存在，或监护人已撤回电视播出授权。');
    return deps.entries.view(entryId);
  }

  async function logDownload(actor: CurrentUser, kind: 'master' | 'programme_xlsx' | 'programme_csv' | 'archive', entryId: string | null, range?: string) {
    await repo.logDownload(db, { user_id: actor.id, username: actor.username, kind, entry_id: entryId, range: range?.slice(0, 100) ?? null });
  }

  async function allSelected(actor: CurrentUser, campaignId: string): Promise<EntryView[]> {
    const items: EntryView[] = [];
    // Pages of 5,000 (a campaign selects a few hundred): one page, so the desk is a count, one list
    // query and one masters query whatever its length.
    for (let page = 1; ; page++) {
      const result = await deps.entries.list(
        actor,
        { campaignId, statuses: ['broadcast_selected', 'aired'], consentScope: 'broadcast', sort: 'rank' },
        { page, pageSize: DESK_PAGE },
      );
      items.push(...result.items);
      if (page * DESK_PAGE >= result.total) return items;
    }
  }

  /**
   * Selects entries inside the caller's transaction: each master replaced and its job queued with
   * the state change. Returns the superseded masters' object keys (deleted after commit).
   */
  async function selectIn(
    trx: Transaction<DB>,
    actor: CurrentUser,
    entryIds: readonly string[],
    profile: MasterProfile,
    pillarbox: 'black' | 'blur',
  ): Promise<string[]> {
    const stale: string[] = [];
    for (const entryId of entryIds) {
      const e = await repo.lockEntryForSelection(trx, entryId);
      if (!e) throw notFound();
      if (!['awarded', 'broadcast_selected'].includes(e.status)) throw invalidState('只有获奖作品可以选送电视台。');
      if (!e.video_id) throw invalidState('作品没有视频。');
      await assertConsentScope(trx, entryId, 'broadcast');
      // The previous master (and the job making it, if any) is superseded: its object goes after commit;
      // the new master has a new row and so a new key — an older job still running can never overwrite it.
      const staleKey = (await repo.findMasterOfEntry(trx, entryId))?.object_key ?? null;
      if (staleKey) stale.push(staleKey);
      const masterId = await repo.replaceMaster(trx, { entry_id: entryId, video_id: e.video_id, profile, pillarbox });
      await repo.setEntryStatus(trx, entryId, { status: 'broadcast_selected', updated_at: now() });
      await deps.queue.enqueue(trx, { type: BROADCAST_JOB, payload: { masterId, entryId }, maxAttempts: 2 });
      await recordAudit(trx, {
        actor,
        action: 'entry.broadcast',
        objectType: 'entry',
        objectId: entryId,
        from: e.status,
        to: 'broadcast_selected',
        detail: { profile, pillarbox },
      });
    }
    return stale;
  }

  return {
    /** The city selects an awarded entry for broadcast; the master job is queued in the same transaction. */
    async select(actor: CurrentUser, entryId: string, body: unknown): Promise<EntryView> {
      assertArea(actor, 'broadcastSelect');
      const { profile, pillarbox } = parse(selectInput, body);
      const staleKeys = await db.transaction().execute((trx) => selectIn(trx, actor, [entryId], profile, pillarbox));
      for (const key of staleKeys) await deps.store.delete(key).catch(() => undefined);
      deps.onEnqueued?.();
      return deps.entries.view(entryId);
    },

    /** Several awarded entries at once, all or none (one transaction): the city's broadcast page. */
    async selectMany(actor: CurrentUser, entryIds: readonly string[], body: unknown): Promise<number> {
      assertArea(actor, 'broadcastSelect');
      const { profile, pillarbox } = parse(selectInput, body);
      const ids = [...new Set(entryIds)];
      if (!ids.length) throw validationFailed([{ field: 'entryIds', message: '请至少勾选一件作品' }]);
      if (ids.length > 200) throw validationFailed([{ field: 'entryIds', message: '一次最多选送 200 件作品' }]);
      const staleKeys = await db.transaction().execute((trx) => selectIn(trx, actor, ids, profile, pillarbox));
      for (const key of staleKeys) await deps.store.delete(key).catch(() => undefined);
      deps.onEnqueued?.();
      return ids.length;
    },

    /** Awarded entries not yet selected for broadcast (the city's list to select from). */
    async awaitingSelection(actor: CurrentUser, campaignId: string, page: PageQuery): Promise<Page<EntryView>> {
      assertArea(actor, 'broadcastSelect');
      return deps.entries.list(actor, { campaignId, statuses: ['awarded'], sort: 'school' }, page);
    },

    /** The TV desk: every entry of the campaign selected, with its master and airing date. */
    async desk(actor: CurrentUser, campaignId: string): Promise<DeskItem[]> {
      assertArea(actor, 'broadcastDesk');
      const campaign = await deps.campaign(campaignId);
      return (await deskItems(await allSelected(actor, campaignId), campaign)).map((d) => d.item);
    },

    /**
     * One page of the desk (the HTML page: a campaign selects a few hundred entries, and 500 cards
     * with their forms were 600 KiB of HTML), the total, and whether any master is ready (for the
     * "download all" button, which takes every page). Three statements, whatever the page.
     */
    async deskPage(actor: CurrentUser, campaignId: string, page: PageQuery): Promise<Page<DeskItem> & { anyReady: boolean }> {
      assertArea(actor, 'broadcastDesk');
      const [campaign, result, anyReady] = await Promise.all([
        deps.campaign(campaignId),
        deps.entries.list(actor, { campaignId, statuses: ['broadcast_selected', 'aired'], consentScope: 'broadcast', sort: 'rank' }, page),
        repo.anyReadyMaster(db, campaignId, ['broadcast_selected', 'aired']),
      ]);
      const items = (await deskItems(result.items, campaign)).map((d) => d.item);
      return { items, total: result.total, page: result.page, pageSize: result.pageSize, anyReady };
    },

    async item(actor: CurrentUser, entryId: string): Promise<DeskItem> {
      const entry = await loadDeskEntry(actor, entryId);
      return (await deskItems([entry], await deps.campaign(entry.campaignId)))[0]!.item;
    },

    /** The stored master of an entry (for the download route), logged. */
    async masterForDownload(actor: CurrentUser, entryId: string, range?: string): Promise<{ key: string; fileName: string; contentType: string }> {
      const entry = await loadDeskEntry(actor, entryId);
      const found = (await repo.mastersAndAiring(db, [entryId])).get(entryId);
      const m = found?.master;
      if (!m || m.status !== 'ready' || !m.object_key) throw notFound('母版还没有制作完成。');
      const item = deskItem(entry, await deps.campaign(entry.campaignId), m, found.airedOn, ['broadcast']);
      await logDownload(actor, 'master', entryId, range);
      return { key: m.object_key, fileName: item.master!.fileName, contentType: m.profile === 'xdcam-hd422' ? 'application/mxf' : 'video/mp4' };
    },

    async markAired(actor: CurrentUser, entryId: string, body: unknown): Promise<void> {
      const entry = await loadDeskEntry(actor, entryId);
      const { airedOn } = parse(airedInput, body);
      await db.transaction().execute(async (trx) => {
        await repo.setEntryStatus(trx, entryId, { aired_on: airedOn, status: 'aired', updated_at: now() });
        await recordAudit(trx, { actor, action: 'entry.aired', objectType: 'entry', objectId: entryId, from: entry.status, to: 'aired', detail: { airedOn } });
      });
    },

    /** 节目单 as XLSX or CSV (UTF-8 with BOM so Excel opens it in Chinese). */
    async programmeSheet(actor: CurrentUser, campaignId: string, format: 'xlsx' | 'csv', out: Writable, beforeWrite?: () => void): Promise<void> {
      const items = await this.desk(actor, campaignId);
      await logDownload(actor, format === 'xlsx' ? 'programme_xlsx' : 'programme_csv', null);
      beforeWrite?.();
      const campaign = await deps.campaign(campaignId);
      const header = [
        '序号',
        '编号',
        '作品名称',
        '歌曲',
        '表演形式',
        '学校',
        '县区',
        '奖项',
        '时长',
        '母版状态',
        '响度（LUFS）',
        '真峰值（dBTP）',
        '母版文件名',
        '播出日期',
        '监护人授权',
      ];
      const rows = items.map((it, i) => {
        const e = it.entry;
        const d = e.video?.probe && typeof e.video.probe.durationS === 'number' ? Math.round(e.video.probe.durationS) : null;
        return [
          i + 1,
          e.code,
          e.title,
          e.song.title,
          campaign.forms.find((f) => f.code === e.form)?.label ?? e.form,
          e.school.name,
          e.county?.name ?? '市直',
          e.award ? (AWARD_LABELS[e.award as AwardTier] ?? e.award) : '',
          d === null ? '' : formatDuration(d),
          it.master ? MASTER_STATUS_LABELS[it.master.status] : NO_MASTER,
          it.master?.loudness?.integratedLufs ?? '',
          it.master?.loudness?.truePeakDbtp ?? '',
          it.master?.fileName ?? '',
          it.airedOn ?? '',
          consentText(it.consentScopes),
        ];
      });
      if (format === 'csv') {
        const cell = (v: unknown) => {
          const s = String(v ?? '');
          // Quote everything; neutralise spreadsheet formulas in user text (CSV injection).
          const safe = /^[=+\-@\t\r]/.test(s) && typeof v === 'string' ? `'${s}` : s;
          return `"${safe.replace(/"/g, '""')}"`;
        };
        out.write('\ufeff' + [header, ...rows].map((r) => r.map(cell).join(',')).join('\r\n') + '\r\n');
        out.end();
        return;
      }
      const workbook = new ExcelJS.stream.xlsx.WorkbookWriter({ stream: out, useStyles: true });
      const sheet = workbook.addWorksheet('节目单');
      sheet.addRow(header).commit();
      for (const r of rows) sheet.addRow(r).commit();
      await workbook.commit();
    },

    /** Every ready master as one ZIP, streamed from the store (stored, not compressed: video does not shrink). */
    async archive(actor: CurrentUser, campaignId: string, out: Writable, beforeWrite?: () => void): Promise<void> {
      assertArea(actor, 'broadcastDesk');
      const items = (await deskItems(await allSelected(actor, campaignId), await deps.campaign(campaignId))).filter(
        (d) => d.item.master?.status === 'ready' && d.objectKey,
      );
      if (!items.length) throw notFound('还没有可下载的母版。');
      await logDownload(actor, 'archive', null);
      beforeWrite?.();
      const used = new Set<string>();
      await streamZip(
        out,
        items.map(({ item: it, objectKey }) => {
          let name = it.master!.fileName;
          if (used.has(name)) name = name.replace(/(\.[a-z0-9]+)$/, `_${it.entry.code}$1`);
          used.add(name);
          return { name, open: async () => (await deps.store.get(objectKey!)).body };
        }),
      );
    },
  };
}

export type BroadcastService = ReturnType<typeof createBroadcastService>;
