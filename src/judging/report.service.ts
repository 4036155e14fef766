import type { Writable } from 'node:stream';
import ExcelJS from 'exceljs';
import type { CurrentUser } from '../accounts/account.types';
import { assertArea } from '../accounts/policy';
import { findCampaignRow } from '../campaign/campaign.repository';
import type { Db } from '../platform/db/database';
import { forbidden, notFound } from '../platform/errors';
import { formatScore } from './aggregation';
import { formatDateTime } from '../platform/format';
import { AWARD_LABELS } from './judging.messages';
import type { RubricCriterion } from './judging.types';
import { renderDocument, type Block } from './report.pdf';
import * as repo from './report.repository';
import type { ResultsService } from './results.service';

const two = (x: number | null) => (x === null ? '—' : formatScore(x));
const pct = (a: number, b: number) => (b ? `${((100 * a) / b).toFixed(1)}%` : '—');
const stamp = formatDateTime;

export type ReportFigures = Awaited<ReturnType<typeof repo.reportFigures>>;

/**
 * 县区成绩单 (issue 18): per county and for the city, the figures straight from the database at
 * the time of the request; as JSON, PDF (made per request and sent with a Chinese file name; nothing
 * is kept) and XLSX (streamed, with the entries' raw and normalised scores). And the 评委签字表.
 */
