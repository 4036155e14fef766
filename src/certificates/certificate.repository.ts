import { sql, type Insertable, type Kysely, type Transaction } from 'kysely';
import type { DB } from '../platform/db/schema';
import type { CertificatesTable } from './certificate.schema';

/** The SQL of 获奖证书: serials, settings, certificates, print sheets. */
type Q = Kysely<DB> | Transaction<DB>;

/** The next serial of a prefix (county code): atomic, never reused, also across rolled-back issues' survivors. */
export async function nextSerial(trx: Transaction<DB>, prefix: string): Promise<number> {
  const row = await trx
    .insertInto('certificate_serials')
    .values({ prefix, last_value: 1 })
    .onConflict((oc) => oc.column('prefix').doUpdateSet({ last_value: sql`certificate_serials.last_value + 1` }))
    .returning('last_value')
    .executeTakeFirstOrThrow();
  return Number(row.last_value);
}

/** Serialises two issues of one round (the second sees the first's certificates). */
export async function lockRound(trx: Transaction<DB>, roundId: string) {
  await sql`SELECT id FROM rounds WHERE id = ${roundId} FOR UPDATE`.execute(trx);
}

export async function findSettings(db: Q, campaignId: string) {
  return db.selectFrom('certificate_settings').select(['seal_key', 'issuer']).where('campaign_id', '=', campaignId).executeTakeFirst();
}

/** The certificate settings (seal, issuer) of the campaign a round belongs to. */
export async function findSettingsOfRound(db: Q, roundId: string) {
  return db
    .selectFrom('rounds as r')
    .innerJoin('certificate_settings as s', 's.campaign_id', 'r.campaign_id')
    .select(['s.seal_key', 's.issuer'])
    .where('r.id', '=', roundId)
    .executeTakeFirst();
}

export async function setSeal(db: Q, campaignId: string, sealKey: string | null) {
  await db
    .insertInto('certificate_settings')
    .values({ campaign_id: campaignId, seal_key: sealKey })
    .onConflict((oc) => oc.column('campaign_id').doUpdateSet({ seal_key: sealKey, updated_at: new Date() }))
    .execute();
}

export async function findRound(db: Q, roundId: string) {
  return db
    .selectFrom('rounds as r')
    .innerJoin('campaigns as c', 'c.id', 'r.campaign_id')
    .select(['r.id', 'r.name', 'r.campaign_id', 'r.awards_confirmed_at', 'c.title as campaign_title'])
    .where('r.id', '=', roundId)
    .executeTakeFirst();
}

/** The round's awarded entries with what a certificate prints. */
export async function awardedEntries(db: Q, roundId: string) {
  return db
    .selectFrom('round_entries as re')
    .innerJoin('entries as e', 'e.id', 're.entry_id')
    .innerJoin('schools as s', 's.id', 'e.school_id')
    .leftJoin('counties as c', 'c.id', 'e.county_id')
    .leftJoin('songs as g', 'g.id', 'e.song_id')
    .select([
      'e.id as entry_id',
      're.award',
      'e.title',
      'e.director_name',
      'e.custom_song_title',
      'g.title as song_title',
      's.id as school_id',
      's.name as school_name',
      'e.county_id',
      'c.name as county_name',
      'c.code as county_code',
    ])
    .where('re.round_id', '=', roundId)
    .where('re.award', 'is not', null)
    .orderBy('e.code')
    .execute();
}

export async function countiesByIds(db: Q, ids: string[]) {
  if (!ids.length) return [];
  return db.selectFrom('counties').select(['id', 'name', 'code']).where('id', 'in', ids).execute();
}

export async function liveOfRound(db: Q, roundId: string) {
  return db
    .selectFrom('certificates')
    .select(['id', 'number', 'kind', 'entry_id', 'county_id', 'award', 'recipient'])
    .where('round_id', '=', roundId)
    .where('revoked_at', 'is', null)
    .execute();
}

export async function insertCertificate(trx: Transaction<DB>, row: Insertable<CertificatesTable>) {
  return trx.insertInto('certificates').values(row).returning(['id', 'number']).executeTakeFirstOrThrow();
}

export async function revoke(db: Q, id: string, reason: string, at: Date) {
  return db.updateTable('certificates').set({ revoked_at: at, revoked_reason: reason }).where('id', '=', id).where('revoked_at', 'is', null).executeTakeFirst();
}

