import type { NextFunction, Request, Response } from 'express';
import { notFound } from '../platform/errors';
import { readCookie, setCookie } from '../web/cookies';
import { queryString } from '../web/request-context';
import { CAMPAIGN_NOT_FOUND } from './campaign.messages';
import type { CampaignRef, CampaignService } from './campaign.service';

/**
 * The campaign a request reads: `?campaignId=` (pages and API), else the `X-Campaign-Id` header (API
 * clients), else the `cx_campaign` cookie the nav's switcher sets, else the campaign open for
 * submissions (else the newest). Resolved once per request into `req.campaign`; routes pass
 * `requestCampaign(req).id` to the services, which scope every list, count, quota and export by it.
 */
export const CAMPAIGN_COOKIE = 'cx_campaign';
export const CAMPAIGN_HEADER = 'x-campaign-id';

declare module 'express-serve-static-core' {
  interface Request {
    campaign?: CampaignRef;
  }
}

/** The default when nobody chose: the one open for submissions, else the newest not yet closed, else the newest. */
export function defaultCampaign(all: readonly CampaignRef[]): CampaignRef | undefined {
  return all.find((c) => c.status === 'open') ?? all.find((c) => c.status !== 'closed') ?? all[0];
}

export function resolveCampaign(campaigns: CampaignService, opts: { cookieSecure: boolean }) {
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    try {
      const all = await campaigns.list();
      const explicit = queryString(req, 'campaignId', 80) ?? (typeof req.headers[CAMPAIGN_HEADER] === 'string' ? req.headers[CAMPAIGN_HEADER] : undefined);
      let chosen: CampaignRef | undefined;
      if (explicit !== undefined) {
        chosen = all.find((c) => c.id === explicit);
        // Asked for by name: an unknown campaign is an error, never silently another one.
        if (!chosen) throw notFound(CAMPAIGN_NOT_FOUND);
      } else {
        const remembered = readCookie(req, CAMPAIGN_COOKIE);
        chosen = (remembered && all.find((c) => c.id === remembered)) || defaultCampaign(all);
      }
      if (!chosen) throw notFound(CAMPAIGN_NOT_FOUND);
      // A page opened with ?campaignId= keeps that campaign for the next pages too.
      if (explicit !== undefined && req.auth?.via === 'session' && readCookie(req, CAMPAIGN_COOKIE) !== chosen.id)
        setCookie(res, CAMPAIGN_COOKIE, chosen.id, { secure: opts.cookieSecure, maxAgeMs: 180 * 24 * 3600 * 1000 });
      req.campaign = chosen;
      res.locals.campaign = chosen;
      res.locals.campaigns = all;
      next();
    } catch (err) {
      next(err);
    }
  };
}

/**
 * THE resolver: the campaign of this request. Every route that used the single-campaign constant
 * (`CAMPAIGN_ID`, 'main', before migration 0018) takes `requestCampaign(req).id` instead.
 */
export function requestCampaign(req: Request): CampaignRef {
  if (!req.campaign) throw new Error('resolveCampaign middleware did not run for this route');
  return req.campaign;
}
