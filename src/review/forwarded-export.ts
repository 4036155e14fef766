import type { Writable } from 'node:stream';
import ExcelJS from 'exceljs';
import type { CurrentUser } from '../accounts/account.types';
import { assertArea, entryScope } from '../accounts/policy';
import type { Campaign } from '../campaign/campaign.service';
import type { Db } from '../platform/db/database';
import { forbidden } from '../platform/errors';
import { listEntries } from '../entries/entry.repository';
import { ENTRY_STATUS_LABELS, QC_VERDICT_LABELS } from '../entries/entry.messages';
import { FORWARDED_STATES } from './review.service';
import { scopesOf } from '../consent/consent.gate';
import { NO_CONSENT, SCOPE_SHORT } from '../consent/consent.messages';

/**
 * The forwarded list as XLSX, one row per entry: 编号, 作品名称, 歌曲, 表演形式, 学段, 学校,
 * 县区, 排序, 时长, 技术检查. Written with exceljs' streaming writer, a page of rows at a time.
 */
export async function writeForwardedXlsx(
  db: Db,
  actor: CurrentUser,
  campaign: Campaign,
  filter: { periodId?: string; countyId?: string },
  out: Writable,
): Promise<void> {
  assertArea(actor, 'review');
  const scope = entryScope(actor);
  if (!scope) throw forbidden();
  const pageSize = 200;
  const pageOf = (page: number) =>
    listEntries(
      db,
      scope,
      { campaignId: campaign.id, statuses: FORWARDED_STATES, periodId: filter.periodId, countyId: filter.countyId, sort: 'rank' },
      { page, pageSize },
    );
  // The first page is read before the workbook exists: the writer emits bytes (and so the download's
  // headers) as soon as it is created, and a refusal or fault must still be an ordinary error answer.
  let result = await pageOf(1);
  const workbook = new ExcelJS.stream.xlsx.WorkbookWriter({ stream: out, useStyles: true });
  const sheet = workbook.addWorksheet('报送作品');
  sheet.columns = [
    { header: '编号', key: 'code', width: 12 },
    { header: '作品名称', key: 'title', width: 30 },
    { header: '歌曲', key: 'song', width: 24 },
    { header: '自选', key: 'custom', width: 6 },
    { header: '表演形式', key: 'form', width: 12 },
    { header: '学段', key: 'level', width: 8 },
    { header: '学校', key: 'school', width: 28 },
    { header: '县区', key: 'county', width: 10 },
    { header: '排序', key: 'rank', width: 6 },
    { header: '时长（秒）', key: 'duration', width: 10 },
    { header: '技术检查', key: 'qc', width: 10 },
    { header: '状态', key: 'status', width: 10 },
    { header: '监护人授权', key: 'consent', width: 16 },
  ];
  sheet.getRow(1).font = { bold: true };
  const label = (list: Array<{ code: string; label: string }>, code: string) => list.find((x) => x.code === code)?.label ?? code;
  for (let page = 1; ; page++) {
    if (page > 1) result = await pageOf(page);
    const consents = await scopesOf(
      db,
      result.items.map((r) => r.id),
    );
    for (const r of result.items) {
      const scopes = consents.get(r.id);
      sheet
        .addRow({
          code: r.code,
          title: r.title,
          song: r.song_id ? r.song_title : r.custom_song_title,
          custom: r.song_id ? '' : '是',
          form: label(campaign.forms, r.form),
          level: label(campaign.levels, r.level),
          school: r.school_name,
          county: r.county_name ?? '市直',
          rank: r.forward_rank ?? '',
          duration: r.v_duration_s === null ? '' : Math.round(Number(r.v_duration_s)),
          qc: r.v_qc_verdict ? QC_VERDICT_LABELS[r.v_qc_verdict] : '',
          status: ENTRY_STATUS_LABELS[r.status],
          consent: scopes ? scopes.map((s) => SCOPE_SHORT[s]).join('、') || '仅参赛' : NO_CONSENT,
        })
        .commit();
    }
    if (page * pageSize >= result.total) break;
  }
  await workbook.commit();
}
