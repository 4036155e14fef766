/**
 * Issue 14 item 2: one JobPayloads map types `enqueue` and the handlers. The type errors below are
 * the test (checked by `npm run typecheck`, which includes test/): if enqueue took any payload again,
 * the `@ts-expect-error` lines would stop being errors and the typecheck would fail.
 */
import type { Transaction } from 'kysely';
import { BROADCAST_JOB } from '../../../src/broadcast/broadcast.job';
import { RETENTION_JOB } from '../../../src/campaign/retention.job';
import { DEADLINE_REMIND_JOB } from '../../../src/entries/deadline.job';
import { INGEST_JOB } from '../../../src/entries/ingest.job';
import { ROUND_REMINDER_JOB } from '../../../src/judging/reminder.job';
import { NOTIFY_DELIVER_JOB } from '../../../src/notifications/notify';
import { buildJobHandlers, type AppJobQueue, type JobPayloads } from '../../../src/jobs';
import { loadConfig } from '../../../src/config';
import { createLogger } from '../../../src/platform/logger';
import type { DB } from '../../../src/platform/db/schema';
import { LEARNING_REMIND_JOB } from '../../../src/learning/learning.job';
import { CERTIFICATES_JOB } from '../../../src/certificates/certificate.job';
import { PACK_JOB } from '../../../src/newmedia/newmedia.job';

// Never called: only type-checked.
export function enqueueIsTyped(queue: AppJobQueue, trx: Transaction<DB>) {
  void queue.enqueue(trx, { type: INGEST_JOB, payload: { videoId: 'v1' } });
  void queue.enqueue(trx, { type: BROADCAST_JOB, payload: { masterId: 'm1', entryId: 'e1' } });
  // @ts-expect-error the ingest job's payload is { videoId }
  void queue.enqueue(trx, { type: INGEST_JOB, payload: { entryId: 'e1' } });
  // @ts-expect-error a job type that has no handler
  void queue.enqueue(trx, { type: 'video.transcode', payload: {} });
  void queue.enqueue(trx, { type: ROUND_REMINDER_JOB, payload: { roundId: 'r1', closesAt: '2026-06-01T10:00:00.000Z' } });
  // @ts-expect-error the reminder needs the closing time it was scheduled for
  void queue.enqueue(trx, { type: ROUND_REMINDER_JOB, payload: { roundId: 'r1' } });
  // @ts-expect-error the broadcast job needs its payload
  void queue.enqueue(trx, { type: BROADCAST_JOB });
}

describe('the job registry', () => {
  test('when the handlers are built, then there is exactly one per job type of JobPayloads, each with run()', () => {
    const handlers = buildJobHandlers({
      config: loadConfig({ DATA_DIR: '/tmp/cx-unused' }),
      db: null as never,
      queue: null as never,
      store: null as never,
      logger: createLogger('silent'),
    });
    const types: Array<keyof JobPayloads> = [
      BROADCAST_JOB,
      INGEST_JOB,
      NOTIFY_DELIVER_JOB,
      ROUND_REMINDER_JOB,
      RETENTION_JOB,
      LEARNING_REMIND_JOB,
      DEADLINE_REMIND_JOB,
      CERTIFICATES_JOB,
      PACK_JOB,
    ];
    expect(Object.keys(handlers).sort()).toEqual([...types].sort());
    for (const t of types) expect(typeof handlers[t].run).toBe('function');
  });
});
