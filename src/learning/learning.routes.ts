import { Router, type Request } from 'express';
import { assertArea } from '../accounts/policy';
import type { CurrentUser } from '../accounts/account.types';
import { AppError, forbidden } from '../platform/errors';
import { pageQuery, parse } from '../platform/validate';
import { download, XLSX_TYPE } from '../web/download';
import { currentUser, queryString } from '../web/request-context';
import { pageLinks } from '../web/view-helpers';
import { learningStatsQuery } from './learning.contract';
import { writeLearningXlsx } from './learning-export';
import { LEARNING_MESSAGES as M } from './learning.messages';
import type { LearningService, LearningStats } from './learning.service';

export interface LearningDeps {
  learning: LearningService;
}

export function learningApi(deps: LearningDeps): Router {
  const router = Router();
  router.get('/schools/:id/learning', async (req, res) => {
    res.json(await deps.learning.getSchool(currentUser(req), req.params.id));
  });
  router.put('/schools/:id/learning', async (req, res) => {
    res.json(await deps.learning.report(currentUser(req), req.params.id, req.body));
  });
  router.get('/learning/deadline', async (req, res) => {
    res.json(await deps.learning.readDeadline(currentUser(req)));
  });
  router.put('/learning/deadline', async (req, res) => {
    res.json(await deps.learning.setDeadline(currentUser(req), req.body));
  });
  router.get('/stats/learning', async (req, res) => {
    const q = parse(learningStatsQuery, req.query);
    res.json(await deps.learning.stats(currentUser(req), q, q));
  });
  router.get('/exports/learning.xlsx', async (req, res) => {
    const user = currentUser(req);
    assertArea(user, 'learningStats');
    const q = parse(learningStatsQuery, req.query);
    const dl = download(res, { fileName: '人人会唱学唱进度.xlsx', asciiName: 'learning.xlsx', contentType: XLSX_TYPE });
    await writeLearningXlsx(deps.learning, user, { countyId: q.countyId }, dl.stream);
  });
  return router;
}

/** The report form's values: what the user typed (after an error) or the latest report. */
function formModel(
  view: Awaited<ReturnType<LearningService['getSchool']>>,
  typed?: Record<string, unknown>,
  errors: Array<{ field: string; message: string }> = [],
) {
  const latest = view.latest;
  const val = (key: string, fallback: number | string | undefined | null) =>
    typed ? String(typed[key] ?? '') : fallback === undefined || fallback === null ? '' : String(fallback);
  return {
    teachers: val('teachers', latest?.teachers),
    classes: val('classes', latest?.classes),
    note: val('note', latest?.note),
    songs: view.songs.map((s, i) => {
      const prev = latest?.songs.find((x) => x.songId === s.id);
      const err = (field: string) => errors.find((e) => e.field === `songs[${i}].${field}`)?.message ?? '';
      return {
        id: s.id,
        title: s.title,
        teachersLearned: val(`t_${s.id}`, prev?.teachersLearned),
        classesSinging: val(`c_${s.id}`, prev?.classesSinging),
        teachersError: err('teachersLearned'),
        classesError: err('classesSinging'),
      };
    }),
  };
}

/** The form's flat fields (t_<songId>, c_<songId>) as the API's body. */
function formToReport(body: Record<string, unknown>, songs: Array<{ id: string }>) {
  return {
    teachers: body.teachers,
    classes: body.classes,
    note: body.note,
    songs: songs.map((s) => ({ songId: s.id, teachersLearned: body[`t_${s.id}`], classesSinging: body[`c_${s.id}`] })),
  };
}

const pctText = (v: number | null) => (v === null ? '—' : `${v}%`);

/** Horizontal percentage bars (0–100 %) as data for the inline SVG. */
function percentChart(rows: Array<{ label: string; value: number | null }>) {
  const rowHeight = 30;
  const maxBar = 340;
  return {
    height: Math.max(1, rows.length) * rowHeight + 4,
    bars: rows.map((r, i) => {
      const width = Math.round(((r.value ?? 0) / 100) * maxBar);
      return {
        label: r.label.length > 12 ? r.label.slice(0, 11) + '…' : r.label,
        text: r.value === null ? '未上报' : `${r.value}%`,
        y: i * rowHeight + 4,
        textY: i * rowHeight + 20,
        width,
        valueX: 186 + width,
      };
    }),
  };
}

/** The trend as two polylines (teachers, classes) over the report days, in a 600×220 viewBox. */
function trendChart(trend: LearningStats['trend']) {
  const left = 40;
  const right = 580;
  const top = 10;
  const bottom = 190;
  const x = (i: number) => (trend.length <= 1 ? (left + right) / 2 : left + ((right - left) * i) / (trend.length - 1));
  const y = (v: number | null) => bottom - ((v ?? 0) / 100) * (bottom - top);
  const line = (pick: (t: LearningStats['trend'][number]) => number | null) => trend.map((t, i) => `${x(i).toFixed(1)},${y(pick(t)).toFixed(1)}`).join(' ');
  const every = Math.max(1, Math.ceil(trend.length / 6));
  return {
    show: trend.length > 0,
    teachers: line((t) => t.teacherShare),
    classes: line((t) => t.classShare),
    points: trend.map((t, i) => ({ x: x(i).toFixed(1), ty: y(t.teacherShare).toFixed(1), cy: y(t.classShare).toFixed(1) })),
    labels: trend.map((t, i) => ({ x: x(i).toFixed(1), text: t.day.slice(5), show: i % every === 0 || i === trend.length - 1 })),
    grid: [0, 50, 100].map((v) => ({ y: y(v).toFixed(1), label: `${v}%` })),
    last: trend[trend.length - 1],
  };
}