export function createReportService(db: Db, deps: { results: ResultsService; now?: () => Date }) {
  const now = deps.now ?? (() => new Date());

  /** County: its own county only (another → 404); the city's report: city and 监督 only. */
  async function scope(actor: CurrentUser, countyId: string | null) {
    const user = assertArea(actor, 'reports');
    if (countyId === null) {
      if (user.role === 'county') throw forbidden('县区账号只能查看本县区的成绩单。');
      return { countyId: null, name: '全市' };
    }
    if (user.role === 'county' && user.countyId !== countyId) throw notFound('县区不存在，或不在您的管辖范围内。');
    const c = await repo.countyRow(db, countyId);
    if (!c) throw notFound('县区不存在，或不在您的管辖范围内。');
    return { countyId: c.id, name: c.name };
  }

  async function round(campaignId: string, roundId: string | null) {
    if (roundId) {
      const r = await repo.roundRow(db, roundId);
      if (!r || r.campaign_id !== campaignId) throw notFound('评审轮次不存在。');
      return r;
    }
    return (await repo.newestScoredRound(db, campaignId)) ?? null;
  }

  async function build(actor: CurrentUser, campaignId: string, countyId: string | null, roundId: string | null) {
    const s = await scope(actor, countyId);
    const r = await round(campaignId, roundId);
    const figures = await repo.reportFigures(db, campaignId, s.countyId, r?.id ?? null);
    const rubric = (r?.rubric ?? []) as RubricCriterion[];
    const criteria = rubric.map((c) => {
      const m = figures.criteria.find((x) => x.key === c.key);
      return { key: c.key, label: c.label, max: c.max, scope: m?.scope ?? null, city: m?.city ?? null, scoreCount: m?.scoreCount ?? 0 };
    });
    const campaign = await findCampaignRow(db, campaignId);
    return {
      scope: s,
      campaign: campaign?.title ?? '',
      round: r ? { id: r.id, name: r.name } : null,
      generatedAt: now().toISOString(),
      ...figures,
      criteria,
    };
  }

  type Report = Awaited<ReturnType<typeof build>>;

  function blocks(rep: Report): Block[] {
    const f = rep;
    const out: Block[] = [
      { kind: 'title', text: `${rep.scope.name}成绩单` },
      { kind: 'text', text: rep.campaign },
      { kind: 'text', text: `生成时间：${stamp(new Date(rep.generatedAt))}（数据截至此时）`, size: 9 },
      { kind: 'heading', text: '一、参与情况' },
      {
        kind: 'table',
        headers: ['项目', '数量'],
        widths: [300, 120],
        align: ['left', 'right'],
        rows: [
          ['学校总数', String(f.schools)],
          ['有作品的学校', `${f.schoolsWithEntries}（${pct(f.schoolsWithEntries, f.schools)}）`],
          ['已提交作品（不含草稿）', String(f.funnel.submitted)],
        ],
      },
      { kind: 'heading', text: '二、作品分布' },
      {
        kind: 'table',
        headers: ['歌曲', '件数'],
        widths: [300, 120],
        align: ['left', 'right'],
        rows: f.bySong.map((x) => [x.label ? `《${x.label}》` : '（未填）', String(x.count)]),
      },
      { kind: 'table', headers: ['表演形式', '件数'], widths: [300, 120], align: ['left', 'right'], rows: f.byForm.map((x) => [x.label, String(x.count)]) },
      { kind: 'heading', text: '三、视频质量检查' },
      {
        kind: 'table',
        headers: ['项目', '件数'],
        widths: [300, 120],
        align: ['left', 'right'],
        rows: [
          ['质量检查未通过', String(f.qc.fail)],
          ['质量检查有提醒', String(f.qc.warn)],
          ['视频处理失败', String(f.qc.processingFailed)],
        ],
      },
      { kind: 'heading', text: '四、退回与原因' },
      { kind: 'text', text: `累计退回 ${f.returns.total} 次；目前仍待学校修改 ${f.returns.returnedNow} 件。` },
      ...(f.returns.reasons.length
        ? [
            {
              kind: 'table',
              headers: ['退回原因', '次数'],
              widths: [400, 80],
              align: ['left', 'right'],
              rows: f.returns.reasons.map((x) => [x.reason || '（未填写）', String(x.count)]),
            } as Block,
          ]
        : []),
      { kind: 'heading', text: '五、报送名额' },
      {
        kind: 'table',
        headers: ['报送期', '县区', '名额', '已报送', '使用率'],
        widths: [140, 110, 70, 70, 80],
        align: ['left', 'left', 'right', 'right', 'right'],
        rows: f.quota.map((q) => [q.period, q.county, String(q.quota), String(q.used), pct(q.used, q.quota)]),
      },
      { kind: 'heading', text: '六、评审进程' },
      {
        kind: 'table',
        headers: ['已报送市级', '入围', '获奖'],
        widths: [140, 140, 140],
        align: ['right', 'right', 'right'],
        rows: [
          [
            String(f.funnel.forwarded),
            `${f.funnel.shortlisted}（${pct(f.funnel.shortlisted, f.funnel.forwarded)}）`,
            `${f.funnel.awarded}（${pct(f.funnel.awarded, f.funnel.forwarded)}）`,
          ],
        ],
      },
    ];
    if (rep.round) {
      out.push({ kind: 'heading', text: `七、各评分项平均分（${rep.round.name}）` });
      out.push({
        kind: 'table',
        headers: rep.scope.countyId ? ['评分项', '满分', rep.scope.name, '全市', '评分数'] : ['评分项', '满分', '全市', '评分数'],
        widths: rep.scope.countyId ? [160, 60, 90, 90, 80] : [200, 70, 110, 90],
        align: rep.scope.countyId ? ['left', 'right', 'right', 'right', 'right'] : ['left', 'right', 'right', 'right'],
        rows: rep.criteria.map((c) =>
          rep.scope.countyId
            ? [c.label, String(c.max), two(c.scope), two(c.city), String(c.scoreCount)]
            : [c.label, String(c.max), two(c.city), String(c.scoreCount)],
        ),
      });
    }
    return out;
  }

  return {
    figures: build,

    /** What the reports page offers the caller: counties (a county: its own), the city's report, the rounds with panels. */
    async choices(actor: CurrentUser, campaignId: string) {
      const user = assertArea(actor, 'reports');
      const counties = (await repo.allCounties(db)).filter((c) => user.role !== 'county' || c.id === user.countyId);
      const city = user.role !== 'county';
      const rounds = city ? await repo.roundsWithJudges(db, campaignId) : [];
      return { counties, city, rounds };
    },

    /**
     * The report as a PDF (tens of kilobytes, made for this request and sent as it is: nothing is kept)
     * and its Chinese file name.
     */
    async pdf(actor: CurrentUser, campaignId: string, countyId: string | null, roundId: string | null): Promise<{ bytes: Uint8Array; fileName: string }> {
      const rep = await build(actor, campaignId, countyId, roundId);
      const bytes = await renderDocument(blocks(rep), { title: `${rep.scope.name}成绩单`, footer: `${rep.campaign} · ${rep.scope.name}成绩单` });
      return { bytes, fileName: `${rep.scope.name}成绩单.pdf` };
    },

    /** The file name of the XLSX, checked before the first byte (the route sets the download headers from it). */
    async xlsxName(actor: CurrentUser, countyId: string | null): Promise<string> {
      return `${(await scope(actor, countyId)).name}成绩单.xlsx`;
    },

    /** The report as XLSX (streamed), with every entry of the scope in the round: raw mean and normalised score. */
    async xlsx(actor: CurrentUser, campaignId: string, countyId: string | null, roundId: string | null, out: Writable): Promise<void> {
      const rep = await build(actor, campaignId, countyId, roundId);
      const ranked = rep.round ? (await deps.results.rankingChecked(rep.round.id)).rows : [];
      const countyName = rep.scope.countyId ? rep.scope.name : null;
      const rows = countyName ? ranked.filter((r) => (r.countyName ?? '市直') === countyName) : ranked;
      const wb = new ExcelJS.stream.xlsx.WorkbookWriter({ stream: out, useStyles: true });
      const add = (name: string, columns: Array<{ header: string; key: string; width: number }>, data: Array<Record<string, unknown>>) => {
        const sheet = wb.addWorksheet(name);
        sheet.columns = columns;
        for (const d of data) sheet.addRow(d).commit();
        sheet.commit();
      };
      add(
        '概况',
        [
          { header: '项目', key: 'k', width: 28 },
          { header: '数值', key: 'v', width: 16 },
        ],
        [
          { k: '范围', v: rep.scope.name },
          { k: '生成时间', v: stamp(new Date(rep.generatedAt)) },
          { k: '学校总数', v: rep.schools },
          { k: '有作品的学校', v: rep.schoolsWithEntries },
          { k: '已提交作品', v: rep.funnel.submitted },
          { k: '已报送市级', v: rep.funnel.forwarded },
          { k: '入围', v: rep.funnel.shortlisted },
          { k: '获奖', v: rep.funnel.awarded },
          { k: '质量检查未通过', v: rep.qc.fail },
          { k: '质量检查有提醒', v: rep.qc.warn },
          { k: '视频处理失败', v: rep.qc.processingFailed },
          { k: '累计退回次数', v: rep.returns.total },
          { k: '目前待修改', v: rep.returns.returnedNow },
        ],
      );
      add(
        '按歌曲',
        [
          { header: '歌曲', key: 'label', width: 30 },
          { header: '件数', key: 'count', width: 10 },
        ],
        rep.bySong,
      );
      add(
        '按表演形式',
        [
          { header: '表演形式', key: 'label', width: 20 },
          { header: '件数', key: 'count', width: 10 },
        ],
        rep.byForm,
      );
      add(
        '退回原因',
        [
          { header: '退回原因', key: 'reason', width: 50 },
          { header: '次数', key: 'count', width: 10 },
        ],
        rep.returns.reasons,
      );
      add(
        '报送名额',
        [
          { header: '报送期', key: 'period', width: 20 },
          { header: '县区', key: 'county', width: 12 },
          { header: '名额', key: 'quota', width: 8 },
          { header: '已报送', key: 'used', width: 8 },
        ],
        rep.quota,
      );
      add(
        '评分项平均分',
        [
          { header: '评分项', key: 'label', width: 16 },
          { header: '满分', key: 'max', width: 8 },
          { header: rep.scope.name, key: 'scope', width: 12 },
          { header: '全市', key: 'city', width: 12 },
          { header: '评分数', key: 'scoreCount', width: 8 },
        ],
        rep.criteria.map((c) => ({ ...c, scope: c.scope === null ? '' : Number(two(c.scope)), city: c.city === null ? '' : Number(two(c.city)) })),
      );
      add(
        '作品得分',
        [
          { header: '名次', key: 'rank', width: 6 },
          { header: '编号', key: 'code', width: 14 },
          { header: '作品名称', key: 'title', width: 28 },
          { header: '学校', key: 'school', width: 24 },
          { header: '原始平均分', key: 'raw', width: 12 },
          { header: '标准化得分', key: 'score', width: 12 },
          { header: '评分数', key: 'count', width: 8 },
          { header: '奖项', key: 'award', width: 8 },
        ],
        rows.map((r) => ({
          rank: r.rank,
          code: r.code,
          title: r.title,
          school: r.schoolName,
          raw: r.rawMean === null ? '' : Math.round(r.rawMean * 100) / 100,
          score: r.scoreDisplay === null ? '' : Number(r.scoreDisplay),
          count: r.scoreCount,
          award: r.award ? AWARD_LABELS[r.award] : '',
        })),
      );
      await wb.commit();
    },

    /** 评委签字表: one judge's scores in a round, for signature (city and 监督), as a PDF and its file name. */
    async signSheet(actor: CurrentUser, roundId: string, judgeId: string): Promise<{ bytes: Uint8Array; fileName: string }> {
      const user = assertArea(actor, 'reports');
      if (user.role === 'county') throw forbidden('评委签字表只有市教育局和监督人员可以下载。');
      const r = await repo.roundRow(db, roundId);
      if (!r) throw notFound('评审轮次不存在。');
      const judge = await repo.judgeRow(db, roundId, judgeId);
      if (!judge) throw notFound('该评委不在本轮评委名单中。');
      const rubric = r.rubric as RubricCriterion[];
      const scores = await repo.judgeScores(db, roundId, judgeId);
      const status = { pending: '未评', draft: '草稿', submitted: '已提交' } as const;
      const fixed = 40 + 70 + 50 + 50;
      const each = Math.max(40, Math.floor((499 - fixed) / rubric.length));
      const doc: Block[] = [
        { kind: 'title', text: '评委签字表' },
        { kind: 'text', text: `评审轮次：${r.name}` },
        { kind: 'text', text: `评委：${judge.display_name}，共 ${scores.length} 件，已提交 ${scores.filter((s) => s.status === 'submitted').length} 件` },
        { kind: 'text', text: `打印时间：${stamp(now())}`, size: 9 },
        { kind: 'space', height: 6 },
        {
          kind: 'table',
          headers: ['序号', '作品', ...rubric.map((c) => `${c.label}（${c.max}）`), '总分', '状态'],
          widths: [40, 70, ...rubric.map(() => each), 50, 50],
          align: ['right', 'left', ...rubric.map(() => 'right' as const), 'right', 'left'],
          rows: scores.map((s, i) => {
            const v = (s.scores ?? {}) as Record<string, number>;
            return [
              String(i + 1),
              s.label,
              ...rubric.map((c) => (v[c.key] === undefined ? '' : String(v[c.key]))),
              s.total === null ? '' : String(s.total),
              status[s.status],
            ];
          }),
        },
        { kind: 'text', text: '本人确认：以上评分由本人独立作出，与所评作品及其学校无利害关系；如有回避已如实声明。' },
        { kind: 'signature', labels: ['评委签字：', '日期：'] },
      ];
      const bytes = await renderDocument(doc, { title: `评委签字表 · ${judge.display_name}`, footer: `${r.name} · 评委签字表 · ${judge.display_name}` });
      return { bytes, fileName: `评委签字表-${judge.display_name}.pdf` };
    },
  };
}

export type ReportService = ReturnType<typeof createReportService>;
