import crypto from 'node:crypto';
import { Readable } from 'node:stream';
import type { Kysely } from 'kysely';
import type { DB } from '../platform/db/schema';
import type { Logger } from '../platform/logger';
import type { JobHandler } from '../platform/queue/job-handler';
import type { ObjectStore } from '../platform/storage/object-store';
import { objectKeys } from '../platform/storage/object-keys';
import { renderCertificates, type CertificateFace } from './certificate.pdf';
import { CERTIFICATE_MESSAGES as M } from './certificate.messages';
import * as repo from './certificate.repository';
import { CERTIFICATES_JOB, readSmallObject, type CertificatesPayload } from './certificate.service';

export { CERTIFICATES_JOB, type CertificatesPayload };

/** A batch of certificates rendered between two heartbeats. */
const BATCH = 25;

export const faceOf = (r: repo.CertificateRow): CertificateFace => ({
  number: r.number,
  kind: r.kind,
  recipient: r.recipient,
  awardLabel: r.award_label,
  entryTitle: r.entry_title,
  songTitle: r.song_title,
  schoolName: r.school_name,
  countyName: r.county_name,
  issuer: r.issuer,
  issuedOn: r.issued_on,
  verifyUrl: r.verify_url,
  campaignTitle: r.campaign_title,
  roundName: r.round_name,
});

/**
 * certificates.render: every pending certificate of the round → its PDF in the bucket
 * (certificates/<id>.pdf), then the round's print sheet (all live certificates, one page each,
 * one font subset). Idempotent: a certificate's key is its row's; a rerun renders the same bytes.
 */
export function createCertificatesJob(deps: { db: Kysely<DB>; store: ObjectStore; logger: Logger }): JobHandler<CertificatesPayload> {
  return {
    async run(job, ctx) {
      const { roundId } = job.payload;
      const settings = await repo.findSettingsOfRound(deps.db, roundId);
      const seal = settings?.seal_key ? await readSmallObject(deps.store, settings.seal_key) : null;
      let rendered = 0;
      for (;;) {
        ctx.signal.throwIfAborted();
        const batch = await repo.pendingOfRound(deps.db, roundId, BATCH);
        if (!batch.length) break;
        for (const r of batch) {
          const bytes = await renderCertificates([faceOf(r)], seal);
          const key = objectKeys.certificate(r.id);
          await deps.store.putStream(key, Readable.from(Buffer.from(bytes)), { contentType: 'application/pdf' });
          await repo.markReady(deps.db, r.id, key);
          rendered++;
        }
        await ctx.heartbeat();
      }
      const live = (await repo.listOfRound(deps.db, roundId, { liveOnly: true })).filter((r) => r.status === 'ready');
      if (live.length) {
        const bytes = await renderCertificates(live.map(faceOf), seal, `${live[0].round_name} 证书打印版`);
        const key = objectKeys.certificatePrint(roundId, crypto.randomUUID());
        await deps.store.putStream(key, Readable.from(Buffer.from(bytes)), { contentType: 'application/pdf' });
        const previous = await repo.findPrint(deps.db, roundId);
        await repo.savePrint(deps.db, roundId, key, live.length);
        if (previous) await deps.store.delete(previous.object_key);
      }
      deps.logger.info('certificates rendered', { roundId, rendered, printPages: live.length });
    },
    async onFinalFailure(job, _reason, trx) {
      await repo.markFailed(trx, job.payload.roundId, M.renderFailed);
    },
  };
}
