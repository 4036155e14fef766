import { Router } from 'express';
import type { CampaignService } from '../campaign/campaign.service';
import { requestCampaign } from '../campaign/current-campaign';
import { currentUser } from '../web/request-context';

/** The landing page after login: what this role can do, as cards. */
export function homePages(deps: { campaign: CampaignService }): Router {
  const router = Router();
  router.get('/', async (req, res) => {
    const user = currentUser(req);
    const campaign = await deps.campaign.get(requestCampaign(req).id);
    const now = Date.now();
    const openPeriods = campaign.periods.filter((p) => p.submitBy.getTime() > now);
    res.render('home', { title: '首页', campaign, openPeriods, designated: campaign.songs.filter((s) => s.designated), role: user.role });
  });
  return router;
}
