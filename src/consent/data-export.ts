import type { Writable } from 'node:stream';
import type { Readable } from 'node:stream';
import { streamZip, type ZipEntry } from '../platform/storage/zip-stream';
import type { CurrentUser } from '../accounts/account.types';
import { assertArea } from '../accounts/policy';
import type { Campaign } from '../campaign/campaign.service';
import { ENTRY_STATUS_LABELS } from '../entries/entry.messages';
import type { EntryStatus } from '../entries/entry.schema';
import { recordAudit } from '../platform/audit';
import type { Db } from '../platform/db/database';
import { notFound } from '../platform/errors';
import type { ObjectStore } from '../platform/storage/object-store';
import { CONSENT_ACTION_LABELS, SCOPE_SHORT } from './consent.messages';
import * as repo from './consent.repository';
import type { ConsentScope, ScanType } from './consent.schema';

const PAGE = 500;

const EXTENSION: Record<ScanType, string> = { 'application/pdf': 'pdf', 'image/jpeg': 'jpg', 'image/png': 'png' };
export const scanExtension = (type: ScanType): string => EXTENSION[type];

/**
 * A school's own data as one ZIP, streamed (stored, not compressed: videos do not shrink):
 * 说明.txt, 作品.json, 作品.csv, 操作记录.csv, 视频/<编号>_<原文件名> (the originals as uploaded) and
 * 授权书/<编号>.<pdf|jpg|png> (the signed scans). Only the school itself may export it (a school's
 * data request); the export is audited. Files are read from the store one at a time.
 */
