import { requestCampaign } from '../campaign/current-campaign';
import { Router, type Response } from 'express';
import { ENTRY_STATUS_LABELS } from '../entries/entry.messages';
import { STATUS_TONE } from '../entries/entry.types';
import { AWARD_LABELS } from '../judging/judging.messages';
import type { AwardTier } from '../judging/judging.schema';
import { formatBytes, formatDuration } from '../platform/format';
import { pageQuery } from '../platform/validate';
import { download } from '../web/download';
import { currentUser } from '../web/request-context';
import { pageLinks } from '../web/view-helpers';
import { NO_PACK, PACK_FILE_NAMES, PACK_STATUS_LABELS } from './newmedia.messages';
import { SUMMARY_MAX_CHARS } from './newmedia.post';
import type { NewMediaService } from './newmedia.service';

export interface NewMediaDeps {
  newMedia: NewMediaService;
}

/** A ZIP whose Chinese name is known only once the checks have passed (download() reads the name when the headers go out). */
function zipDownload(res: Response, asciiName: string) {
  const opts = { fileName: asciiName, asciiName, contentType: 'application/zip' };
  const d = download(res, opts);
  return {
    stream: d.stream,
    ready(fileName: string) {
      opts.fileName = fileName;
      d.ready();
    },
  };
}

export function newMediaApi(deps: NewMediaDeps): Router {
  const router = Router();
  router.post('/entries/:id/media-pack', async (req, res) => {
    res.status(202).json(await deps.newMedia.start(currentUser(req), req.params.id));
  });
  router.get('/entries/:id/media-pack', async (req, res) => {
    res.json(await deps.newMedia.item(currentUser(req), req.params.id));
  });
  router.get('/entries/:id/media-pack.zip', async (req, res) => {
    const out = zipDownload(res, 'media-pack.zip');
    await deps.newMedia.packZip(currentUser(req), req.params.id, out.stream, (fileName) => out.ready(fileName));
  });
  router.get('/media-packs', async (req, res) => {
    res.json(await deps.newMedia.desk(currentUser(req), requestCampaign(req).id, pageQuery(req.query as Record<string, unknown>)));
  });
  router.get('/media-packs.zip', async (req, res) => {
    const out = zipDownload(res, 'media-packs.zip');
    await deps.newMedia.archive(currentUser(req), requestCampaign(req).id, req.query, out.stream, () => out.ready('唱响新媒体展播包.zip'));
  });
  return router;
}

export function newMediaPages(deps: NewMediaDeps): Router {
  const router = Router();
  router.get('/newmedia', async (req, res) => {
    const user = currentUser(req);
    const page = pageQuery(req.query as Record<string, unknown>, 20);
    const result = await deps.newMedia.desk(user, requestCampaign(req).id, page);
    const busy = result.items.some((it) => it.pack && ['queued', 'processing'].includes(it.pack.status));
    // While packs are being made the page refreshes itself (no script needed).
    if (busy) res.setHeader('Refresh', '10');
    res.render('newmedia/desk', {
      title: '新媒体展播',
      busy,
      anyReady: result.items.some((it) => it.pack?.status === 'ready'),
      summaryMax: SUMMARY_MAX_CHARS,
      fileNames: PACK_FILE_NAMES,
      items: result.items.map((it) => ({
        ...it,
        statusLabel: ENTRY_STATUS_LABELS[it.entry.status],
        statusTone: STATUS_TONE[it.entry.status],
        awardLabel: it.entry.award ? AWARD_LABELS[it.entry.award as AwardTier] : '',
        durationText: typeof it.entry.video?.probe?.durationS === 'number' ? formatDuration(it.entry.video.probe.durationS) : '',
        packLabel: it.pack ? PACK_STATUS_LABELS[it.pack.status] : NO_PACK,
        packTone: it.pack ? (it.pack.status === 'ready' ? 'ok' : it.pack.status === 'failed' ? 'bad' : 'info') : 'muted',
        working: it.pack ? ['queued', 'processing'].includes(it.pack.status) : false,
        failed: it.pack?.status === 'failed',
        files: it.pack?.outputs ? Object.values(it.pack.outputs).map((o) => ({ name: o.fileName, size: formatBytes(o.sizeBytes) })) : [],
        summaryLength: it.pack ? [...it.pack.post.summary].length : 0,
      })),
      pagination: pageLinks('/newmedia', req.query as Record<string, unknown>, result.page, result.pageSize, result.total),
    });
  });
  router.post('/newmedia/entries/:id/pack', async (req, res) => {
    await deps.newMedia.start(currentUser(req), req.params.id);
    res.redirect(303, `/newmedia?msg=media_pack_started${typeof req.query.page === 'string' ? `&page=${encodeURIComponent(req.query.page)}` : ''}`);
  });
  return router;
}
