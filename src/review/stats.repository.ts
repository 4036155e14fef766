import type { Kysely, Transaction } from 'kysely';
import type { DB } from '../platform/db/schema';

/** The statistics page's counts as rows (Kysely), all read at once; the shaping is in stats.service.ts. */
type Q = Kysely<DB> | Transaction<DB>;

/** Counts of one campaign: the whole city, or one county when `countyId` is given. */
export async function statsRows(db: Q, campaignId: string, countyId: string | null) {
  let entries = db.selectFrom('entries as e').where('e.campaign_id', '=', campaignId);
  if (countyId) entries = entries.where('e.county_id', '=', countyId);

  const [counties, byCountyStatus, bySong, byForm, byLevel, schoolCount, without] = await Promise.all([
    db.selectFrom('counties').select(['id', 'name']).orderBy('sort').execute(),
    entries
      .select(['e.county_id', 'e.status', (eb) => eb.fn.countAll<number>().as('n')])
      .groupBy(['e.county_id', 'e.status'])
      .execute(),
    entries
      .leftJoin('songs as g', 'g.id', 'e.song_id')
      .select(['e.song_id', 'g.title', 'g.designated', 'g.sort', (eb) => eb.fn.countAll<number>().as('n')])
      .groupBy(['e.song_id', 'g.title', 'g.designated', 'g.sort'])
      .orderBy('g.sort', (ob) => ob.asc().nullsLast())
      .execute(),
    db
      .selectFrom('performance_forms as f')
      .leftJoin(entries.select(['e.form', 'e.id']).as('x'), 'x.form', 'f.code')
      .select(['f.code', 'f.label', (eb) => eb.fn.count<number>('x.id').as('n')])
      .groupBy(['f.code', 'f.label', 'f.sort'])
      .orderBy('f.sort')
      .execute(),
    db
      .selectFrom('levels as l')
      .leftJoin(entries.select(['e.level', 'e.id']).as('x'), 'x.level', 'l.code')
      .select(['l.code', 'l.label', (eb) => eb.fn.count<number>('x.id').as('n')])
      .groupBy(['l.code', 'l.label', 'l.sort'])
      .orderBy('l.sort')
      .execute(),
    (countyId ? db.selectFrom('schools').where('county_id', '=', countyId) : db.selectFrom('schools'))
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow(),
    (countyId ? db.selectFrom('schools as s').where('s.county_id', '=', countyId) : db.selectFrom('schools as s'))
      .where(({ not, exists, selectFrom }) =>
        not(exists(selectFrom('entries as e2').select('e2.id').whereRef('e2.school_id', '=', 's.id').where('e2.campaign_id', '=', campaignId))),
      )
      .leftJoin('counties as c', 'c.id', 's.county_id')
      .select(['s.id', 's.name', 's.county_id', 'c.name as county_name', 'c.sort'])
      .orderBy('c.sort', (ob) => ob.asc().nullsFirst())
      .orderBy('s.name')
      .execute(),
  ]);
  return { counties, byCountyStatus, bySong, byForm, byLevel, schoolCount, without };
}
