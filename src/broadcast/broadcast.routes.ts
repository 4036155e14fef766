import { requestCampaign } from '../campaign/current-campaign';
import { Router, type Request, type Response } from 'express';
import { assertArea, canUse } from '../accounts/policy';
import type { CurrentUser } from '../accounts/account.types';
import type { ObjectStore } from '../platform/storage/object-store';
import { currentUser } from '../web/request-context';
import { download, XLSX_TYPE } from '../web/download';
import { sendObject } from '../web/send-object';
import type { EntryView } from '../entries/entry.types';
import { ENTRY_STATUS_LABELS } from '../entries/entry.messages';
import { STATUS_TONE } from '../entries/entry.types';
import { formatBytes, formatDuration } from '../platform/format';
import { AWARD_LABELS } from '../judging/judging.messages';
import type { AwardTier } from '../judging/judging.schema';
import { pageQuery } from '../platform/validate';
import { pageLinks } from '../web/view-helpers';
import { PROFILES } from './broadcast.contract';
import { MASTER_STATUS_LABELS, NO_MASTER, PROFILE_LABELS, SELECT_CONFIRMATION, SELECT_MANY_CONFIRMATION, selectManyMessage } from './broadcast.messages';
import { confirmStep } from '../web/confirm';
import { consentText, type BroadcastService } from './broadcast.service';

const DESK_PAGE_SIZE = 50;
const AWAITING_PAGE_SIZE = 50;

export interface BroadcastDeps {
  broadcast: BroadcastService;
  store: ObjectStore;
}

async function sendMaster(deps: BroadcastDeps, req: Request, res: Response) {
  const user = currentUser(req);
  const { key, fileName, contentType } = await deps.broadcast.masterForDownload(user, req.params.id as string, req.get('range') ?? undefined);
  await sendObject(req, res, deps.store, key, {
    contentType,
    disposition: 'attachment',
    downloadName: fileName,
    redirectToPresigned: deps.store.kind === 's3',
  });
}

const attachmentHeaders = (res: Response, asciiName: string, fileName: string, contentType: string) =>
  download(res, { fileName, asciiName, contentType }).ready;

export function broadcastApi(deps: BroadcastDeps): Router {
  const router = Router();
  router.post('/entries/:id/broadcast', async (req, res) => {
    res.json(await deps.broadcast.select(currentUser(req), req.params.id, req.body));
  });
  router.get('/broadcast/entries', async (req, res) => {
    res.json(await deps.broadcast.desk(currentUser(req), requestCampaign(req).id));
  });
  router.get('/broadcast/entries/:id', async (req, res) => {
    res.json(await deps.broadcast.item(currentUser(req), req.params.id));
  });
  router.get('/broadcast/entries/:id/master', (req, res) => sendMaster(deps, req, res));
  router.post('/broadcast/entries/:id/aired', async (req, res) => {
    await deps.broadcast.markAired(currentUser(req), req.params.id, req.body);
    res.status(204).end();
  });
  router.get('/broadcast/programme-sheet.xlsx', async (req, res) => {
    const user = currentUser(req);
    await deps.broadcast.programmeSheet(user, requestCampaign(req).id, 'xlsx', res, attachmentHeaders(res, 'programme.xlsx', '节目单.xlsx', XLSX_TYPE));
  });
  router.get('/broadcast/programme-sheet.csv', async (req, res) => {
    const user = currentUser(req);
    await deps.broadcast.programmeSheet(
      user,
      requestCampaign(req).id,
      'csv',
      res,
      attachmentHeaders(res, 'programme.csv', '节目单.csv', 'text/csv; charset=utf-8'),
    );
  });
  router.get('/broadcast/archive.zip', async (req, res) => {
    const user = currentUser(req);
    await deps.broadcast.archive(user, requestCampaign(req).id, res, attachmentHeaders(res, 'masters.zip', '唱响展播母版.zip', 'application/zip'));
  });
  return router;
}

/** On an awarded entry's page, the city's "select for broadcast" form. */
export function broadcastPanel(user: CurrentUser, entry: EntryView) {
  if (!canUse(user, 'broadcastSelect') || !['awarded', 'broadcast_selected'].includes(entry.status)) return null;
  return {
    profiles: PROFILES.map((code) => ({ code, label: PROFILE_LABELS[code] })),
    selected: entry.status === 'broadcast_selected',
    confirm: SELECT_CONFIRMATION,
  };
}

