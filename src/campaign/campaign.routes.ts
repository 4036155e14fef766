import { Router, type Request, type Response } from 'express';
import { assertArea, canUse } from '../accounts/policy';
import type { CurrentUser } from '../accounts/account.types';
import { AppError } from '../platform/errors';
import { formatBytes } from '../platform/format';
import { readCookie, setCookie } from '../web/cookies';
import { handleForm } from '../web/forms';
import { safeNext } from '../web/navigation';
import { fromLocalInput } from '../web/view-helpers';
import { currentUser } from '../web/request-context';
import { CAMPAIGN_STATUS_LABELS, RETENTION_KIND_LABELS } from './campaign.messages';
import type { CampaignRef, CampaignService } from './campaign.service';
import { CAMPAIGN_COOKIE, requestCampaign } from './current-campaign';
import type { RetentionReport, RetentionService } from './retention.service';

interface CampaignDeps {
  campaign: CampaignService;
  retention: RetentionService;
  config: { security: { cookieSecure: boolean } };
}

function presentPeriod(p: { id: string; name: string; submitBy: Date; forwardBy: Date; quota: number }) {
  return { id: p.id, name: p.name, submitBy: p.submitBy.toISOString(), forwardBy: p.forwardBy.toISOString(), quota: p.quota };
}

function presentRef(c: CampaignRef) {
  return {
    id: c.id,
    title: c.title,
    year: c.year,
    status: c.status,
    statusLabel: c.statusLabel,
    closedAt: c.closedAt?.toISOString() ?? null,
    retention: { days: c.retentionDays, includeNotAwarded: c.retentionNotAwarded },
  };
}

/** Roles that switch campaigns in the nav (the city and the counties); everyone else reads the open one unless a link names another. */
export const CAMPAIGN_SWITCH_ROLES = ['admin', 'county', 'supervisor'] as const;

export function campaignPages(deps: CampaignDeps): Router {
  const router = Router();

  async function page(req: Request, extra: Record<string, unknown> = {}) {
    const user = currentUser(req);
    const campaign = await deps.campaign.get(requestCampaign(req).id);
    const now = Date.now();
    return {
      title: '活动与报送期',
      campaign,
      designated: campaign.songs.filter((s) => s.designated),
      periods: campaign.periods.map((p) => ({ ...p, open: p.submitBy.getTime() > now })),
      canEditPeriods: canUse(user, 'periods') && campaign.status !== 'closed',
      canAdminCampaigns: canUse(user, 'campaignAdmin'),
      ...extra,
    };
  }

  router.get('/campaign', async (req, res) => {
    res.render('campaign/show', await page(req));
  });

  router.post('/campaign/periods/:id', async (req, res) => {
    const user = currentUser(req);
    const body = req.body as Record<string, unknown>;
    const input = { name: body.name, quota: body.quota, submitBy: fromLocalInput(body.submitBy), forwardBy: fromLocalInput(body.forwardBy) };
    await handleForm(res, { view: 'campaign/show', data: await page(req, { editing: req.params.id }) }, async () => {
      await deps.campaign.updatePeriod(user, req.params.id, input);
      res.redirect(303, '/campaign?msg=period_updated');
    });
  });

  /** The nav's switcher: remembers the chosen campaign in a cookie and goes back to the page. */
  router.post('/campaign/switch', async (req, res) => {
    currentUser(req);
    const body = req.body as Record<string, unknown>;
    const id = typeof body.campaignId === 'string' ? body.campaignId : '';
    const chosen = await deps.campaign.ref(id);
    if (readCookie(req, CAMPAIGN_COOKIE) !== chosen.id)
      setCookie(res, CAMPAIGN_COOKIE, chosen.id, { secure: deps.config.security.cookieSecure, maxAgeMs: 180 * 24 * 3600 * 1000 });
    // Back to the page without a ?campaignId= that would name the old campaign again.
    const next = safeNext(body.next)
      .replace(/([?&])campaignId=[^&]*&?/, '$1')
      .replace(/[?&]$/, '');
    res.redirect(303, next || '/');
  });

  // ── The city: campaigns, next year's, close and retention ───────────────────────────────

  async function listData(user: CurrentUser, extra: Record<string, unknown> = {}) {
    assertArea(user, 'campaignAdmin');
    const campaigns = await deps.campaign.list();
    const year = new Date().getFullYear();
    return {
      title: '活动管理',
      campaigns,
      values: {
        title: '',
        year: String(campaigns[0] ? Math.max(campaigns[0].year + 1, year) : year),
        copyFrom: campaigns[0]?.id ?? '',
        copySongs: 'on',
        copyPeriods: 'on',
        copyRubric: 'on',
      },
      ...extra,
    };
  }

  router.get('/campaigns', async (req, res) => {
    res.render('campaign/list', await listData(currentUser(req)));
  });

  router.post('/campaigns', async (req, res) => {
    const user = currentUser(req);
    const values = req.body as Record<string, unknown>;
    await handleForm(res, { view: 'campaign/list', data: await listData(user, { values }) }, async () => {
      const created = await deps.campaign.create(user, values);
      res.redirect(303, `/campaigns/${encodeURIComponent(created.id)}?msg=campaign_created`);
    });
  });

  function presentReport(r: RetentionReport | null) {
    if (!r) return null;
    return {
      ...r,
      bytesText: r.bytes === 0 ? '0 KB' : formatBytes(r.bytes),
      due: new Date(r.notBefore).getTime() <= Date.now(),
      schools: r.schools.map((s) => ({ ...s, bytesText: formatBytes(s.bytes) })),
    };
  }

  async function detailData(user: CurrentUser, id: string, extra: Record<string, unknown> = {}) {
    assertArea(user, 'campaignAdmin');
    const [campaign, latest] = await Promise.all([deps.campaign.get(id), deps.retention.latest(user, id)]);
    return {
      title: campaign.title,
      campaign,
      statusChoices: (['preparing', 'open', 'running'] as const)
        .filter((s) => s !== campaign.status)
        .map((s) => ({ code: s, label: CAMPAIGN_STATUS_LABELS[s] })),
      isClosed: campaign.status === 'closed',
      designatedCount: campaign.songs.length,
      report: presentReport(latest),
      kinds: RETENTION_KIND_LABELS,
      ...extra,
    };
  }

  router.get('/campaigns/:id', async (req, res) => {
    res.render('campaign/detail', await detailData(currentUser(req), req.params.id));
  });

  /** A city action on the detail page: back to it, or the page again with the Chinese reason (400/409). */
  async function act(req: Request, res: Response, msg: string, action: (user: CurrentUser) => Promise<void>) {
    const user = currentUser(req);
    const id = req.params.id as string;
    try {
      await action(user);
      res.redirect(303, `/campaigns/${encodeURIComponent(id)}?msg=${msg}`);
    } catch (err) {
      if (err instanceof AppError && (err.status === 400 || err.status === 409)) {
        res.status(err.status).render('campaign/detail', { ...(await detailData(user, id)), errors: err.errors ?? [], errorSummary: err.detail });
        return;
      }
      throw err;
    }
  }

  router.post('/campaigns/:id/status', (req, res) =>
    act(req, res, 'campaign_status', async (u) => void (await deps.campaign.setStatus(u, req.params.id as string, req.body))),
  );
  router.post('/campaigns/:id/close', (req, res) =>
    act(req, res, 'campaign_closed', async (u) => void (await deps.campaign.close(u, req.params.id as string, req.body))),
  );
  router.post('/campaigns/:id/retention', (req, res) =>
    act(req, res, 'retention_saved', async (u) => void (await deps.campaign.setRetention(u, req.params.id as string, req.body))),
  );
  router.post('/campaigns/:id/retention/dry-run', (req, res) =>
    act(req, res, 'retention_planned', async (u) => void (await deps.retention.dryRun(u, req.params.id as string))),
  );
  router.post('/campaigns/:id/retention-runs/:runId/confirm', (req, res) =>
    act(req, res, 'retention_confirmed', async (u) => void (await deps.retention.confirm(u, req.params.runId as string))),
  );

  return router;
}

