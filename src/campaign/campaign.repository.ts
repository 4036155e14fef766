import type { Kysely, Selectable, Transaction, Updateable } from 'kysely';
import type { DB } from '../platform/db/schema';

/** The campaign, its songs, forms, levels and periods as rows (Kysely); rules in campaign.service.ts. */
type Q = Kysely<DB> | Transaction<DB>;

export type PeriodRow = Selectable<DB['periods']>;

export function findCampaign(q: Q, id: string) {
  return q.selectFrom('campaigns').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
}

export function listSongs(q: Q, campaignId: string) {
  return q.selectFrom('songs').select(['id', 'title', 'designated']).where('campaign_id', '=', campaignId).orderBy('sort').execute();
}

export function listForms(q: Q) {
  return q.selectFrom('performance_forms').select(['code', 'label']).orderBy('sort').execute();
}

export function listLevels(q: Q) {
  return q.selectFrom('levels').select(['code', 'label']).orderBy('sort').execute();
}

export function listPeriodRows(q: Q, campaignId: string): Promise<PeriodRow[]> {
  return q.selectFrom('periods').selectAll().where('campaign_id', '=', campaignId).orderBy('sort').orderBy('submit_by').execute();
}

export function findPeriod(q: Q, id: string): Promise<PeriodRow | undefined> {
  return q.selectFrom('periods').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function updatePeriod(q: Q, id: string, values: Updateable<DB['periods']>): Promise<void> {
  await q.updateTable('periods').set(values).where('id', '=', id).execute();
}