export function broadcastPages(deps: BroadcastDeps): Router {
  const router = Router();
  router.get('/broadcast', async (req, res) => {
    const user = currentUser(req);
    // Pages of 50: the desk lists every selected entry as a card with its forms.
    const desk = await deps.broadcast.deskPage(user, requestCampaign(req).id, pageQuery(req.query as Record<string, unknown>, DESK_PAGE_SIZE));
    const items = desk.items;
    // The city: awarded entries still to select, several at once (the TV desk sees only what was selected).
    // Its own page number (`awaitingPage`): paging one list leaves the other where it was.
    const awaiting = canUse(user, 'broadcastSelect')
      ? await deps.broadcast.awaitingSelection(user, requestCampaign(req).id, pageQuery({ page: req.query.awaitingPage }, AWAITING_PAGE_SIZE))
      : null;
    const today = new Date(Date.now() + 8 * 3600_000).toISOString().slice(0, 10);
    res.render('broadcast/desk', {
      title: '电视台展播',
      today,
      items: items.map((it) => ({
        ...it,
        statusLabel: ENTRY_STATUS_LABELS[it.entry.status],
        statusTone: STATUS_TONE[it.entry.status],
        awardLabel: it.entry.award ? AWARD_LABELS[it.entry.award as AwardTier] : '',
        masterLabel: it.master ? MASTER_STATUS_LABELS[it.master.status] : NO_MASTER,
        masterTone: it.master ? (it.master.status === 'ready' ? 'ok' : it.master.status === 'failed' ? 'bad' : 'info') : 'muted',
        profileLabel: it.master ? PROFILE_LABELS[it.master.profile] : '',
        durationText: typeof it.entry.video?.probe?.durationS === 'number' ? formatDuration(it.entry.video.probe.durationS) : '',
        sizeText: it.master?.sizeBytes ? formatBytes(it.master.sizeBytes) : '',
        consentLabel: consentText(it.consentScopes),
        inProduction: it.master?.status === 'queued' || it.master?.status === 'processing',
      })),
      awaiting: awaiting && {
        items: awaiting.items.map((e) => ({ ...e, awardLabel: e.award ? AWARD_LABELS[e.award as AwardTier] : '' })),
        pagination: pageLinks('/broadcast', req.query as Record<string, unknown>, awaiting.page, awaiting.pageSize, awaiting.total, {
          param: 'awaitingPage',
          fragment: 'awaiting',
        }),
      },
      profiles: PROFILES.map((code) => ({ code, label: PROFILE_LABELS[code] })),
      selectConfirm: SELECT_MANY_CONFIRMATION,
      anyReady: desk.anyReady,
      pagination: pageLinks('/broadcast', req.query as Record<string, unknown>, desk.page, desk.pageSize, desk.total),
    });
  });
  router.post('/broadcast/entries/:id/aired', async (req, res) => {
    await deps.broadcast.markAired(currentUser(req), req.params.id, req.body);
    res.redirect(303, '/broadcast?msg=aired_saved');
  });
  router.post('/broadcast/select', async (req, res) => {
    const user = currentUser(req);
    assertArea(user, 'broadcastSelect');
    const body = (req.body ?? {}) as Record<string, unknown>;
    const ids = (Array.isArray(body.entryId) ? body.entryId : [body.entryId]).filter((v): v is string => typeof v === 'string' && v !== '');
    if (!ids.length) return res.redirect(303, '/broadcast?msg=broadcast_none_ticked');
    if (!confirmStep(req, res, { ...SELECT_MANY_CONFIRMATION, message: selectManyMessage(ids.length), cancelHref: '/broadcast' })) return;
    const n = await deps.broadcast.selectMany(user, ids, body);
    res.redirect(303, `/broadcast?msg=${n > 1 ? 'broadcast_selected_many' : 'broadcast_selected'}`);
  });
  router.post('/entries/:id/broadcast', async (req, res) => {
    const user = currentUser(req);
    assertArea(user, 'broadcastSelect');
    if (!confirmStep(req, res, { ...SELECT_CONFIRMATION, cancelHref: `/entries/${encodeURIComponent(req.params.id)}` })) return;
    await deps.broadcast.select(currentUser(req), req.params.id, req.body);
    res.redirect(303, `/entries/${req.params.id}?msg=broadcast_selected`);
  });
  return router;
}
