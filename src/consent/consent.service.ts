import crypto from 'node:crypto';
import fs from 'node:fs';
import type { CurrentUser } from '../accounts/account.types';
import { assertArea, assertOwnSchoolEntry, assertSeeEntry } from '../accounts/policy';
import type { Campaign } from '../campaign/campaign.service';
import type { EntryService } from '../entries/entry.service';
import { deletePack } from '../newmedia/newmedia.repository';
import { notify } from '../notifications/notify';
import { allowArchiveWrite } from '../platform/db/archive-guard';
import { recordAudit } from '../platform/audit';
import type { Transaction } from 'kysely';
import type { Db } from '../platform/db/database';
import type { DB } from '../platform/db/schema';
import { AppError, invalidState, notFound, validationFailed } from '../platform/errors';
import { objectKeys } from '../platform/storage/object-keys';
import type { ObjectStore } from '../platform/storage/object-store';
import { parse } from '../platform/validate';
import { consentInput, eraseInput, settingsInput, withdrawInput } from './consent.contract';
import { grantedScopes } from './consent.gate';
import { NO_SCAN, SCAN_BAD_TYPE, SCAN_EMPTY, SCOPE_LABELS } from './consent.messages';
import * as repo from './consent.repository';
import type { ConsentScope, ScanType } from './consent.schema';
import { consentTemplatePdf } from './consent.template';
import { scanExtension, writeSchoolExport } from './data-export';
import type { Writable } from 'node:stream';

export const MAX_SCAN_BYTES = 10 * 1024 * 1024;
const TEMPLATE_CACHE = 200;

export interface ConsentView {
  entryId: string;
  /** none: nothing recorded; granted: recorded and not wholly withdrawn; withdrawn: the whole permission withdrawn */
  state: 'none' | 'granted' | 'withdrawn';
  declaration: boolean;
  signerName: string | null;
  signerPost: string | null;
  scopes: ConsentScope[];
  scan: { type: ScanType; name: string | null; sizeBytes: number | null; url: string } | null;
  recordedAt: string | null;
  updatedAt: string | null;
  withdrawnAt: string | null;
  withdrawalReason: string | null;
  erasedAt: string | null;
  /** the city's setting: only a signed scan counts */
  requireScan: boolean;
  /** whether this authorisation lets the entry be forwarded to the city */
  sufficient: boolean;
  templateUrl: string;
}

