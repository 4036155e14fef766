import type { Transaction } from 'kysely';
import type { DB } from '../platform/db/schema';
import { notify } from '../notifications/notify';
import { entryHeadline } from './entry.repository';
import { VIDEO_FAILED_MESSAGE, VIDEO_WARN_MESSAGE } from './entry.messages';

/** Tells the school that its video failed or passed with a QC warning, in the job's transaction. */
export async function notifyVideoOutcome(trx: Transaction<DB>, entryId: string, videoId: string, outcome: 'failed' | 'warn', detail: string | null) {
  const entry = await entryHeadline(trx, entryId);
  if (!entry) return;
  const message = outcome === 'failed' ? VIDEO_FAILED_MESSAGE(entry.title, detail) : VIDEO_WARN_MESSAGE(entry.title);
  await notify(trx, {
    kind: outcome === 'failed' ? 'video.failed' : 'video.warn',
    recipients: { schoolId: entry.school_id },
    ...message,
    link: `/entries/${entry.id}`,
    entryId: entry.id,
    dedupeKey: `video.${outcome}:${videoId}`,
  });
}
