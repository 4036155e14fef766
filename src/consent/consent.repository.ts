import type { Insertable, Kysely, Selectable, Transaction, Updateable } from 'kysely';
import type { DB } from '../platform/db/schema';
import type { ConsentScope, EntryConsentsTable } from './consent.schema';

/** Authorisations, the city's setting and a school's data as rows (Kysely); the rules live in consent.service.ts. */
type Q = Kysely<DB> | Transaction<DB>;

export type ConsentRow = Selectable<EntryConsentsTable>;

export const SCOPE_COLUMN = { broadcast: 'scope_broadcast', newmedia: 'scope_newmedia', public: 'scope_public' } as const satisfies Record<
  ConsentScope,
  keyof EntryConsentsTable
>;

export function findConsent(q: Q, entryId: string): Promise<ConsentRow | undefined> {
  return q.selectFrom('entry_consents').selectAll().where('entry_id', '=', entryId).executeTakeFirst();
}

export function lockConsent(trx: Transaction<DB>, entryId: string): Promise<ConsentRow | undefined> {
  return trx.selectFrom('entry_consents').selectAll().where('entry_id', '=', entryId).forUpdate().executeTakeFirst();
}

/** The consents of a list of entries in one query. */
export async function consentsOf(q: Q, entryIds: readonly string[]): Promise<Map<string, ConsentRow>> {
  if (!entryIds.length) return new Map();
  const rows = await q.selectFrom('entry_consents').selectAll().where('entry_id', 'in', entryIds).execute();
  return new Map(rows.map((r) => [r.entry_id, r]));
}

export async function upsertConsent(trx: Transaction<DB>, row: Insertable<EntryConsentsTable>): Promise<void> {
  const { entry_id: _id, ...rest } = row;
  await trx
    .insertInto('entry_consents')
    .values(row)
    .onConflict((oc) => oc.column('entry_id').doUpdateSet({ ...rest, updated_at: new Date(), withdrawn_at: null, withdrawal_reason: null, erased_at: null }))
    .execute();
}

export async function updateConsent(q: Q, entryId: string, patch: Updateable<EntryConsentsTable>): Promise<void> {
  await q
    .updateTable('entry_consents')
    .set({ ...patch, updated_at: new Date() })
    .where('entry_id', '=', entryId)
    .execute();
}

export async function requireScan(q: Q, campaignId: string): Promise<boolean> {
  const row = await q.selectFrom('consent_settings').select('require_scan').where('campaign_id', '=', campaignId).executeTakeFirst();
  return row?.require_scan ?? false;
}

/** The setting of the entry's own campaign. */
export async function requireScanForEntry(q: Q, entryId: string): Promise<boolean> {
  const row = await q
    .selectFrom('entries as e')
    .leftJoin('consent_settings as s', 's.campaign_id', 'e.campaign_id')
    .select('s.require_scan')
    .where('e.id', '=', entryId)
    .executeTakeFirst();
  return row?.require_scan ?? false;
}

export async function saveSettings(q: Q, campaignId: string, requireScanValue: boolean, userId: string): Promise<void> {
  await q
    .insertInto('consent_settings')
    .values({ campaign_id: campaignId, require_scan: requireScanValue, updated_by: userId })
    .onConflict((oc) => oc.column('campaign_id').doUpdateSet({ require_scan: requireScanValue, updated_by: userId, updated_at: new Date() }))
    .execute();
}

/** What gating needs of an entry: its school, county, campaign and status. */
export function lockEntry(trx: Transaction<DB>, entryId: string) {
  return trx
    .selectFrom('entries')
    .select(['id', 'code', 'title', 'status', 'school_id', 'county_id', 'campaign_id'])
    .where('id', '=', entryId)
    .forUpdate()
    .executeTakeFirst();
}

export async function setEntryStatus(q: Q, entryId: string, status: 'awarded'): Promise<void> {
  await q.updateTable('entries').set({ status, updated_at: new Date() }).where('id', '=', entryId).execute();
}

/** Removes an entry's broadcast master (a withdrawn broadcast permission); returns its object key. */
export async function deleteMaster(trx: Transaction<DB>, entryId: string): Promise<string | null> {
  const row = await trx.deleteFrom('masters').where('entry_id', '=', entryId).returning('object_key').executeTakeFirst();
  return row?.object_key ?? null;
}

/* ------------------------------------------------------------- data requests */

export function findSchool(q: Q, schoolId: string) {
  return q.selectFrom('schools').select(['id', 'name', 'county_id']).where('id', '=', schoolId).executeTakeFirst();
}