/** Sniffs the first bytes of a scan: PDF, JPEG or PNG, else null. */
export function sniffScan(head: Buffer): ScanType | null {
  if (head.subarray(0, 5).toString('latin1') === '%PDF-') return 'application/pdf';
  if (head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) return 'image/jpeg';
  if (head.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return 'image/png';
  return null;
}

export interface ScanFile {
  path: string;
  originalname: string;
  size: number;
}

export function createConsentService(deps: {
  db: Db;
  store: ObjectStore;
  entries: EntryService;
  campaign: (id?: string) => Promise<Campaign>;
  now?: () => Date;
}) {
  const { db, store } = deps;
  const now = deps.now ?? (() => new Date());
  /** Recently made templates by the facts they print (oldest dropped first). */
  const templates = new Map<string, Uint8Array>();

  function present(entryId: string, row: repo.ConsentRow | undefined, requireScan: boolean): ConsentView {
    const state = !row ? 'none' : row.withdrawn_at ? 'withdrawn' : 'granted';
    return {
      entryId,
      state,
      declaration: row?.declaration ?? false,
      signerName: row?.signer_name ?? null,
      signerPost: row?.signer_post ?? null,
      scopes: grantedScopes(row),
      scan:
        row?.scan_key && row.scan_type
          ? {
              type: row.scan_type,
              name: row.scan_name,
              sizeBytes: row.scan_bytes === null ? null : Number(row.scan_bytes),
              url: `/api/v1/entries/${entryId}/consent/scan`,
            }
          : null,
      recordedAt: row ? new Date(row.recorded_at).toISOString() : null,
      updatedAt: row ? new Date(row.updated_at).toISOString() : null,
      withdrawnAt: row?.withdrawn_at ? new Date(row.withdrawn_at).toISOString() : null,
      withdrawalReason: row?.withdrawal_reason ?? null,
      erasedAt: row?.erased_at ? new Date(row.erased_at).toISOString() : null,
      requireScan,
      sufficient: state === 'granted' && (!requireScan || Boolean(row?.scan_key) || Boolean(row?.erased_at)),
      templateUrl: `/api/v1/entries/${entryId}/consent/template.pdf`,
    };
  }

  /** Who may read an entry's authorisation and scan: its school, its county, the city. */
  async function loadReadable(actor: CurrentUser, entryId: string) {
    assertArea(actor, 'consent');
    return assertSeeEntry(actor, await deps.entries.load(entryId));
  }

  async function view(entryId: string): Promise<ConsentView> {
    const [row, requireScan] = await Promise.all([repo.findConsent(db, entryId), repo.requireScanForEntry(db, entryId)]);
    return present(entryId, row, requireScan);
  }

  /**
   * What losing scopes does, in the caller's transaction: a broadcast selection is cancelled (back to
   * 获奖, the master removed; new media: the pack removed — their object keys are returned for deletion
   * after commit), the TV and the
   * new-media editors are told when the entry was theirs, and the change is audited.
   */
  async function applyLoss(
    trx: Transaction<DB>,
    actor: CurrentUser,
    entry: NonNullable<Awaited<ReturnType<typeof repo.lockEntry>>>,
    lost: ConsentScope[],
  ): Promise<string[]> {
    const stale: string[] = [];
    const label = `《${entry.title}》（${entry.code}）`;
    if (lost.includes('broadcast')) {
      if (entry.status === 'broadcast_selected') {
        const masterKey = await repo.deleteMaster(trx, entry.id);
        if (masterKey) stale.push(masterKey);
        await repo.setEntryStatus(trx, entry.id, 'awarded');
        await recordAudit(trx, {
          actor,
          action: 'entry.broadcast_revoked',
          objectType: 'entry',
          objectId: entry.id,
          from: 'broadcast_selected',
          to: 'awarded',
          reason: '监护人撤回电视播出授权',
        });
      }
      if (entry.status === 'broadcast_selected' || entry.status === 'aired') {
        await notify(trx, {
          kind: 'consent.broadcast_withdrawn',
          recipients: { roles: ['tv'] },
          title: `${label}的电视播出授权已撤回，请停止播出并删除已下载的母版`,
          link: '/broadcast',
          entryId: entry.id,
        });
      }
    }
    if (lost.includes('newmedia')) {
      // The entry's new-media pack goes too: its row now, its files after commit.
      const pack = await deletePack(trx, entry.id);
      if (pack) {
        stale.push(...Object.values((pack.outputs ?? {}) as Record<string, { key: string }>).map((o) => o.key));
        await recordAudit(trx, { actor, action: 'entry.media_pack_removed', objectType: 'entry', objectId: entry.id, reason: '监护人撤回新媒体发布授权' });
      }
    }
    if (lost.includes('newmedia') && ['awarded', 'broadcast_selected', 'aired'].includes(entry.status)) {
      await notify(trx, {
        kind: 'consent.newmedia_withdrawn',
        recipients: { roles: ['newmedia'] },
        title: `${label}的新媒体发布授权已撤回，请撤下已发布的内容`,
        entryId: entry.id,
      });
    }
    return stale;
  }

  async function storeScan(entryId: string, file: ScanFile): Promise<{ key: string; type: ScanType }> {
    if (file.size === 0) throw new AppError(415, 'unsupported_media', '文件是空的', SCAN_EMPTY);
    const head = Buffer.alloc(8);
    const fd = await fs.promises.open(file.path, 'r');
    try {
      await fd.read(head, 0, 8, 0);
    } finally {
      await fd.close();
    }
    const type = sniffScan(head);
    if (!type) throw new AppError(415, 'unsupported_media', '不支持的文件格式', SCAN_BAD_TYPE);
    const key = objectKeys.consentScan(entryId, crypto.randomUUID());
    await store.putFile(key, file.path, { contentType: 'application/octet-stream', move: true });
    return { key, type };
  }

  return {
    view,

    async get(actor: CurrentUser, entryId: string): Promise<ConsentView> {
      await loadReadable(actor, entryId);
      return view(entryId);
    },

    /** Before a byte of a scan is accepted: the caller is the entry's own school. */
    async authorizeRecord(actor: CurrentUser, entryId: string): Promise<void> {
      assertArea(actor, 'consentRecord');
      assertOwnSchoolEntry(actor, await deps.entries.load(entryId));
    },

    /** The school records (or re-records) the authorisation; a scan replaces the previous one, else the previous one is kept. */
    async record(actor: CurrentUser, entryId: string, body: unknown, file?: ScanFile): Promise<ConsentView> {
      try {
        assertArea(actor, 'consentRecord');
        assertOwnSchoolEntry(actor, await deps.entries.load(entryId));
        const input = parse(consentInput, body);
        const requireScan = await repo.requireScanForEntry(db, entryId);
        const previous = await repo.findConsent(db, entryId);
        const keepsScan = Boolean(previous?.scan_key) && !file;
        if (input.declaration && !input.signerName) throw validationFailed([{ field: 'signerName', message: '请填写声明人姓名' }]);
        if (!input.declaration && !file && !keepsScan)
          throw validationFailed([{ field: 'declaration', message: '请勾选学校声明并填写声明人，或上传签字的授权书扫描件' }]);
        if (requireScan && !file && !keepsScan) throw validationFailed([{ field: 'scan', message: '市教育局要求上传签字的授权书扫描件（PDF、JPG 或 PNG）' }]);
        const scan = file ? { ...(await storeScan(entryId, file)), name: displayName(file.originalname), bytes: file.size } : null;
        let stale: Array<string | null> = [];
        try {
          await db.transaction().execute(async (trx) => {
            const entry = await repo.lockEntry(trx, entryId);
            if (!entry) throw notFound();
            const before = await repo.lockConsent(trx, entryId);
            const lost = grantedScopes(before).filter((s) => !input.scopes.includes(s));
            await repo.upsertConsent(trx, {
              entry_id: entryId,
              campaign_id: entry.campaign_id,
              school_id: entry.school_id,
              declaration: input.declaration,
              signer_name: input.declaration ? input.signerName : null,
              signer_post: input.declaration ? input.signerPost : null,
              scope_broadcast: input.scopes.includes('broadcast'),
              scope_newmedia: input.scopes.includes('newmedia'),
              scope_public: input.scopes.includes('public'),
              scan_key: scan ? scan.key : (before?.scan_key ?? null),
              scan_type: scan ? scan.type : (before?.scan_type ?? null),
              scan_name: scan ? scan.name : (before?.scan_name ?? null),
              scan_bytes: scan ? scan.bytes : before?.scan_bytes === undefined || before.scan_bytes === null ? null : Number(before.scan_bytes),
              recorded_by: actor.id,
            });
            const staleKeys = lost.length ? await applyLoss(trx, actor, entry, lost) : [];
            // Names are personal data: the audit keeps what was granted, not who signed.
            await recordAudit(trx, {
              actor,
              action: 'consent.record',
              objectType: 'entry',
              objectId: entryId,
              from: before ? grantedScopes(before).join(',') || (before.withdrawn_at ? 'withdrawn' : 'none') : null,
              to: input.scopes.join(',') || 'none',
              detail: { declaration: input.declaration, scan: Boolean(scan) || keepsScan, scanReplaced: Boolean(scan && before?.scan_key), lost },
            });
            stale = [...staleKeys, scan && before?.scan_key ? before.scan_key : null];
          });
        } catch (err) {
          if (scan) await store.delete(scan.key).catch(() => undefined);
          throw err;
        }
        for (const key of stale) if (key) await store.delete(key).catch(() => undefined);
        return view(entryId);
      } finally {
        if (file?.path) await fs.promises.rm(file.path, { force: true });
      }
    },

    /** Withdraws scopes (or, with none named, the whole permission): by the entry's school, or the city on request. */
    async withdraw(actor: CurrentUser, entryId: string, body: unknown): Promise<ConsentView> {
      assertArea(actor, 'consentWithdraw');
      const loaded = await deps.entries.load(entryId);
      if (actor.role === 'school') assertOwnSchoolEntry(actor, loaded);
      else assertSeeEntry(actor, loaded);
      const input = parse(withdrawInput, body);
      const whole = input.scopes.length === 0;
      let staleKeys: string[] = [];
      await db.transaction().execute(async (trx) => {
        // A guardian's withdrawal holds after the campaign closed, too.
        await allowArchiveWrite(trx);
        const entry = await repo.lockEntry(trx, entryId);
        if (!entry) throw notFound();
        const before = await repo.lockConsent(trx, entryId);
        if (!before) throw invalidState('该作品还没有登记授权书，无需撤回。');
        if (before.withdrawn_at) throw invalidState('该作品的授权已经全部撤回了。');
        const granted = grantedScopes(before);
        const lost = whole ? granted : input.scopes.filter((s) => granted.includes(s));
        if (!whole && lost.length === 0) throw invalidState(`该作品没有授予“${input.scopes.map((s) => SCOPE_LABELS[s]).join('、')}”，无需撤回。`);
        await repo.updateConsent(trx, entryId, {
          ...(lost.includes('broadcast') && { scope_broadcast: false }),
          ...(lost.includes('newmedia') && { scope_newmedia: false }),
          ...(lost.includes('public') && { scope_public: false }),
          ...(whole && { withdrawn_at: now(), withdrawal_reason: input.reason }),
        });
        staleKeys = await applyLoss(trx, actor, entry, lost);
        await recordAudit(trx, {
          actor,
          action: 'consent.withdraw',
          objectType: 'entry',
          objectId: entryId,
          from: granted.join(',') || 'none',
          to: whole ? 'withdrawn' : granted.filter((s) => !lost.includes(s)).join(',') || 'none',
          reason: input.reason,
          detail: { whole, scopes: lost, by: actor.role === 'school' ? 'school' : 'city' },
        });
        if (actor.role !== 'school') {
          await notify(trx, {
            kind: 'consent.withdrawn_by_city',
            recipients: { schoolId: entry.school_id },
            title: `市教育局已按申请撤回《${entry.title}》的${whole ? '全部授权' : lost.map((s) => SCOPE_LABELS[s]).join('、') + '授权'}`,
            body: input.reason,
            link: `/entries/${entryId}`,
            entryId,
          });
        }
      });
      for (const key of staleKeys) await store.delete(key).catch(() => undefined);
      return view(entryId);
    },

    /** The scan for the download route: readable only by the entry's school, its county and the city; the reading is audited. */
    async scanForDownload(actor: CurrentUser, entryId: string): Promise<{ key: string; contentType: ScanType; fileName: string }> {
      const entry = await loadReadable(actor, entryId);
      const row = await repo.findConsent(db, entryId);
      if (!row?.scan_key || !row.scan_type) throw notFound(NO_SCAN);
      await recordAudit(db, { actor, action: 'consent.scan_read', objectType: 'entry', objectId: entryId });
      return { key: row.scan_key, contentType: row.scan_type, fileName: `授权书_${entry.code}.${scanExtension(row.scan_type)}` };
    },

    /** The template 授权书, prefilled with the entry (kept while the facts it prints are unchanged: subsetting the font costs ~0.5 s). */
    async template(actor: CurrentUser, entryId: string): Promise<{ bytes: Uint8Array; fileName: string }> {
      await loadReadable(actor, entryId);
      const entry = await deps.entries.view(entryId);
      const campaign = await deps.campaign(entry.campaignId);
      const key = JSON.stringify([entry.code, entry.title, entry.song.title, entry.school.name, entry.county?.name ?? null, campaign.title]);
      let bytes = templates.get(key);
      if (!bytes) {
        bytes = await consentTemplatePdf(entry, campaign);
        if (templates.size >= TEMPLATE_CACHE) templates.delete(templates.keys().next().value!);
        templates.set(key, bytes);
      }
      return { bytes, fileName: `授权书_${entry.code}.pdf` };
    },

    /** The setting of one campaign (the request's): entries are judged by their own campaign's. */
    async settings(actor: CurrentUser, campaignId: string): Promise<{ requireScan: boolean }> {
      assertArea(actor, 'consent');
      return { requireScan: await repo.requireScan(db, campaignId) };
    },

    async saveSettings(actor: CurrentUser, campaignId: string, body: unknown): Promise<{ requireScan: boolean }> {
      assertArea(actor, 'consentSettings');
      const { requireScan } = parse(settingsInput, body);
      await db.transaction().execute(async (trx) => {
        const before = await repo.requireScan(trx, campaignId);
        await repo.saveSettings(trx, campaignId, requireScan, actor.id);
        await recordAudit(trx, {
          actor,
          action: 'consent.settings',
          objectType: 'campaign',
          objectId: campaignId,
          from: before ? 'scan' : 'declaration',
          to: requireScan ? 'scan' : 'declaration',
        });
      });
      return { requireScan };
    },

    /** The school's own data as a streamed ZIP (data-export.ts). */
    exportSchool: (actor: CurrentUser, schoolId: string, out: Writable, beforeWrite?: () => void) =>
      writeSchoolExport({ db, store, campaign: deps.campaign }, actor, schoolId, out, beforeWrite),

    /** The erase page: the school and how much personal data its entries hold. */
    async personalData(actor: CurrentUser, schoolId: string) {
      assertArea(actor, 'dataErase');
      const school = await repo.findSchool(db, schoolId);
      if (!school) throw notFound('学校不存在。');
      return { school: { id: school.id, name: school.name }, ...(await repo.personalDataCounts(db, schoolId)) };
    },

    /** The city erases a school's personal data on request: directors' and signers' names, scans. Audited; the scans leave the bucket. */
    async eraseSchool(actor: CurrentUser, schoolId: string, body: unknown): Promise<{ entries: number; consents: number; scans: number }> {
      assertArea(actor, 'dataErase');
      const school = await repo.findSchool(db, schoolId);
      if (!school) throw notFound('学校不存在。');
      const { reason } = parse(eraseInput, body);
      const result = await db.transaction().execute(async (trx) => {
        await allowArchiveWrite(trx); // erasure on request reaches closed campaigns too
        const r = await repo.eraseSchoolPersonalData(trx, schoolId, now());
        await recordAudit(trx, {
          actor,
          action: 'school.erase_personal_data',
          objectType: 'school',
          objectId: schoolId,
          reason,
          detail: { entries: r.entries, consents: r.consents, scans: r.scanKeys.length },
        });
        return r;
      });
      for (const key of result.scanKeys) await store.delete(key);
      return { entries: result.entries, consents: result.consents, scans: result.scanKeys.length };
    },
  };
}

/** What is shown of an uploaded file's name: no path, no control or bidi characters, at most 120 characters. */
function displayName(name: string): string {
  const base = name.split(/[\\/]/).pop() ?? '';
  // eslint-disable-next-line no-control-regex -- control characters are what this pattern finds
  const clean = base.replace(/[\u0000-\u001f\u007f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, '').trim();
  return [...clean].slice(0, 120).join('') || '授权书';
}

export type ConsentService = ReturnType<typeof createConsentService>;
