import crypto from 'node:crypto';
import request from 'supertest';
import type { TestApp } from './app';
import { objectKeys } from '../../src/platform/storage/object-keys';

/**
 * Test data built per test. Entries are created through the API like a school would; a
 * "processed" video is written straight into the database (its pipeline is tested on its own
 * in test/integration/entries), so lifecycle tests need no ffmpeg run.
 */
export async function songId(t: TestApp, index = 2): Promise<string> {
  const campaign = await t.container.campaign.get();
  return campaign.songs[index].id;
}

export async function createEntry(t: TestApp, token: string, fields: Record<string, unknown> = {}): Promise<{ id: string; code: string; status: string }> {
  const res = await request(t.app)
    .post('/api/v1/entries')
    .set('Authorization', `Bearer ${token}`)
    .send({ title: '三年级二班合唱', songId: await songId(t), form: 'chorus', level: 'primary', performerCount: 40, directorName: '李老师', ...fields })
    .expect(201);
  return res.body;
}

/**
 * Attaches a processed video to the entry, as the ingest job would leave it — and, as a school that
 * has collected its guardians' 授权书 would, records their authorisation with every scope (forwarding
 * and broadcast selection need it). Pass `{ consent: false }` to leave the entry without one.
 */
export async function attachReadyVideo(
  t: TestApp,
  entryId: string,
  verdict: 'pass' | 'warn' | 'fail' = 'pass',
  opts: { consent?: boolean } = {},
): Promise<string> {
  const db = t.container.database.db;
  const id = crypto.randomUUID();
  await db
    .insertInto('videos')
    .values({
      id,
      entry_id: entryId,
      status: 'ready',
      progress: 100,
      error: null,
      error_code: null,
      original_name: 'clip.mp4',
      original_key: objectKeys.original(entryId, id),
      size_bytes: 1234,
      qc: JSON.stringify({ verdict, checks: [{ name: 'audio', status: verdict, value: '-', message: verdict === 'fail' ? '画面全黑' : '有声音' }] }),
      qc_verdict: verdict,
      duration_s: 60,
      preview_key: objectKeys.preview(id),
      poster_key: objectKeys.poster(id),
    })
    .execute();
  await db.updateTable('entries').set({ video_id: id }).where('id', '=', entryId).execute();
  if (opts.consent !== false) await recordFullConsent(t, entryId);
  return id;
}

/** A school account with its token, in the given county (null: 市直). */
export async function schoolWithToken(t: TestApp, countyId: string | null = 'c-lishi') {
  const user = await t.createUser('school', { countyId });
  return { ...user, token: await t.token(user.username) };
}

/** The school's declaration with every scope, straight into the database (as PUT /entries/:id/consent would leave it). */
export async function recordFullConsent(t: TestApp, entryId: string): Promise<void> {
  const db = t.container.database.db;
  const entry = await db.selectFrom('entries').select(['campaign_id', 'school_id']).where('id', '=', entryId).executeTakeFirstOrThrow();
  await db
    .insertInto('entry_consents')
    .values({
      entry_id: entryId,
      campaign_id: entry.campaign_id,
      school_id: entry.school_id,
      declaration: true,
      signer_name: '王校长',
      signer_post: '校长',
      scope_broadcast: true,
      scope_newmedia: true,
      scope_public: true,
    })
    .onConflict((oc) => oc.column('entry_id').doNothing())
    .execute();
}
