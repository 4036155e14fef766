import type { Writable } from 'node:stream';
import archiver from 'archiver';
import ExcelJS from 'exceljs';
import type { CurrentUser } from '../accounts/account.types';
import { assertArea, canSeeEntry } from '../accounts/policy';
import type { Campaign } from '../campaign/campaign.service';
import { recordAudit } from '../platform/audit';
import type { Db } from '../platform/db/database';
import { invalidState, notFound } from '../platform/errors';
import type { JobQueue } from '../platform/queue/queue';
import type { ObjectStore } from '../platform/storage/object-store';
import { sanitizeFileName } from '../platform/storage';
import type { EntryService } from '../entries/entry.service';
import type { EntryView } from '../entries/entry.types';
import { AWARD_LABELS } from '../judging/judging.messages';
import { formatDuration } from '../platform/format';
import type { AwardTier } from '../judging/judging.schema';
import { parse } from '../platform/validate';
import { airedInput, selectInput } from './broadcast.contract';
import { MASTER_STATUS_LABELS, NO_MASTER } from './broadcast.messages';
import type { MasterProfile, MasterStatus } from './broadcast.schema';

export const BROADCAST_JOB = 'broadcast.master';
export const masterKey = (videoId: string, profile: MasterProfile) => `masters/${videoId}/${profile}.${profile === 'xdcam-hd422' ? 'mxf' : 'mp4'}`;

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
}