export function learningPages(deps: LearningDeps): Router {
  const router = Router();

  const schoolOf = (user: CurrentUser) => {
    assertArea(user, 'learningReport');
    if (!user.schoolId) throw forbidden(M.noSchool);
    return user.schoolId;
  };

  router.get('/learning', async (req, res) => {
    const user = currentUser(req);
    if (user.role === 'county' || user.role === 'admin') return res.redirect(303, '/learning/coverage');
    const view = await deps.learning.getSchool(user, schoolOf(user));
    res.render('learning/report', { title: '人人会唱 · 学唱进度', ...view, form: formModel(view), historyRows: historyRows(view) });
  });

  router.post('/learning', async (req, res) => {
    const user = currentUser(req);
    const schoolId = schoolOf(user);
    const view = await deps.learning.getSchool(user, schoolId);
    const body = (req.body ?? {}) as Record<string, unknown>;
    try {
      await deps.learning.report(user, schoolId, formToReport(body, view.songs));
      res.redirect(303, '/learning?msg=learning_reported');
    } catch (err) {
      if (err instanceof AppError && (err.code === 'validation_failed' || err.code === 'invalid_state')) {
        const errors = err.errors ?? [];
        return res.status(err.status).render('learning/report', {
          title: '人人会唱 · 学唱进度',
          ...view,
          form: formModel(view, body, errors),
          historyRows: historyRows(view),
          errors: errors.filter((e) => !e.field.startsWith('songs[')),
          errorSummary: err.detail,
        });
      }
      throw err;
    }
  });

  router.get('/learning/coverage', async (req, res) => {
    const user = currentUser(req);
    const q = parse(learningStatsQuery, req.query);
    const stats = await deps.learning.stats(user, q, pageQuery(req.query as Record<string, unknown>, 50));
    const counties = user.role === 'admin' ? await deps.learning.counties() : [];
    res.render('learning/coverage', coverageModel(req, stats, counties, user, q));
  });

  router.post('/learning/deadline', async (req, res) => {
    const user = currentUser(req);
    try {
      await deps.learning.setDeadline(user, req.body);
    } catch (err) {
      if (err instanceof AppError && err.code === 'validation_failed') return res.redirect(303, '/learning/coverage?msg=learning_deadline_invalid');
      throw err;
    }
    res.redirect(303, '/learning/coverage?msg=learning_deadline_saved');
  });

  return router;
}

function historyRows(view: Awaited<ReturnType<LearningService['getSchool']>>) {
  return view.history.map((h) => ({
    ...h,
    songCells: h.songs.map((s) => ({ label: `《${s.title}》`, text: `${s.teachersLearned}/${h.teachers} · ${s.classesSinging}/${h.classes}` })),
  }));
}

function coverageModel(
  req: Request,
  stats: LearningStats,
  counties: Array<{ id: string; name: string }>,
  user: CurrentUser,
  q: { countyId?: string; notReported?: string },
) {
  const songLabel = (t: string) => `《${t}》`;
  return {
    title: '人人会唱 · 学唱覆盖',
    stats,
    isAdmin: user.role === 'admin',
    counties,
    filter: { countyId: q.countyId ?? '', notReported: q.notReported === '1' },
    songHeaders: stats.songs.map((s) => songLabel(s.title)),
    teacherChart: percentChart(stats.totals.songs.map((s) => ({ label: songLabel(s.title), value: s.teacherShare }))),
    classChart: percentChart(stats.totals.songs.map((s) => ({ label: songLabel(s.title), value: s.classShare }))),
    trend: trendChart(stats.trend),
    countyRows: stats.counties.map((c) => ({
      ...c,
      cells: c.songs.map((s) => ({ label: songLabel(s.title), teacher: pctText(s.teacherShare), class: pctText(s.classShare) })),
      href: c.countyId === null ? '/learning/coverage?countyId=city' : `/learning/coverage?countyId=${encodeURIComponent(c.countyId)}`,
    })),
    totalCells: stats.totals.songs.map((s) => ({ label: songLabel(s.title), teacher: pctText(s.teacherShare), class: pctText(s.classShare) })),
    schoolRows: stats.schools.items.map((s) => ({
      ...s,
      cells: s.songs.map((x) => ({ label: songLabel(x.title), teacher: pctText(x.teacherShare), class: pctText(x.classShare) })),
    })),
    exportHref: `/api/v1/exports/learning.xlsx${q.countyId ? `?countyId=${encodeURIComponent(q.countyId)}` : ''}`,
    notReportedHref: `/learning/coverage?notReported=1${q.countyId ? `&countyId=${encodeURIComponent(q.countyId)}` : ''}`,
    pagination: pageLinks('/learning/coverage', req.query as Record<string, unknown>, stats.schools.page, stats.schools.pageSize, stats.schools.total),
    selectedCounty: queryString(req, 'countyId', 64) ?? '',
  };
}
