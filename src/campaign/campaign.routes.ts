import { Router, type Request } from 'express';
import { canUse } from '../accounts/policy';
import { handleForm } from '../web/forms';
import { fromLocalInput } from '../web/view-helpers';
import { currentUser } from '../web/request-context';
import type { CampaignService } from './campaign.service';

function presentPeriod(p: { id: string; name: string; submitBy: Date; forwardBy: Date; quota: number }) {
  return { id: p.id, name: p.name, submitBy: p.submitBy.toISOString(), forwardBy: p.forwardBy.toISOString(), quota: p.quota };
}

export function campaignPages(deps: { campaign: CampaignService }): Router {
  const router = Router();

  async function page(req: Request, extra: Record<string, unknown> = {}) {
    const user = currentUser(req);
    const campaign = await deps.campaign.get();
    const now = Date.now();
    return {
      title: '活动与报送期',
      campaign,
      designated: campaign.songs.filter((s) => s.designated),
      periods: campaign.periods.map((p) => ({ ...p, open: p.submitBy.getTime() > now })),
      canEditPeriods: canUse(user, 'periods'),
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

  return router;
}

export function campaignApi(deps: { campaign: CampaignService }): Router {
  const router = Router();
  router.get('/campaign', async (req, res) => {
    currentUser(req);
    const c = await deps.campaign.get();
    res.json({
      id: c.id,
      title: c.title,
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
  return router;
}
