import type { Writable } from 'node:stream';
import type { CurrentUser } from '../accounts/account.types';
import { AWARDED_STATUSES, assertArea, canSeeEntry } from '../accounts/policy';
import type { Campaign } from '../campaign/campaign.service';
import { assertConsentScope } from '../consent/consent.gate';
import type { EntryService } from '../entries/entry.service';
import type { EntryView } from '../entries/entry.types';
import type { AppJobQueue } from '../jobs';
import { AWARD_LABELS } from '../judging/judging.messages';
import type { AwardTier } from '../judging/judging.schema';
import { recordAudit } from '../platform/audit';
import type { Db } from '../platform/db/database';
import { invalidState, notFound } from '../platform/errors';
import { streamZip } from '../platform/storage/zip-stream';
import type { ObjectStore } from '../platform/storage/object-store';
import { sanitizeFileName } from '../platform/storage';
import { parse, type PageQuery } from '../platform/validate';
import { archiveQuery } from './newmedia.contract';
import { PACK_JOB } from './newmedia.job';
import { PACK_FILE_NAMES, PACK_NONE_READY, PACK_NONE_YET, PACK_NOT_ALLOWED, PACK_NOT_FOUND, PACK_NOT_READY, PACK_NO_VIDEO } from './newmedia.messages';
import { packTexts, postText, type PostDraft } from './newmedia.post';
import * as repo from './newmedia.repository';
import type { PackFileKind, PackOutputs, PackStatus } from './newmedia.schema';

/**
 * May this entry be packed (and its pack be downloaded)? The ONE place that decides: today, an
 * awarded entry (also when selected for TV or aired since). When consent scopes exist, the
 * 'newmedia' authorisation scope is checked here too.
 */
export function isPackAllowed(entry: { status: string }): boolean {
  return (AWARDED_STATUSES as readonly string[]).includes(entry.status);
}

export function assertPackAllowed(entry: { status: string }): void {
  if (!isPackAllowed(entry)) throw invalidState(PACK_NOT_ALLOWED);
}

export interface PackView {
  status: PackStatus;
  progress: number;
  error: string | null;
  maxBytes: number;
  outputs: Record<PackFileKind, { fileName: string; sizeBytes: number }> | null;
  post: PostDraft;
  downloadUrl: string | null;
  fileName: string;
  createdAt: string;
  readyAt: string | null;
}

export interface PackDeskItem {
  entry: EntryView;
  formLabel: string;
  pack: PackView | null;
}

