import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { openDatabase, type Database } from '../../../src/platform/db/database';
import { migrateToLatest, resolveMigrationsDir } from '../../../src/platform/db/migrate';
import { SCRIPT_MARKER } from '../../../src/platform/db/pglite-dialect';
import { adminQuery, databaseUrl } from '../../../src/platform/db/server-admin';
import { createCampaignService } from '../../../src/campaign/campaign.service';
import { defaultCampaign } from '../../../src/campaign/current-campaign';

/**
 * Issue 16 part 3: a database at the single-campaign schema (migrations up to 0017), holding
 * entries, videos, a forwarded entry in a round with scores and an award, and a broadcast master,
 * migrates to campaigns-first-class and every row keeps its meaning: same values, same campaign,
 * and that campaign is the one open for submissions.
 */
const TABLES = [
  'campaigns',
  'songs',
  'periods',
  'period_county_quotas',
  'schools',
  'users',
  'entries',
  'videos',
  'rounds',
  'round_entries',
  'round_judges',
  'assignments',
  'masters',
  'audit_log',
] as const;

describe('migration from single-campaign data', () => {
  let database: Database;
  let drop: () => Promise<void>;
  let oldDir: string;

  beforeAll(async () => {
    // The schema as it was before this branch: every migration below 0018.
    oldDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cx-old-migrations-'));
    for (const f of fs.readdirSync(resolveMigrationsDir()))
      if (/^\d{4}_.*\.sql$/.test(f) && Number(f.slice(0, 4)) < 18) fs.copyFileSync(path.join(resolveMigrationsDir(), f), path.join(oldDir, f));
    const serverUrl = process.env.DATABASE_URL;
    if (serverUrl) {
      const name = `cx_test_${crypto.randomBytes(6).toString('hex')}`;
      await adminQuery(serverUrl, `CREATE DATABASE ${name}`);
      database = await openDatabase({ kind: 'postgres', url: databaseUrl(serverUrl, name) });
      drop = async () => {
        await database.close().catch(() => undefined);
        await adminQuery(serverUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      };
    } else {
      database = await openDatabase({ kind: 'pglite', dir: 'memory://' });
      drop = () => database.close().catch(() => undefined);
    }
  }, 60_000);
  afterAll(async () => {
    await drop?.();
    fs.rmSync(oldDir, { recursive: true, force: true });
  });

  async function snapshot(): Promise<Record<string, unknown[]>> {
    const out: Record<string, unknown[]> = {};
    for (const table of TABLES) {
      const rows = await sql<Record<string, unknown>>`SELECT * FROM ${sql.table(table)} ORDER BY 1`.execute(database.db);
      out[table] = rows.rows;
    }
    return out;
  }

  it('when a database with entries, rounds and masters migrates, then every row keeps its values and its campaign, which becomes the open one', async () => {
    const applied = await migrateToLatest(database.db, oldDir);
    expect(applied.length).toBeGreaterThan(10);
    expect(applied.every((m) => m < '0018')).toBe(true);
    // Data as the single-campaign platform wrote it (raw SQL: the code's types are already the new schema's).
    await sql
      .raw(
        `${SCRIPT_MARKER}
      INSERT INTO schools (id, name, county_id) VALUES ('s1', '离石区第一小学', 'c-lishi'), ('s2', '市实验中学', NULL);
      INSERT INTO users (id, username, display_name, role, school_id, password_hash) VALUES ('u1', 'school1', '一小', 'school', 's1', 'x');
      INSERT INTO users (id, username, display_name, role, password_hash) VALUES ('j1', 'judge1', '评委', 'judge', 'x');
      INSERT INTO period_county_quotas (period_id, county_id, quota) SELECT id, 'c-lishi', 4 FROM periods;
      INSERT INTO entries (id, code, campaign_id, school_id, county_id, title, song_id, form, level, performer_count, status, created_by, period_id, submitted_at, forwarded_at, forward_rank, award)
        SELECT 'e1', 'CX-AAAAA', 'main', 's1', 'c-lishi', '合唱', (SELECT id FROM songs ORDER BY sort LIMIT 1), 'chorus', 'primary', 40, 'aired', 'u1', p.id, now(), now(), 1, 'first' FROM periods p;
      INSERT INTO entries (id, code, campaign_id, school_id, county_id, title, custom_song_title, form, level, performer_count, status)
        VALUES ('e2', 'CX-BBBBB', 'main', 's2', NULL, '草稿', '自选曲', 'other', 'junior', 3, 'draft');
      INSERT INTO videos (id, entry_id, status, original_name, original_key, size_bytes, qc_verdict, preview_key, poster_key)
        VALUES ('v1', 'e1', 'ready', 'a.mp4', 'originals/e1/v1', 1000, 'pass', 'previews/v1.mp4', 'posters/v1.jpg'),
               ('v2', 'e2', 'failed', 'b.mp4', 'originals/e2/v2', 10, NULL, NULL, NULL);
      UPDATE entries SET video_id = 'v1' WHERE id = 'e1';
      INSERT INTO rounds (id, campaign_id, name, judges_per_entry, aggregation, rubric, status, published_at)
        VALUES ('r1', 'main', '市级初评', 1, 'mean', '[{"key":"a","label":"演唱","max":100}]', 'closed', now());
      INSERT INTO round_entries (round_id, entry_id, shortlisted, award, label) VALUES ('r1', 'e1', true, 'first', 'A01');
      INSERT INTO round_judges (round_id, judge_id) VALUES ('r1', 'j1');
      INSERT INTO assignments (id, round_id, entry_id, judge_id, status, scores, total, submitted_at) VALUES ('a1', 'r1', 'e1', 'j1', 'submitted', '{"a":91}', 91, now());
      INSERT INTO masters (id, entry_id, video_id, profile, status, progress, object_key, size_bytes) VALUES ('m1', 'e1', 'v1', 'h264-1080p25', 'ready', 100, 'masters/m1/h264-1080p25.mp4', 500);
      INSERT INTO audit_log (actor_name, action, object_type, object_id, from_state, to_state) VALUES ('school1', 'entry.submit', 'entry', 'e1', 'draft', 'submitted');`,
      )
      .execute(database.db);
    const before = await snapshot();

    const now = await migrateToLatest(database.db);
    expect(now).toEqual(expect.arrayContaining(['0018_campaigns', '0019_retention']));
    const after = await snapshot();

    // Every row of every table is still there with the same values; new columns only add.
    for (const table of TABLES) {
      expect(after[table]).toHaveLength(before[table].length);
      after[table].forEach((row, i) => expect(row).toMatchObject(before[table][i] as Record<string, unknown>));
    }
    const [campaign] = after.campaigns as Array<{ id: string; status: string; year: number; closed_at: unknown; created_at: Date }>;
    expect([campaign.id, campaign.status, campaign.closed_at]).toEqual(['main', 'open', null]);
    expect(campaign.year).toBe(new Date(campaign.created_at).getFullYear());
    expect((after.videos as Array<{ purged_at: unknown }>).every((v) => v.purged_at === null)).toBe(true);

    // The code reads it as one open campaign that requests default to, and writes still work.
    const service = createCampaignService(database.db);
    const all = await service.list();
    expect(defaultCampaign(all)?.id).toBe('main');
    expect((await service.get()).songs).toHaveLength(5);
    await database.db.updateTable('entries').set({ title: '草稿（改）' }).where('id', '=', 'e2').execute();
  });
});
