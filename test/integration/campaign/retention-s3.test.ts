import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import request from 'supertest';
import { todoItems } from '../../../src/campaign/campaign.todo';
import { createRetentionJob } from '../../../src/campaign/retention.job';
import { toCurrentUser } from '../../../src/accounts/user.repository';
import type { JobContext } from '../../../src/platform/queue/job-handler';
import { createObjectStore } from '../../../src/platform/storage';
import { objectKeys } from '../../../src/platform/storage/object-keys';
import type { ObjectStore } from '../../../src/platform/storage/object-store';
import { createTestApp, type TestApp } from '../../support/app';
import { drainQueue } from '../../support/entries';
import { attachReadyVideo, createEntry, schoolWithToken } from '../../support/factories';
import { bucketKeys, startS3rver, type S3rverHandle } from '../../support/s3';

/**
 * Issue 16 part 4, retention, against a real bucket (s3rver): the dry run lists exactly what goes,
 * the job deletes exactly that (idempotently), a crash between two deletions is finished by the
 * next attempt, awarded entries and masters stay, and each cleared entry keeps a tombstone.
 */
describe('retention after a campaign closes (S3)', () => {
  let s3: S3rverHandle;
  let store: ObjectStore;
  let t: TestApp;
  let admin: string;
  const entries: Record<'draft' | 'submitted' | 'forwarded' | 'awarded', { id: string; code: string }> = {} as never;
  let masterKey: string;

  const as = (url: string, method: 'post' | 'put' | 'get' = 'post', body: object = {}) =>
    request(t.app)[method](url).set('Authorization', `Bearer ${admin}`).send(body);

  /** A video with its three objects in the bucket (random bytes of distinct sizes). */
  async function videoWithObjects(entryId: string, size: number): Promise<string> {
    const videoId = await attachReadyVideo(t, entryId);
    for (const [key, n] of [
      [objectKeys.original(entryId, videoId), size],
      [objectKeys.preview(videoId), Math.round(size / 4)],
      [objectKeys.poster(videoId), 100],
    ] as const)
      await store.putStream(key, Readable.from([randomBytes(n)]), { contentType: 'application/octet-stream' });
    return videoId;
  }

  const ctx = (): JobContext => ({
    signal: new AbortController().signal,
    heartbeat: async () => true,
    complete: async () => undefined,
    progress: () => undefined,
  });

  beforeAll(async () => {
    s3 = await startS3rver();
    store = createObjectStore({
      kind: 's3',
      endpoint: s3.endpoint,
      bucket: s3.bucket,
      region: s3.region,
      accessKeyId: s3.accessKeyId,
      secretAccessKey: s3.secretAccessKey,
      forcePathStyle: true,
    });
    t = await createTestApp({ store });
    admin = await t.token('admin');
    const db = t.container.database.db;
    const school = await schoolWithToken(t, 'c-lishi');
    const other = await schoolWithToken(t, null);
    entries.draft = await createEntry(t, school.token, { title: '草稿' });
    await videoWithObjects(entries.draft.id, 5000);
    await videoWithObjects(entries.draft.id, 6000); // a replacement: both videos' files go
    entries.submitted = await createEntry(t, other.token, { title: '已提交未报送' });
    await videoWithObjects(entries.submitted.id, 7000);
    entries.forwarded = await createEntry(t, school.token, { title: '已报送未获奖' });
    await videoWithObjects(entries.forwarded.id, 8000);
    entries.awarded = await createEntry(t, school.token, { title: '获奖作品' });
    const awardedVideo = await videoWithObjects(entries.awarded.id, 9000);
    const now = new Date();
    await db.updateTable('entries').set({ status: 'submitted', submitted_at: now }).where('id', '=', entries.submitted.id).execute();
    await db.updateTable('entries').set({ status: 'not_selected', submitted_at: now, forwarded_at: now }).where('id', '=', entries.forwarded.id).execute();
    await db
      .updateTable('entries')
      .set({ status: 'aired', award: 'first', submitted_at: now, forwarded_at: now })
      .where('id', '=', entries.awarded.id)
      .execute();
    const master = await db
      .insertInto('masters')
      .values({ entry_id: entries.awarded.id, video_id: awardedVideo, profile: 'h264-1080p25', pillarbox: 'black', status: 'ready', progress: 100 })
      .returning('id')
      .executeTakeFirstOrThrow();
    masterKey = objectKeys.master(master.id, 'h264-1080p25', 'mp4');
    await store.putStream(masterKey, Readable.from([randomBytes(3000)]), { contentType: 'video/mp4' });
    await db.updateTable('masters').set({ object_key: masterKey }).where('id', '=', master.id).execute();
  }, 60_000);
  afterAll(async () => {
    await t?.close();
    await store?.close();
    await s3?.stop();
  });

  it('when the campaign is still open, then the dry run is refused with a Chinese reason', async () => {
    const res = await as('/api/v1/campaigns/main/retention/dry-run').expect(409);
    expect(res.body.detail).toContain('请先关闭活动');
  });

  it('when the city runs the dry run, confirms, and the job crashes between two deletions, then the next attempt finishes exactly the listed files and keeps everything else', async () => {
    await as('/api/v1/campaigns/main/retention', 'put', { days: 0, includeNotAwarded: false }).expect(200);
    await as('/api/v1/campaigns/main/close', 'post', { confirm: true }).expect(200);
    const before = await bucketKeys(s3);
    // The city's to-do says the retention period has passed (0 days) until a clearing is confirmed.
    const adminUser = toCurrentUser(await t.container.database.db.selectFrom('users').selectAll().where('username', '=', 'admin').executeTakeFirstOrThrow());
    expect(await todoItems(t.container.database.db, adminUser)).toEqual([
      expect.objectContaining({ key: 'campaign.retention_due', count: 1, href: '/campaigns/main' }),
    ]);

    const plan = (await as('/api/v1/campaigns/main/retention/dry-run').expect(201)).body;
    const db = t.container.database.db;
    const listed = (await db.selectFrom('retention_items').select(['object_key', 'size_bytes', 'etag']).where('run_id', '=', plan.id).execute())
      .map((r) => r.object_key)
      .sort();
    // Never forwarded: the draft (two videos) and the submitted entry, three objects per video.
    expect(plan.entries).toBe(2);
    expect(plan.objects).toBe(9);
    expect(listed).toHaveLength(9);
    expect(listed.every((k) => k.includes(entries.draft.id) || k.includes(entries.submitted.id) || !k.startsWith('originals/'))).toBe(true);
    expect(plan.bytes).toBe(5000 + 1250 + 100 + 6000 + 1500 + 100 + 7000 + 1750 + 100);
    expect(plan.schools.map((s: { entries: number; objects: number }) => [s.entries, s.objects]).sort()).toEqual([
      [1, 3],
      [1, 6],
    ]);
    // The dry run deleted nothing.
    expect(await bucketKeys(s3)).toEqual(before);

    await as(`/api/v1/retention-runs/${plan.id}/confirm`).expect(202);
    expect(await todoItems(t.container.database.db, adminUser)).toEqual([]);
    // First attempt: the process dies right after its second deletion.
    let deleted = 0;
    const crashing = createRetentionJob({
      db,
      store,
      logger: t.container.logger,
      afterDelete: () => {
        if (++deleted === 2) throw new Error('killed between deletions');
      },
    });
    await expect(
      crashing.run({ id: 0, type: 'campaign.retention', payload: { runId: plan.id }, attempts: 1, maxAttempts: 10 } as never, ctx()),
    ).rejects.toThrow('killed between deletions');
    const midway = await bucketKeys(s3);
    expect(before.filter((k) => !midway.includes(k))).toHaveLength(2);
    expect((await as(`/api/v1/retention-runs/${plan.id}`, 'get').expect(200)).body.deleted).toBe(2);
    // A process killed after the store deleted a file but before the mark was written: that file is gone, unmarked.
    const unmarked = listed.find((k) => midway.includes(k))!;
    await store.delete(unmarked);

    // The queued job (a real worker) finishes the run.
    await drainQueue(t);
    const after = await bucketKeys(s3);
    expect(before.filter((k) => !after.includes(k)).sort()).toEqual(listed);
    expect(after).toContain(masterKey);
    expect(after.filter((k) => k.includes(entries.awarded.id) || k.includes(entries.forwarded.id))).toHaveLength(2); // their originals
    const report = (await as(`/api/v1/retention-runs/${plan.id}`, 'get').expect(200)).body;
    expect([report.status, report.deleted]).toEqual(['done', 9]);

    // Tombstones: code, school, QC, the ETags; videos marked purged; the run audited.
    const stones = await db.selectFrom('entry_tombstones').selectAll().orderBy('code').execute();
    expect(stones.map((s) => s.code).sort()).toEqual([entries.draft.code, entries.submitted.code].sort());
    for (const s of stones) {
      expect(s.qc_verdict).toBe('pass');
      expect((s.hashes as Array<{ etag: string | null }>).every((h) => typeof h.etag === 'string' && h.etag.length > 2)).toBe(true);
    }
    const purged = await db.selectFrom('videos').select(['entry_id', 'purged_at', 'preview_key']).where('purged_at', 'is not', null).execute();
    expect(new Set(purged.map((v) => v.entry_id))).toEqual(new Set([entries.draft.id, entries.submitted.id]));
    expect(purged.every((v) => v.preview_key === null)).toBe(true);
    const audit = await db
      .selectFrom('audit_log')
      .select('action')
      .where('object_id', '=', 'main')
      .where('action', 'like', 'retention.%')
      .orderBy('id')
      .execute();
    expect(audit.map((a) => a.action)).toEqual(['retention.dry_run', 'retention.confirm', 'retention.run']);

    // Running it once more changes nothing.
    await createRetentionJob({ db, store, logger: t.container.logger }).run({ payload: { runId: plan.id } } as never, ctx());
    expect(await bucketKeys(s3)).toEqual(after);
  });

  it('when the city also chooses entries not awarded, then the forwarded-but-not-awarded entry goes and the awarded one (with its master) stays', async () => {
    await as('/api/v1/campaigns/main/retention', 'put', { days: 0, includeNotAwarded: true }).expect(200);
    const before = await bucketKeys(s3);
    const plan = (await as('/api/v1/campaigns/main/retention/dry-run').expect(201)).body;
    expect([plan.entries, plan.objects]).toEqual([1, 3]);
    await as(`/api/v1/retention-runs/${plan.id}/confirm`).expect(202);
    await as(`/api/v1/retention-runs/${plan.id}/confirm`).expect(409);
    await drainQueue(t);
    const after = await bucketKeys(s3);
    expect(before.filter((k) => !after.includes(k)).every((k) => k.includes(entries.forwarded.id) || !k.startsWith('originals/'))).toBe(true);
    expect(before.length - after.length).toBe(3);
    expect(after).toContain(masterKey);
    expect(after.some((k) => k.startsWith(`originals/${entries.awarded.id}/`))).toBe(true);
    // The entry page still opens (read-only archive), the preview is gone.
    const page = await request(t.app).get(`/api/v1/entries/${entries.forwarded.id}`).set('Authorization', `Bearer ${admin}`).expect(200);
    expect(page.body.code).toBe(entries.forwarded.code);
    expect(page.body.video.purgedAt).toEqual(expect.any(String));
    expect(page.body.video.previewUrl).toBeNull();
    await request(t.app).get(`/api/v1/entries/${entries.forwarded.id}/preview`).set('Authorization', `Bearer ${admin}`).expect(404);
  });

  it('when the retention days have not passed, then confirming queues the job for that day and nothing is deleted now', async () => {
    await as('/api/v1/campaigns/main/retention', 'put', { days: 30, includeNotAwarded: true }).expect(200);
    const plan = (await as('/api/v1/campaigns/main/retention/dry-run').expect(201)).body;
    expect(plan.objects).toBe(0);
    const confirmed = (await as(`/api/v1/retention-runs/${plan.id}/confirm`).expect(202)).body;
    expect(confirmed.status).toBe('queued');
    const job = await t.container.database.db
      .selectFrom('jobs')
      .select(['run_at', 'status'])
      .where('type', '=', 'campaign.retention')
      .orderBy('id', 'desc')
      .executeTakeFirstOrThrow();
    expect(new Date(job.run_at).getTime()).toBeGreaterThan(Date.now() + 29 * 24 * 3600 * 1000);
  });
});