export function campaignApi(deps: CampaignDeps): Router {
  const router = Router();
  router.get('/campaign', async (req, res) => {
    currentUser(req);
    const c = await deps.campaign.get(requestCampaign(req).id);
    res.json({
      ...presentRef(c),
      maxDurationS: c.maxDurationS,
      songs: c.songs,
      forms: c.forms,
      levels: c.levels,
      periods: c.periods.map(presentPeriod),
    });
  });
  router.patch('/periods/:id', async (req, res) => {
    res.json(presentPeriod(await deps.campaign.updatePeriod(currentUser(req), req.params.id, req.body)));
  });
  router.get('/campaigns', async (req, res) => {
    currentUser(req);
    res.json({ items: (await deps.campaign.list()).map(presentRef) });
  });
  router.post('/campaigns', async (req, res) => {
    res.status(201).json(presentRef(await deps.campaign.create(currentUser(req), req.body)));
  });
  router.get('/campaigns/:id', async (req, res) => {
    currentUser(req);
    const c = await deps.campaign.get(req.params.id);
    res.json({ ...presentRef(c), maxDurationS: c.maxDurationS, rubric: c.rubric, songs: c.songs, periods: c.periods.map(presentPeriod) });
  });
  router.post('/campaigns/:id/status', async (req, res) => {
    res.json(presentRef(await deps.campaign.setStatus(currentUser(req), req.params.id, req.body)));
  });
  router.post('/campaigns/:id/close', async (req, res) => {
    res.json(presentRef(await deps.campaign.close(currentUser(req), req.params.id, req.body)));
  });
  router.put('/campaigns/:id/retention', async (req, res) => {
    res.json(presentRef(await deps.campaign.setRetention(currentUser(req), req.params.id, req.body)));
  });
  router.post('/campaigns/:id/retention/dry-run', async (req, res) => {
    res.status(201).json(await deps.retention.dryRun(currentUser(req), req.params.id));
  });
  router.get('/retention-runs/:id', async (req, res) => {
    res.json(await deps.retention.report(currentUser(req), req.params.id));
  });
  router.post('/retention-runs/:id/confirm', async (req, res) => {
    res.status(202).json(await deps.retention.confirm(currentUser(req), req.params.id));
  });
  return router;
}
