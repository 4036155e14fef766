import { Router } from 'express';
import { AWARD_LABELS } from '../judging/judging.messages';
import type { AwardTier } from '../judging/judging.schema';
import type { CampaignService } from '../campaign/campaign.service';
import type { TodoService } from '../todo/todo.service';
import type { EntryService } from '../entries/entry.service';
import { requestCampaign } from '../campaign/current-campaign';
import { currentUser } from '../web/request-context';

const DAY_MS = 24 * 3600_000;

/** 「还剩 3 天」「今天截止」「已过期」 for a deadline. */
export function dueText(due: Date, now: number): string {
  const ms = due.getTime() - now;
  if (ms < 0) return '已过截止时间';
  if (ms < DAY_MS) return `${Math.max(1, Math.ceil(ms / 3600_000))} 小时内截止`;
  return `还剩 ${Math.floor(ms / DAY_MS)} 天`;
}

/** The landing page after login: this person's to-do (counts with direct links), then what the role can do. */
export function homePages(deps: { campaign: CampaignService; todo: TodoService; entries: EntryService }): Router {
  const router = Router();
  router.get('/', async (req, res) => {
    const user = currentUser(req);
    const campaignId = requestCampaign(req).id;
    const [campaign, items] = await Promise.all([deps.campaign.get(campaignId), deps.todo.items(user, campaignId)]);
    const now = Date.now();
    // A school sees why its entries came back, right on its home page.
    const returned =
      user.role === 'school' && items.some((i) => i.key === 'entries.returned' && i.count > 0)
        ? (await deps.entries.list(user, { campaignId, status: 'returned' }, { page: 1, pageSize: 5 })).items.map((e) => ({
            id: e.id,
            title: e.title,
            reason: e.returnReason,
          }))
        : [];
    // …and which prizes its entries won (一等奖 …), once awarded.
    const awarded =
      user.role === 'school'
        ? (await deps.entries.list(user, { campaignId, statuses: ['awarded', 'broadcast_selected', 'aired'] }, { page: 1, pageSize: 20 })).items
            .filter((e) => e.award)
            .map((e) => ({ id: e.id, title: e.title, awardLabel: AWARD_LABELS[e.award as AwardTier] ?? '' }))
        : [];
    const todo = items.map((i) => ({ ...i, tone: i.tone ?? 'info', done: i.count === 0, dueText: i.due ? dueText(i.due, now) : null }));
    const openPeriods = campaign.periods.filter((p) => p.submitBy.getTime() > now);
    res.render('home', {
      title: '首页',
      todo,
      returned,
      awarded,
      campaign,
      openPeriods,
      designated: campaign.songs.filter((s) => s.designated),
      role: user.role,
    });
  });
  return router;
}