/** Every live certificate of the round back to pending (rendered again by the job). */
export async function markRoundPending(db: Q, roundId: string) {
  await db.updateTable('certificates').set({ status: 'pending', error: null }).where('round_id', '=', roundId).where('revoked_at', 'is', null).execute();
}

const CERT_COLUMNS = [
  'ct.id',
  'ct.number',
  'ct.kind',
  'ct.round_id',
  'ct.entry_id',
  'ct.school_id',
  'ct.county_id',
  'ct.recipient',
  'ct.award',
  'ct.award_label',
  'ct.entry_title',
  'ct.song_title',
  'ct.school_name',
  'ct.county_name',
  'ct.issuer',
  'ct.issued_on',
  'ct.verify_url',
  'ct.status',
  'ct.object_key',
  'ct.error',
  'ct.revoked_at',
  'ct.revoked_reason',
  'ct.created_at',
  'r.name as round_name',
  'c.title as campaign_title',
] as const;

function certificates(db: Q) {
  return db
    .selectFrom('certificates as ct')
    .innerJoin('rounds as r', 'r.id', 'ct.round_id')
    .innerJoin('campaigns as c', 'c.id', 'ct.campaign_id')
    .select(CERT_COLUMNS);
}
export type CertificateRow = Awaited<ReturnType<typeof findByNumber>> & object;

export async function findByNumber(db: Q, number: string) {
  return certificates(db).where('ct.number', '=', number).executeTakeFirst();
}

export async function listOfRound(db: Q, roundId: string, opts: { liveOnly?: boolean; limit?: number; offset?: number } = {}) {
  let q = certificates(db).where('ct.round_id', '=', roundId);
  if (opts.liveOnly) q = q.where('ct.revoked_at', 'is', null);
  return q
    .orderBy('ct.number')
    .limit(opts.limit ?? 10_000)
    .offset(opts.offset ?? 0)
    .execute();
}

/** Certificates of one school (entry and director) or one county's 优秀组织奖, newest round first. */
export async function listOfSchool(db: Q, schoolId: string, opts: { liveOnly?: boolean } = {}) {
  let q = certificates(db).where('ct.school_id', '=', schoolId);
  if (opts.liveOnly) q = q.where('ct.revoked_at', 'is', null);
  return q.orderBy('ct.created_at', 'desc').orderBy('ct.number').limit(2000).execute();
}

export async function listOfCounty(db: Q, countyId: string) {
  return certificates(db).where('ct.county_id', '=', countyId).orderBy('ct.created_at', 'desc').orderBy('ct.number').limit(5000).execute();
}

export async function pendingOfRound(db: Q, roundId: string, limit: number) {
  return certificates(db)
    .where('ct.round_id', '=', roundId)
    .where('ct.status', '=', 'pending')
    .where('ct.revoked_at', 'is', null)
    .orderBy('ct.number')
    .limit(limit)
    .execute();
}

export async function markReady(db: Q, id: string, objectKey: string) {
  await db.updateTable('certificates').set({ status: 'ready', object_key: objectKey, error: null }).where('id', '=', id).execute();
}

export async function markFailed(db: Q, roundId: string, error: string) {
  await db.updateTable('certificates').set({ status: 'failed', error }).where('round_id', '=', roundId).where('status', '=', 'pending').execute();
}

export async function findPrint(db: Q, roundId: string) {
  return db.selectFrom('certificate_prints').select(['object_key', 'pages', 'made_at']).where('round_id', '=', roundId).executeTakeFirst();
}

export async function savePrint(db: Q, roundId: string, objectKey: string, pages: number) {
  await db
    .insertInto('certificate_prints')
    .values({ round_id: roundId, object_key: objectKey, pages })
    .onConflict((oc) => oc.column('round_id').doUpdateSet({ object_key: objectKey, pages, made_at: new Date() }))
    .execute();
}

export async function findSchool(db: Q, schoolId: string) {
  return db.selectFrom('schools').select(['id', 'name', 'county_id']).where('id', '=', schoolId).executeTakeFirst();
}

export async function listCounties(db: Q) {
  return db.selectFrom('counties').select(['id', 'name', 'code']).orderBy('sort').execute();
}