/** The ZIP's (and its folder's) readable Chinese name: 吕梁颂_离石区XX小学_合唱. */
export function packName(entry: Pick<EntryView, 'song' | 'school' | 'county'>, formLabel: string): string {
  const county = entry.county?.name ?? '市直';
  const school = entry.school.name.startsWith(county) ? entry.school.name : `${county}${entry.school.name}`;
  return sanitizeFileName([entry.song.title, school, formLabel].map((p) => p.replace(/[\\/:*?"<>|\s_]+/g, '')).join('_'));
}

function packView(entry: EntryView, formLabel: string, p: repo.PackRow): PackView {
  const outputs = p.outputs as PackOutputs | null;
  return {
    status: p.status,
    progress: p.progress,
    error: p.error,
    maxBytes: Number(p.max_bytes),
    outputs: outputs
      ? (Object.fromEntries(
          (Object.keys(outputs) as PackFileKind[]).map((k) => [k, { fileName: PACK_FILE_NAMES[k], sizeBytes: Number(outputs[k].sizeBytes) }]),
        ) as PackView['outputs'])
      : null,
    post: p.texts.post,
    downloadUrl: p.status === 'ready' ? `/api/v1/entries/${entry.id}/media-pack.zip` : null,
    fileName: `${packName(entry, formLabel)}.zip`,
    createdAt: new Date(p.created_at).toISOString(),
    readyAt: p.ready_at ? new Date(p.ready_at).toISOString() : null,
  };
}

export function createNewMediaService(
  db: Db,
  deps: {
    store: ObjectStore;
    queue: AppJobQueue;
    entries: EntryService;
    campaign: (id?: string) => Promise<Campaign>;
    maxBytes: number;
    onEnqueued?: () => void;
    now?: () => Date;
  },
) {
  const now = deps.now ?? (() => new Date());
  const formLabelOf = (campaign: Campaign, entry: EntryView) => campaign.forms.find((f) => f.code === entry.form)?.label ?? entry.form;

  /** An awarded entry the actor may see, as a view; 404 otherwise (the same answer as no entry). */
  async function loadPackEntry(actor: CurrentUser, entryId: string): Promise<EntryView> {
    assertArea(actor, 'mediaPack');
    const entry = await deps.entries.load(entryId);
    if (!entry || !canSeeEntry(actor, entry) || !isPackAllowed(entry)) throw notFound(PACK_NOT_FOUND);
    return deps.entries.view(entryId);
  }

  async function logDownload(actor: CurrentUser, kind: 'media_pack' | 'media_pack_archive', entryId: string | null) {
    await repo.logDownload(db, { user_id: actor.id, username: actor.username, kind, entry_id: entryId });
  }

  /** Streams ZIP entries from the store one at a time (stored, not compressed: video does not shrink). */
  async function writeZip(out: Writable, folders: Array<{ name: string; outputs: PackOutputs; post: PostDraft }>): Promise<void> {
    const store = deps.store;
    await streamZip(
      out,
      folders.flatMap((f) => [
        ...(['oa', 'vertical', 'coverWide', 'coverSquare'] as const).map((kind) => ({
          name: `${f.name}/${PACK_FILE_NAMES[kind]}`,
          open: async () => (await store.get(f.outputs[kind].key)).body,
        })),
        { name: `${f.name}/${PACK_FILE_NAMES.post}`, data: Buffer.from(postText(f.post), 'utf8') },
      ]),
    );
  }

  return {
    /** Starts (or restarts) the pack of an awarded entry; the job is queued in the same transaction. */
    async start(actor: CurrentUser, entryId: string): Promise<PackView> {
      assertArea(actor, 'mediaPack');
      const found = await deps.entries.load(entryId);
      if (!found || !canSeeEntry(actor, found)) throw notFound(PACK_NOT_FOUND);
      assertPackAllowed(found);
      const entry = await deps.entries.view(entryId);
      const campaign = await deps.campaign(entry.campaignId);
      const formLabel = formLabelOf(campaign, entry);
      const texts = packTexts({
        campaignTitle: campaign.title,
        songTitle: entry.song.title,
        schoolName: entry.school.name,
        countyName: entry.county?.name ?? null,
        formLabel,
        teachers: entry.directorName,
        performerCount: entry.performerCount,
        awardLabel: entry.award ? (AWARD_LABELS[entry.award as AwardTier] ?? null) : null,
      });
      let stale: PackOutputs | null = null;
      await db.transaction().execute(async (trx) => {
        const e = await repo.lockEntry(trx, entryId);
        if (!e) throw notFound(PACK_NOT_FOUND);
        assertPackAllowed(e);
        await assertConsentScope(trx, entryId, 'newmedia');
        if (!e.video_id) throw invalidState(PACK_NO_VIDEO);
        const old = await repo.findPackOfEntry(trx, entryId);
        stale = (old?.outputs as PackOutputs | null) ?? null;
        const packId = await repo.replacePack(trx, {
          campaign_id: entry.campaignId,
          entry_id: entryId,
          video_id: e.video_id,
          texts: JSON.stringify(texts),
          max_bytes: deps.maxBytes,
          requested_by: actor.id,
          updated_at: now(),
        });
        await deps.queue.enqueue(trx, { type: PACK_JOB, payload: { packId, entryId }, maxAttempts: 2 });
        await recordAudit(trx, {
          actor,
          action: old ? 'entry.media_pack_restart' : 'entry.media_pack',
          objectType: 'entry',
          objectId: entryId,
          detail: { packId, previous: old ? { id: old.id, status: old.status } : null },
        });
      });
      const staleKeys = stale ? Object.values(stale as PackOutputs).map((o) => o.key) : [];
      await Promise.all(staleKeys.map((k) => deps.store.delete(k).catch(() => undefined)));
      deps.onEnqueued?.();
      const row = await repo.findPackOfEntry(db, entryId);
      return packView(entry, formLabel, row!);
    },

    /** Status, progress, outputs and post draft of an entry's pack (404 when none was started). */
    async item(actor: CurrentUser, entryId: string): Promise<PackView> {
      const entry = await loadPackEntry(actor, entryId);
      const p = await repo.findPackOfEntry(db, entryId);
      if (!p) throw notFound(PACK_NONE_YET);
      return packView(entry, formLabelOf(await deps.campaign(entry.campaignId), entry), p);
    },

    /** The desk: awarded entries (paginated) with their packs, one packs query per page. */
    async desk(actor: CurrentUser, campaignId: string, page: PageQuery) {
      assertArea(actor, 'mediaPack');
      // Only entries whose guardians' new-media permission stands (a withdrawal takes them off the desk).
      const result = await deps.entries.list(actor, { campaignId, statuses: [...AWARDED_STATUSES], consentScope: 'newmedia', sort: 'rank' }, page);
      const campaign = await deps.campaign(campaignId);
      const packs = await repo.packsOfEntries(
        db,
        result.items.map((e) => e.id),
      );
      const items: PackDeskItem[] = result.items.map((entry) => {
        const formLabel = formLabelOf(campaign, entry);
        const p = packs.get(entry.id);
        return { entry, formLabel, pack: p ? packView(entry, formLabel, p) : null };
      });
      return { ...result, items };
    },

    /** One pack as a streamed ZIP (folder named after the entry), logged. */
    async packZip(actor: CurrentUser, entryId: string, out: Writable, beforeWrite: (fileName: string) => void): Promise<void> {
      const entry = await loadPackEntry(actor, entryId);
      await assertConsentScope(db, entryId, 'newmedia');
      const p = await repo.findPackOfEntry(db, entryId);
      if (!p || p.status !== 'ready' || !p.outputs) throw notFound(PACK_NOT_READY);
      const name = packName(entry, formLabelOf(await deps.campaign(entry.campaignId), entry));
      await logDownload(actor, 'media_pack', entryId);
      beforeWrite(`${name}.zip`);
      await writeZip(out, [{ name, outputs: p.outputs as PackOutputs, post: p.texts.post }]);
    },

    /** Every ready pack the actor may download (or only `?entryId=…`) as one streamed ZIP, logged. */
    async archive(actor: CurrentUser, campaignId: string, query: unknown, out: Writable, beforeWrite: () => void): Promise<void> {
      assertArea(actor, 'mediaPack');
      const { entryId } = parse(archiveQuery, query);
      const wanted = entryId?.length ? new Set(entryId) : null;
      const ready = (await repo.readyPacks(db, campaignId)).filter((p) => !wanted || wanted.has(p.entry_id));
      const campaign = await deps.campaign(campaignId);
      const folders: Array<{ name: string; outputs: PackOutputs; post: PostDraft }> = [];
      if (ready.length) {
        // The actor's awarded entries in pages of 200 (a count and a list query each, never one per pack):
        // whether each may still be packed (awarded, new-media permission standing), and its name.
        const views = new Map<string, EntryView>();
        for (let page = 1; ; page++) {
          const r = await deps.entries.list(
            actor,
            { campaignId, statuses: [...AWARDED_STATUSES], consentScope: 'newmedia', sort: 'rank' },
            { page, pageSize: 200 },
          );
          for (const e of r.items) views.set(e.id, e);
          if (page * 200 >= r.total) break;
        }
        const used = new Set<string>();
        for (const p of ready) {
          const entry = views.get(p.entry_id);
          if (!entry || !isPackAllowed(entry) || !p.outputs) continue;
          let name = packName(entry, formLabelOf(campaign, entry));
          if (used.has(name)) name = `${name}_${entry.code}`;
          used.add(name);
          folders.push({ name, outputs: p.outputs as PackOutputs, post: p.texts.post });
        }
      }
      if (!folders.length) throw notFound(PACK_NONE_READY);
      await logDownload(actor, 'media_pack_archive', null);
      beforeWrite();
      await writeZip(out, folders);
    },

    /** Removes an entry's pack and its files (for a withdrawn permission; the consent merge calls it). */
    async removePack(actor: CurrentUser, entryId: string): Promise<void> {
      const removed = await db.transaction().execute(async (trx) => {
        const row = await repo.deletePack(trx, entryId);
        if (row) await recordAudit(trx, { actor, action: 'entry.media_pack_removed', objectType: 'entry', objectId: entryId, detail: { packId: row.id } });
        return row;
      });
      const outputs = removed?.outputs as PackOutputs | null | undefined;
      if (outputs) await Promise.all(Object.values(outputs).map((o) => deps.store.delete(o.key).catch(() => undefined)));
    },
  };
}

export type NewMediaService = ReturnType<typeof createNewMediaService>;
