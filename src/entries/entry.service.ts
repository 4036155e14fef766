import crypto from 'node:crypto';
import type { CurrentUser } from '../accounts/account.types';
import { assertArea, assertOwnSchoolEntry, assertSeeEntry, entryScope } from '../accounts/policy';
import { NO_OPEN_CAMPAIGN, NOT_OPEN_CAMPAIGN } from '../campaign/campaign.messages';
import { findCampaign, formExists, levelExists, nextSubmitPeriod, openCampaignRow, songInCampaign } from '../campaign/campaign.repository';
import { findSchool } from '../org/school.repository';
import { recordAudit } from '../platform/audit';
import type { Db } from '../platform/db/database';
import { isUniqueViolation } from '../platform/db/errors';
import { forbidden, invalidState, notFound, validationFailed, type FieldError } from '../platform/errors';
import { parse, parsePartial, type Page, type PageQuery } from '../platform/validate';
import { assertConsentForForwarding } from '../consent/consent.gate';
import { entryInput } from './entry.contract';
import { presentEntry } from './entry.presenter';
import * as repo from './entry.repository';
import { transitionEntry, type Transition } from './entry-transition';
import { EDITABLE, type EntryView } from './entry.types';

const CODE_ALPHABET = '23456789ABCDEFGHJKMNPQRSTUVWXYZ';
/** A short code that reveals neither school nor county, e.g. CX-7K2Q9. */
export function newEntryCode(): string {
  const bytes = crypto.randomBytes(5);
  return `CX-${Array.from(bytes, (b) => CODE_ALPHABET[b % CODE_ALPHABET.length]).join('')}`;
}

