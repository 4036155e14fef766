import type { Writable } from 'node:stream';
import ExcelJS from 'exceljs';
import type { CurrentUser } from '../accounts/account.types';
import type { CoverageGroup, LearningService, SchoolCoverage } from './learning.service';
import { LEARNING_LABELS as L } from './learning.messages';

/**
 * 人人会唱 coverage as XLSX (exceljs streaming writer): sheet 「学校」 one row per school in the
 * caller's scope (a school that has not reported says 未上报 and has empty shares, never 0 %),
 * sheet 「县区」 one row per county. The figures are the ones /api/v1/stats/learning answers.
 */
export async function writeLearningXlsx(learning: LearningService, actor: CurrentUser, query: { countyId?: string }, out: Writable): Promise<void> {
  const pageSize = 200;
  // Read (and authorise) before the workbook exists: a refusal must stay an ordinary error answer.
  let stats = await learning.stats(actor, query, { page: 1, pageSize });
  const workbook = new ExcelJS.stream.xlsx.WorkbookWriter({ stream: out, useStyles: true });
  const songColumns = stats.songs.flatMap((s, i) => [
    { header: `《${s.title}》${L.teachersLearned}`, key: `t${i}`, width: 14 },
    { header: `《${s.title}》教师占比（%）`, key: `tp${i}`, width: 14 },
    { header: `《${s.title}》${L.classesSinging}`, key: `c${i}`, width: 14 },
    { header: `《${s.title}》班级占比（%）`, key: `cp${i}`, width: 14 },
  ]);
  const songCells = (songs: SchoolCoverage['songs'], reported: boolean) =>
    Object.fromEntries(
      songs.flatMap((s, i) => [
        [`t${i}`, reported ? s.teachersLearned : null],
        [`tp${i}`, s.teacherShare],
        [`c${i}`, reported ? s.classesSinging : null],
        [`cp${i}`, s.classShare],
      ]),
    );

  const schools = workbook.addWorksheet('学校');
  schools.columns = [
    { header: '县区', key: 'county', width: 10 },
    { header: '学校', key: 'school', width: 28 },
    { header: '上报状态', key: 'state', width: 10 },
    { header: '最近上报时间', key: 'at', width: 18 },
    { header: L.teachers, key: 'teachers', width: 10 },
    { header: L.classes, key: 'classes', width: 10 },
    ...songColumns,
    { header: L.note, key: 'note', width: 30 },
  ];
  schools.getRow(1).font = { bold: true };
  for (let page = 1; ; page++) {
    if (page > 1) stats = await learning.stats(actor, query, { page, pageSize });
    for (const s of stats.schools.items) {
      schools
        .addRow({
          county: s.countyName,
          school: s.name,
          state: s.reported ? '已上报' : L.notReported,
          at: s.reportedAt ? beijingText(s.reportedAt) : '',
          teachers: s.teachers,
          classes: s.classes,
          ...songCells(s.songs, s.reported),
          note: s.note ?? '',
        })
        .commit();
    }
    if (page * pageSize >= stats.schools.total) break;
  }
  schools.commit();

  const counties = workbook.addWorksheet('县区');
  counties.columns = [
    { header: '县区', key: 'county', width: 12 },
    { header: '学校数', key: 'schools', width: 8 },
    { header: '已上报', key: 'reported', width: 8 },
    { header: L.notReported, key: 'notReported', width: 8 },
    { header: L.teachers, key: 'teachers', width: 10 },
    { header: L.classes, key: 'classes', width: 10 },
    ...songColumns,
  ];
  counties.getRow(1).font = { bold: true };
  const groupRow = (name: string, g: CoverageGroup) => ({
    county: name,
    schools: g.schools,
    reported: g.reported,
    notReported: g.notReported,
    teachers: g.teachers,
    classes: g.classes,
    ...songCells(g.songs, g.reported > 0),
  });
  for (const c of stats.counties) counties.addRow(groupRow(c.countyName, c)).commit();
  counties.addRow(groupRow(stats.scope.countyId ? '合计' : '全市', stats.totals)).commit();
  counties.commit();
  await workbook.commit();
}

const beijingText = (d: Date) => new Date(d.getTime() + 8 * 3600_000).toISOString().slice(0, 16).replace('T', ' ');