export async function writeSchoolExport(
  deps: { db: Db; store: ObjectStore; campaign: () => Promise<Campaign> },
  actor: CurrentUser,
  schoolId: string,
  out: Writable,
  beforeWrite?: () => void,
): Promise<void> {
  assertArea(actor, 'dataExport');
  if (actor.schoolId !== schoolId) throw notFound('学校不存在，或不是您的学校。');
  const school = await repo.findSchool(deps.db, schoolId);
  if (!school) throw notFound('学校不存在。');
  const campaign = await deps.campaign();
  const entries: repo.SchoolEntryRow[] = [];
  for (let after = ''; ;) {
    const page = await repo.schoolEntries(deps.db, schoolId, after, PAGE);
    entries.push(...page);
    if (page.length < PAGE) break;
    after = page[page.length - 1].code;
  }
  const history: Awaited<ReturnType<typeof repo.schoolHistory>> = [];
  for (let after = 0; ;) {
    const page = await repo.schoolHistory(deps.db, schoolId, after, PAGE);
    history.push(...page);
    if (page.length < PAGE) break;
    after = page[page.length - 1].id;
  }
  await recordAudit(deps.db, { actor, action: 'school.data_export', objectType: 'school', objectId: schoolId, detail: { entries: entries.length } });
  beforeWrite?.();

  const label = (list: Array<{ code: string; label: string }>, code: string) => list.find((x) => x.code === code)?.label ?? code;
  const scopesOf = (e: repo.SchoolEntryRow): ConsentScope[] =>
    e.declaration === null || e.withdrawn_at ? [] : (['broadcast', 'newmedia', 'public'] as const).filter((s) => e[repo.SCOPE_COLUMN[s]]);
  const videoName = (e: repo.SchoolEntryRow) => `视频/${e.code}_${safe(e.original_name ?? 'video')}`;
  const scanName = (e: repo.SchoolEntryRow) => `授权书/${e.code}.${scanExtension(e.scan_type as ScanType)}`;
  const iso = (d: Date | string | null) => (d ? new Date(d).toISOString() : null);
  const json = entries.map((e) => ({
    code: e.code,
    title: e.title,
    status: e.status,
    statusLabel: ENTRY_STATUS_LABELS[e.status as EntryStatus],
    song: e.song_title ?? e.custom_song_title,
    form: label(campaign.forms, e.form),
    level: label(campaign.levels, e.level),
    performerCount: e.performer_count,
    directorName: e.director_name,
    description: e.description,
    award: e.award,
    createdAt: iso(e.created_at),
    submittedAt: iso(e.submitted_at),
    forwardedAt: iso(e.forwarded_at),
    airedOn: e.aired_on,
    video: e.original_key ? { file: videoName(e), originalName: e.original_name, sizeBytes: Number(e.size_bytes) } : null,
    consent:
      e.declaration === null
        ? null
        : {
            declaration: e.declaration,
            signerName: e.signer_name,
            signerPost: e.signer_post,
            scopes: scopesOf(e),
            scan: e.scan_key ? scanName(e) : null,
            recordedAt: iso(e.recorded_at),
            withdrawnAt: iso(e.withdrawn_at),
            withdrawalReason: e.withdrawal_reason,
          },
  }));
  const csv = (rows: unknown[][]) =>
    '\ufeff' +
    rows
      .map((r) =>
        r
          .map((v) => {
            const s = v === null || v === undefined ? '' : String(v);
            const safeCell = typeof v === 'string' && /^[=+\-@\t\r]/.test(s) ? `'${s}` : s;
            return `"${safeCell.replace(/"/g, '""')}"`;
          })
          .join(','),
      )
      .join('\r\n') +
    '\r\n';
  const entriesCsv = csv([
    ['编号', '作品名称', '状态', '歌曲', '表演形式', '学段', '参演人数', '指导教师', '奖项', '授权范围', '授权书扫描件', '视频文件'],
    ...json.map((e) => [
      e.code,
      e.title,
      e.statusLabel,
      e.song,
      e.form,
      e.level,
      e.performerCount,
      e.directorName,
      e.award,
      e.consent ? (e.consent.withdrawnAt ? '已撤回' : e.consent.scopes.map((s) => SCOPE_SHORT[s]).join('、') || '无') : '未登记',
      e.consent?.scan ?? '',
      e.video?.file ?? '',
    ]),
  ]);
  const historyCsv = csv([
    ['时间', '作品编号', '操作人', '操作', '原状态', '新状态', '原因'],
    ...history.map((h) => [iso(h.at), h.code, h.actor_name, CONSENT_ACTION_LABELS[h.action] ?? h.action, h.from_state, h.to_state, h.reason]),
  ]);
  const readme = [
    `${school.name} 在“${campaign.title}”平台上的数据，导出于 ${new Date().toISOString()}。`,
    '',
    '作品.json / 作品.csv：全部作品（含草稿）及其监护人授权情况；',
    '操作记录.csv：作品的全部操作记录；',
    '视频/：上传的原始视频文件；',
    '授权书/：上传的授权书扫描件。',
    '',
    '本文件含未成年人的肖像和声音，请妥善保管，不要转发。',
  ].join('\r\n');

  const files: Array<{ key: string; name: string }> = [];
  for (const e of entries) {
    if (e.original_key) files.push({ key: e.original_key, name: videoName(e) });
    if (e.scan_key && e.scan_type) files.push({ key: e.scan_key, name: scanName(e) });
  }
  const store = deps.store;
  const schoolName = school.name;
  async function* contents(): AsyncGenerator<ZipEntry> {
    yield { name: '说明.txt', data: readme };
    yield { name: '作品.json', data: JSON.stringify({ school: { name: schoolName }, campaign: campaign.title, entries: json }, null, 2) };
    yield { name: '作品.csv', data: entriesCsv };
    yield { name: '操作记录.csv', data: historyCsv };
    for (const f of files) {
      const body = await openOrNull(store, f.key);
      if (body) yield { name: f.name, open: async () => body }; // an original already removed (retention): the listing still names it
    }
  }
  await streamZip(out, contents());
}

async function openOrNull(store: ObjectStore, key: string): Promise<Readable | null> {
  if (!(await store.head(key))) return null;
  return (await store.get(key)).body;
}

/** A file name as a ZIP member: no path separators or control characters. */
function safe(name: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are what this pattern removes
  return [...name.replace(/[\\/:*?"<>|\u0000-\u001f\u007f]+/g, '_')].slice(0, 100).join('') || 'video';
}