export function createEntryService(db: Db, deps: { now?: () => Date } = {}) {
  const now = deps.now ?? (() => new Date());

  async function load(id: string) {
    const row = await repo.findEntry(db, id);
    return row ? { ...row, schoolId: row.school_id, countyId: row.county_id } : undefined;
  }

  async function view(id: string): Promise<EntryView> {
    const row = await repo.findEntry(db, id);
    if (!row) throw notFound();
    const replacement = await repo.findReplacement(db, id, row.video_id);
    return {
      ...presentEntry(row),
      replacement: replacement
        ? { id: replacement.id, status: replacement.status, progress: replacement.progress, error: replacement.error, originalName: replacement.original_name }
        : null,
    };
  }

  /** Checks the song / form / level references and the "exactly one song" rule. */
  async function validateRefs(
    campaignId: string,
    input: { songId?: string | null; customSongTitle?: string | null; form?: string; level?: string },
    full: boolean,
  ): Promise<void> {
    const errors: FieldError[] = [];
    if (full || 'songId' in input || 'customSongTitle' in input) {
      if (Boolean(input.songId) === Boolean(input.customSongTitle)) {
        errors.push({ field: 'songId', message: '请选择一首指定歌曲，或填写自选歌曲名称（二选一）' });
      } else if (input.songId && !(await songInCampaign(db, input.songId, campaignId))) {
        errors.push({ field: 'songId', message: '歌曲不存在' });
      }
    }
    if (input.form !== undefined && !(await formExists(db, input.form))) {
      errors.push({ field: 'form', message: '表演形式不存在' });
    }
    if (input.level !== undefined && !(await levelExists(db, input.level))) {
      errors.push({ field: 'level', message: '学段不存在' });
    }
    if (errors.length) throw validationFailed(errors);
  }

  async function transition(actor: CurrentUser, id: string, t: Transition): Promise<EntryView> {
    await transitionEntry(db, actor, id, t);
    return view(id);
  }

  return {
    load,
    view,

    async create(actor: CurrentUser, body: unknown): Promise<EntryView> {
      assertArea(actor, 'entryCreate');
      const input = parse(entryInput, body);
      // Schools submit to the campaign open for submissions only, whichever one they are looking at.
      const open = await openCampaignRow(db);
      if (!open) throw invalidState(NO_OPEN_CAMPAIGN);
      await validateRefs(open.id, input, true);
      const school = actor.schoolId ? await findSchool(db, actor.schoolId) : undefined;
      if (!school) throw forbidden('您的账号没有关联学校。');
      for (let attempt = 0; ; attempt++) {
        try {
          const id = await db.transaction().execute(async (trx) => {
            const newId = await repo.insertEntry(trx, {
              code: newEntryCode(),
              campaign_id: open.id,
              school_id: school.id,
              county_id: school.countyId,
              title: input.title,
              song_id: input.songId,
              custom_song_title: input.songId ? null : input.customSongTitle,
              form: input.form,
              level: input.level,
              performer_count: input.performerCount,
              director_name: input.directorName,
              description: input.description,
              created_by: actor.id,
            });
            await recordAudit(trx, { actor, action: 'entry.create', objectType: 'entry', objectId: newId, to: 'draft' });
            return newId;
          });
          return view(id);
        } catch (err) {
          if (isUniqueViolation(err) && attempt < 5) continue; // code collision: draw again
          throw err;
        }
      }
    },

    async update(actor: CurrentUser, id: string, body: unknown): Promise<EntryView> {
      assertOwnSchoolEntry(actor, await load(id));
      const patch = parsePartial(entryInput, body);
      const current = (await repo.findEntry(db, id))!;
      const merged = {
        songId: 'songId' in patch || 'customSongTitle' in patch ? (patch.songId ?? null) : current.song_id,
        customSongTitle: 'songId' in patch || 'customSongTitle' in patch ? (patch.customSongTitle ?? null) : current.custom_song_title,
      };
      await validateRefs(current.campaign_id, { ...merged, form: patch.form, level: patch.level }, 'songId' in patch || 'customSongTitle' in patch);
      await db.transaction().execute(async (trx) => {
        const locked = await repo.lockEntry(trx, id);
        if (!locked || !EDITABLE.includes(locked.status)) throw invalidState('作品已提交，不能再修改。如需修改，请先撤回（县区审核前）。');
        await repo.updateEntry(trx, id, {
          ...(patch.title !== undefined && { title: patch.title }),
          ...(('songId' in patch || 'customSongTitle' in patch) && {
            song_id: merged.songId,
            custom_song_title: merged.songId ? null : merged.customSongTitle,
          }),
          ...(patch.form !== undefined && { form: patch.form }),
          ...(patch.level !== undefined && { level: patch.level }),
          ...(patch.performerCount !== undefined && { performer_count: patch.performerCount }),
          ...(patch.directorName !== undefined && { director_name: patch.directorName }),
          ...(patch.description !== undefined && { description: patch.description }),
        });
        await recordAudit(trx, { actor, action: 'entry.update', objectType: 'entry', objectId: id });
      });
      return view(id);
    },

    async get(actor: CurrentUser, id: string): Promise<EntryView> {
      assertArea(actor, 'entries');
      assertSeeEntry(actor, await load(id));
      return view(id);
    },

    async list(actor: CurrentUser, filter: repo.EntryFilter, page: PageQuery): Promise<Page<EntryView>> {
      assertArea(actor, 'entries');
      const scope = entryScope(actor);
      if (!scope) throw forbidden();
      const result = await repo.listEntries(db, scope, filter, page);
      return { ...result, items: result.items.map(presentEntry) };
    },

    /**
     * Submit: needs a processed video whose QC verdict is not `fail`, and an open period.
     * A 市直 school's entry goes straight to the city (`forwarded`).
     */
    async submit(actor: CurrentUser, id: string): Promise<EntryView> {
      assertOwnSchoolEntry(actor, await load(id));
      return transition(actor, id, {
        action: 'entry.submit',
        from: EDITABLE,
        refusal: (s) => (s === 'submitted' || s === 'forwarded' ? '作品已经提交过了。' : '当前状态不能提交。'),
        to: async (trx, entry) => {
          const video = entry.video_id ? await repo.findVideo(trx, entry.video_id) : undefined;
          if (!video) throw invalidState('请先上传作品视频。');
          if (video.status !== 'ready')
            throw invalidState(video.status === 'failed' ? '视频处理失败，请重新上传后再提交。' : '视频还在处理中，请处理完成后再提交。');
          if (video.qc_verdict === 'fail') throw invalidState('视频未通过技术检查，请根据检查结果重新录制或导出后上传。');
          const replacement = await repo.findReplacement(trx, entry.id, entry.video_id);
          if (replacement && replacement.status !== 'failed') throw invalidState('更换的视频还在处理中，处理完成后再提交（或等它处理失败后用当前视频提交）。');
          // Inside the transaction, every query goes through `trx` (PGlite has one connection).
          const campaign = await findCampaign(trx, entry.campaign_id);
          if (campaign.status !== 'open') throw invalidState(NOT_OPEN_CAMPAIGN);
          const period = await nextSubmitPeriod(trx, entry.campaign_id, now());
          if (!period) throw invalidState('当前没有开放的报送期，不能提交。');
          const t = now();
          // A 市直 school's entry goes straight to the city: it needs the guardians' authorisation now.
          if (entry.county_id === null) await assertConsentForForwarding(trx, entry);
          return entry.county_id === null
            ? { status: 'forwarded', patch: { period_id: period.id, submitted_at: t, forwarded_at: t, return_reason: null } }
            : { status: 'submitted', patch: { period_id: period.id, submitted_at: t, return_reason: null } };
        },
      });
    },

    /** Withdraw: back to draft, allowed until the entry is forwarded to the city. */
    async withdraw(actor: CurrentUser, id: string): Promise<EntryView> {
      assertOwnSchoolEntry(actor, await load(id));
      return transition(actor, id, {
        action: 'entry.withdraw',
        from: ['submitted', 'returned'],
        refusal: (s) => (s === 'draft' ? '作品还是草稿，无需撤回。' : '作品已报送市教育局，不能再撤回。'),
        to: async () => ({ status: 'draft', patch: { period_id: null, submitted_at: null } }),
      });
    },

    async history(actor: CurrentUser, id: string) {
      assertArea(actor, 'entries');
      assertSeeEntry(actor, await load(id));
      const rows = await repo.entryHistory(db, id);
      return rows.map((r) => ({
        at: new Date(r.at).toISOString(),
        actor: r.actor_display_name ?? (r.actor_name === 'system' ? '系统' : r.actor_name),
        action: r.action,
        from: r.from_state,
        to: r.to_state,
        reason: r.reason,
      }));
    },
  };
}

export type EntryService = ReturnType<typeof createEntryService>;
