import type { Kysely, Transaction } from 'kysely';
import type { DB } from '../platform/db/schema';
import { CONSENT_MISSING, CONSENT_SCAN_MISSING, CONSENT_WITHDRAWN, consentRequired, scopeMissing } from './consent.messages';
import * as repo from './consent.repository';
import type { ConsentScope } from './consent.schema';

type Q = Kysely<DB> | Transaction<DB>;

/**
 * The rules other components ask before they publish or pass an entry on (409 `consent_required`):
 * forwarding to the city (county forward, 市直 submit) needs a recorded, unwithdrawn authorisation
 * that meets the city's setting; a publishing channel needs its scope.
 */
export async function assertConsentForForwarding(q: Q, entry: { id: string; campaign_id: string }): Promise<void> {
  const row = await repo.findConsent(q, entry.id);
  if (!row) throw consentRequired(CONSENT_MISSING);
  if (row.withdrawn_at) throw consentRequired(CONSENT_WITHDRAWN);
  if (!row.scan_key && !row.erased_at && (await repo.requireScan(q, entry.campaign_id))) throw consentRequired(CONSENT_SCAN_MISSING);
}

export async function hasConsentScope(q: Q, entryId: string, scope: ConsentScope): Promise<boolean> {
  const row = await repo.findConsent(q, entryId);
  return Boolean(row && !row.withdrawn_at && row[repo.SCOPE_COLUMN[scope]]);
}

export async function assertConsentScope(q: Q, entryId: string, scope: ConsentScope): Promise<void> {
  if (!(await hasConsentScope(q, entryId, scope))) throw consentRequired(scopeMissing(scope));
}

/** The scopes an entry's authorisation currently grants (none when withdrawn or absent). */
export function grantedScopes(row: repo.ConsentRow | undefined): ConsentScope[] {
  if (!row || row.withdrawn_at) return [];
  return (Object.keys(repo.SCOPE_COLUMN) as ConsentScope[]).filter((s) => row[repo.SCOPE_COLUMN[s]]);
}

/** The granted scopes of many entries in one query (desks, exports, the 公示 page). */
export async function scopesOf(q: Q, entryIds: readonly string[]): Promise<Map<string, ConsentScope[] | null>> {
  const rows = await repo.consentsOf(q, entryIds);
  return new Map(entryIds.map((id) => [id, rows.has(id) ? grantedScopes(rows.get(id)) : null]));
}