/** A readable Chinese file name: 吕梁颂_离石区XX小学_合唱.mxf (no path characters). */
export function masterFileName(entry: EntryView, formLabel: string, profile: MasterProfile): string {
  const county = entry.county?.name ?? '市直';
  const school = entry.school.name.startsWith(county) ? entry.school.name : `${county}${entry.school.name}`;
  const parts = [entry.song.title, school, formLabel].map((p) => p.replace(/[\\/:*?"<>|\s_]+/g, ''));
  return sanitizeFileName(`${parts.join('_')}.${profile === 'xdcam-hd422' ? 'mxf' : 'mp4'}`);
}

/** A `date` column as "YYYY-MM-DD" whichever way the driver hands it over (PGlite gives a UTC-midnight Date). */
export function calendarDay(value: unknown): string | null {
  if (value instanceof Date) return value.toISOString().slice(0, 10);
  return typeof value === 'string' ? value.slice(0, 10) : null;
}

export function createBroadcastService(db: Db, deps: { store: ObjectStore; queue: JobQueue; entries: EntryService; campaign: () => Promise<Campaign>; onEnqueued?: () => void; now?: () => Date }) {
  const now = deps.now ?? (() => new Date());

  async function deskItem(entry: EntryView, campaign: Campaign): Promise<DeskItem> {
    const m = await db.selectFrom('masters').selectAll().where('entry_id', '=', entry.id).executeTakeFirst();
    const row = await db.selectFrom('entries').select('aired_on').where('id', '=', entry.id).executeTakeFirstOrThrow();
    const formLabel = campaign.forms.find((f) => f.code === entry.form)?.label ?? entry.form;
    return {
      entry,
      formLabel,
      airedOn: calendarDay(row.aired_on),
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
    return deps.entries.view(entryId);
  }

  async function logDownload(actor: CurrentUser, kind: 'master' | 'programme_xlsx' | 'programme_csv' | 'archive', entryId: string | null, range?: string) {
    await db.insertInto('downloads').values({ user_id: actor.id, username: actor.username, kind, entry_id: entryId, range: range?.slice(0, 100) ?? null }).execute();
  }

  async function allSelected(actor: CurrentUser): Promise<EntryView[]> {
    const items: EntryView[] = [];
    for (let page = 1; ; page++) {
      const result = await deps.entries.list(actor, { statuses: ['broadcast_selected', 'aired'], sort: 'rank' }, { page, pageSize: 200 });
      items.push(...result.items);
      if (page * 200 >= result.total) return items;
    }
  }

  return {
    /** The city selects an awarded entry for broadcast; the master job is queued in the same transaction. */
    async select(actor: CurrentUser, entryId: string, body: unknown): Promise<EntryView> {
      assertArea(actor, 'broadcastSelect');
      const { profile, pillarbox } = parse(selectInput, body);
      let staleKey: string | null = null;
      await db.transaction().execute(async (trx) => {
        const e = await trx.selectFrom('entries').select(['id', 'status', 'video_id']).where('id', '=', entryId).forUpdate().executeTakeFirst();
        if (!e) throw notFound();
        if (!['awarded', 'broadcast_selected'].includes(e.status)) throw invalidState('只有获奖作品可以选送电视台。');
        if (!e.video_id) throw invalidState('作品没有视频。');
        const previous = await trx.selectFrom('masters').select('object_key').where('entry_id', '=', entryId).executeTakeFirst();
        // A master under another key (other profile or video) is no longer wanted; the same key is overwritten by the new job.
        if (previous?.object_key && previous.object_key !== masterKey(e.video_id, profile)) staleKey = previous.object_key;
        await trx.deleteFrom('masters').where('entry_id', '=', entryId).execute();
        await trx.insertInto('masters').values({ entry_id: entryId, video_id: e.video_id, profile, pillarbox }).execute();
        await trx.updateTable('entries').set({ status: 'broadcast_selected', updated_at: now() }).where('id', '=', entryId).execute();
        await deps.queue.enqueue(trx, { type: BROADCAST_JOB, payload: { entryId }, maxAttempts: 2 });
        await recordAudit(trx, { actor, action: 'entry.broadcast', objectType: 'entry', objectId: entryId, from: e.status, to: 'broadcast_selected', detail: { profile, pillarbox } });
      });
      if (staleKey) await deps.store.delete(staleKey).catch(() => undefined);
      deps.onEnqueued?.();
      return deps.entries.view(entryId);
    },

    /** The TV desk: every selected entry with its master and airing date. */
    async desk(actor: CurrentUser): Promise<DeskItem[]> {
      assertArea(actor, 'broadcastDesk');
      const campaign = await deps.campaign();
      return Promise.all((await allSelected(actor)).map((e) => deskItem(e, campaign)));
    },

    async item(actor: CurrentUser, entryId: string): Promise<DeskItem> {
      const entry = await loadDeskEntry(actor, entryId);
      return deskItem(entry, await deps.campaign());
    },

    /** The stored master of an entry (for the download route), logged. */
    async masterForDownload(actor: CurrentUser, entryId: string, range?: string): Promise<{ key: string; fileName: string; contentType: string }> {
      const item = await this.item(actor, entryId);
      const m = await db.selectFrom('masters').select(['object_key', 'status', 'profile']).where('entry_id', '=', entryId).executeTakeFirst();
      if (!m || m.status !== 'ready' || !m.object_key) throw notFound('母版还没有制作完成。');
      await logDownload(actor, 'master', entryId, range);
      return { key: m.object_key, fileName: item.master!.fileName, contentType: m.profile === 'xdcam-hd422' ? 'application/mxf' : 'video/mp4' };
    },

    async markAired(actor: CurrentUser, entryId: string, body: unknown): Promise<void> {
      const entry = await loadDeskEntry(actor, entryId);
      const { airedOn } = parse(airedInput, body);
      await db.transaction().execute(async (trx) => {
        await trx.updateTable('entries').set({ aired_on: airedOn, status: 'aired', updated_at: now() }).where('id', '=', entryId).execute();
        await recordAudit(trx, { actor, action: 'entry.aired', objectType: 'entry', objectId: entryId, from: entry.status, to: 'aired', detail: { airedOn } });
      });
    },

    /** 节目单 as XLSX or CSV (UTF-8 with BOM so Excel opens it in Chinese). */
    async programmeSheet(actor: CurrentUser, format: 'xlsx' | 'csv', out: Writable, beforeWrite?: () => void): Promise<void> {
      const items = await this.desk(actor);
      await logDownload(actor, format === 'xlsx' ? 'programme_xlsx' : 'programme_csv', null);
      beforeWrite?.();
      const campaign = await deps.campaign();
      const header = ['序号', '编号', '作品名称', '歌曲', '表演形式', '学校', '县区', '奖项', '时长', '母版状态', '响度（LUFS）', '真峰值（dBTP）', '母版文件名', '播出日期'];
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
          e.award ? AWARD_LABELS[e.award as AwardTier] ?? e.award : '',
          d === null ? '' : formatDuration(d),
          it.master ? MASTER_STATUS_LABELS[it.master.status] : NO_MASTER,
          it.master?.loudness?.integratedLufs ?? '',
          it.master?.loudness?.truePeakDbtp ?? '',
          it.master?.fileName ?? '',
          it.airedOn ?? '',
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
    async archive(actor: CurrentUser, out: Writable, beforeWrite?: () => void): Promise<void> {
      const items = (await this.desk(actor)).filter((i) => i.master?.status === 'ready');
      if (!items.length) throw notFound('还没有可下载的母版。');
      await logDownload(actor, 'archive', null);
      beforeWrite?.();
      const zip = archiver('zip', { store: true });
      // The client may go away mid-archive (a TV desk on a slow line): stop reading the store then,
      // instead of waiting forever for an `entry` event that backpressure will never let come.
      let gone = false;
      out.once('close', () => {
        if (!out.writableFinished) {
          gone = true;
          zip.abort();
        }
      });
      const done = new Promise<void>((resolve, reject) => {
        out.on('close', resolve);
        out.on('finish', resolve);
        zip.on('error', reject);
      });
      zip.pipe(out);
      const used = new Set<string>();
      for (const it of items) {
        if (gone) return;
        const m = await db.selectFrom('masters').select('object_key').where('entry_id', '=', it.entry.id).executeTakeFirstOrThrow();
        let name = it.master!.fileName;
        if (used.has(name)) name = name.replace(/(\.[a-z0-9]+)$/, `_${it.entry.code}$1`);
        used.add(name);
        const { body } = await deps.store.get(m.object_key!);
        if (gone) {
          body.destroy();
          return;
        }
        zip.append(body, { name });
        // One file at a time: wait until the archiver has consumed this stream (or the client left).
        // Listeners are removed each time (they used to pile up: one `error` listener per file).
        await new Promise<void>((resolve, reject) => {
          const cleanup = () => {
            zip.off('entry', onEntry);
            zip.off('error', onError);
            out.off('close', onClose);
          };
          const onEntry = () => (cleanup(), resolve());
          const onError = (err: Error) => (cleanup(), reject(err));
          const onClose = () => (cleanup(), body.destroy(), resolve());
          zip.on('entry', onEntry);
          zip.on('error', onError);
          out.on('close', onClose);
        });
      }
      if (gone) return;
      await zip.finalize();
      await done;
    },
  };
}

export type BroadcastService = ReturnType<typeof createBroadcastService>;