/** A page of a school's entries with their current video, song and consent (the school's export). */
export function schoolEntries(q: Q, schoolId: string, afterCode: string, limit: number) {
  return q
    .selectFrom('entries as e')
    .leftJoin('songs as g', 'g.id', 'e.song_id')
    .leftJoin('videos as v', 'v.id', 'e.video_id')
    .leftJoin('entry_consents as k', 'k.entry_id', 'e.id')
    .select([
      'e.id',
      'e.code',
      'e.title',
      'e.status',
      'e.form',
      'e.level',
      'e.performer_count',
      'e.director_name',
      'e.description',
      'e.custom_song_title',
      'e.award',
      'e.created_at',
      'e.submitted_at',
      'e.forwarded_at',
      'e.aired_on',
      'g.title as song_title',
      'v.original_key',
      'v.original_name',
      'v.size_bytes',
      'k.declaration',
      'k.signer_name',
      'k.signer_post',
      'k.scope_broadcast',
      'k.scope_newmedia',
      'k.scope_public',
      'k.scan_key',
      'k.scan_type',
      'k.recorded_at',
      'k.withdrawn_at',
      'k.withdrawal_reason',
    ])
    .where('e.school_id', '=', schoolId)
    .where('e.code', '>', afterCode)
    .orderBy('e.code')
    .limit(limit)
    .execute();
}
export type SchoolEntryRow = Awaited<ReturnType<typeof schoolEntries>>[number];

/** A page of the audit trail of a school's entries (the school's export). */
export function schoolHistory(q: Q, schoolId: string, afterId: number, limit: number) {
  return q
    .selectFrom('audit_log as a')
    .innerJoin('entries as e', (j) => j.onRef('e.id', '=', 'a.object_id').on('a.object_type', '=', 'entry'))
    .select(['a.id', 'a.at', 'a.actor_name', 'a.action', 'a.from_state', 'a.to_state', 'a.reason', 'e.code'])
    .where('e.school_id', '=', schoolId)
    .where('a.id', '>', afterId)
    .orderBy('a.id')
    .limit(limit)
    .execute();
}

/** Erases a school's personal data: directors' names, signers' names and posts, scan references. Returns the scans' keys. */
export async function eraseSchoolPersonalData(
  trx: Transaction<DB>,
  schoolId: string,
  at: Date,
): Promise<{ entries: number; scanKeys: string[]; consents: number }> {
  const scans = await trx
    .selectFrom('entry_consents')
    .select('scan_key')
    .where('school_id', '=', schoolId)
    .where('scan_key', 'is not', null)
    .forUpdate()
    .execute();
  const e = await trx
    .updateTable('entries')
    .set({ director_name: null, updated_at: at })
    .where('school_id', '=', schoolId)
    .where('director_name', 'is not', null)
    .executeTakeFirst();
  const c = await trx
    .updateTable('entry_consents')
    .set({ signer_name: null, signer_post: null, scan_key: null, scan_name: null, scan_type: null, scan_bytes: null, erased_at: at, updated_at: at })
    .where('school_id', '=', schoolId)
    .where((eb) => eb.or([eb('signer_name', 'is not', null), eb('signer_post', 'is not', null), eb('scan_key', 'is not', null)]))
    .executeTakeFirst();
  return { entries: Number(e.numUpdatedRows), consents: Number(c.numUpdatedRows), scanKeys: scans.map((s) => s.scan_key!) };
}

/** How much personal data a school's entries hold (the erase page shows it before the city confirms). */
export async function personalDataCounts(q: Q, schoolId: string): Promise<{ directors: number; signers: number; scans: number }> {
  const [d, k] = await Promise.all([
    q
      .selectFrom('entries')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('school_id', '=', schoolId)
      .where('director_name', 'is not', null)
      .executeTakeFirstOrThrow(),
    q
      .selectFrom('entry_consents')
      .select((eb) => [eb.fn.count<number>('signer_name').as('signers'), eb.fn.count<number>('scan_key').as('scans')])
      .where('school_id', '=', schoolId)
      .executeTakeFirstOrThrow(),
  ]);
  return { directors: Number(d.n), signers: Number(k.signers), scans: Number(k.scans) };
}

/** Entries in `statuses` without a standing authorisation: of one school, or of one county's schools. */
export async function countWithoutConsent(
  q: Q,
  where: { campaignId: string; schoolId?: string; countyId?: string },
  statuses: readonly string[],
): Promise<number> {
  let query = q
    .selectFrom('entries as e')
    .leftJoin('entry_consents as k', 'k.entry_id', 'e.id')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('e.campaign_id', '=', where.campaignId)
    .where('e.status', 'in', statuses as never)
    .where((eb) => eb.or([eb('k.entry_id', 'is', null), eb('k.withdrawn_at', 'is not', null)]));
  if (where.schoolId) query = query.where('e.school_id', '=', where.schoolId);
  if (where.countyId) query = query.where('e.county_id', '=', where.countyId);
  const { n } = await query.executeTakeFirstOrThrow();
  return Number(n);
}
