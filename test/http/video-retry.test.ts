import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { INFRA_FAILURE_REASON } from '../../src/platform/queue/queue';
import { createTestApp, type TestApp } from '../support/app';
import { makeClip } from '../support/clips';
import { createEntry, currentVideo, drainQueue, schoolWithToken, uploadFile, type SchoolAccount } from '../support/entries';

/**
 * 重新处理 (issue 12): a video whose processing failed — here because the system was down longer
 * than JOB_INFRA_RETRY_HOURS — is processed again from the stored original when an admin asks, from
 * the entry page or the API; the school does not upload again. Audited once, admins only.
 */
jest.setTimeout(90_000);

describe('retrying a failed video', () => {
  let t: TestApp;
  let school: SchoolAccount;
  let clips: string;
  let entryId: string;
  let videoId: string;

  beforeAll(async () => {
    t = await createTestApp();
    clips = fs.mkdtempSync(path.join(os.tmpdir(), 'cx-retry-'));
    school = await schoolWithToken(t);
    entryId = (await createEntry(t, school.token)).id;
    await uploadFile(t, school.token, entryId, await makeClip('landscape', clips)).expect(202);
    const video = (await currentVideo(t, entryId))!;
    videoId = video.id;
    // The job fails for good the way an outage past the deadline ends it.
    const db = t.container.database.db;
    const job = (await t.container.queue.claim('test', ['video.ingest']))!;
    await t.container.queue.fail(job, new Error(INFRA_FAILURE_REASON), { retryable: false });
    await db.updateTable('videos').set({ status: 'failed', error: INFRA_FAILURE_REASON, error_code: 'system_unavailable' }).where('id', '=', videoId).execute();
  });
  afterAll(async () => {
    await t?.close();
    fs.rmSync(clips, { recursive: true, force: true });
  });

  test('when a school account asks, then it is refused (403) and nothing changes', async () => {
    const res = await request(t.app).post(`/api/v1/entries/${entryId}/video/retry`).set(school.auth).expect(403);
    expect(res.body.code).toBe('forbidden');
    expect((await currentVideo(t, entryId))!.status).toBe('failed');
  });

  test('when the admin opens the entry page, then the failure says the file is fine and a 重新处理 button is offered', async () => {
    const { agent } = await t.browser('admin');
    const page = await agent.get(`/entries/${entryId}`).expect(200);
    expect(page.text).toContain('无需重新上传');
    expect(page.text).toContain('重新处理');
    const { agent: schoolAgent } = await t.browser(school.username);
    expect((await schoolAgent.get(`/entries/${entryId}`).expect(200)).text).not.toContain('id="retry-form"');
  });

  test('when the admin clicks 重新处理 twice, then the video is queued once from the stored original, audited once, and ends ready', async () => {
    const { agent, csrf } = await t.browser('admin');
    const first = await agent.post(`/entries/${entryId}/video/retry`).type('form').send({ _csrf: csrf }).expect(303);
    expect(first.headers.location).toBe(`/entries/${entryId}?msg=video_retried`);
    expect((await currentVideo(t, entryId))!).toMatchObject({ id: videoId, status: 'processing', error: null });
    const job = await t.container.database.db.selectFrom('jobs').selectAll().where('dedupe_key', '=', `ingest:${videoId}`).executeTakeFirstOrThrow();
    expect(job).toMatchObject({ status: 'queued', attempts: 0 });

    const adminToken = await t.token('admin');
    const second = await request(t.app).post(`/api/v1/entries/${entryId}/video/retry`).set('Authorization', `Bearer ${adminToken}`).expect(409);
    expect(second.body.code).toBe('invalid_state');

    const audits = await t.container.database.db.selectFrom('audit_log').selectAll().where('action', '=', 'video.retry').execute();
    expect(audits).toHaveLength(1);
    expect(audits[0]).toMatchObject({ object_id: entryId, from_state: 'failed', to_state: 'processing' });

    await drainQueue(t, { timeoutMs: 60_000 });
    expect((await currentVideo(t, entryId))!).toMatchObject({ id: videoId, status: 'ready' });
  });
});
