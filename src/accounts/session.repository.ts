import type { Insertable, Kysely, Selectable, Transaction } from 'kysely';
import type { DB, UsersTable } from '../platform/db/schema';

/** Sessions and API tokens as rows (Kysely); expiry and touching rules live in session.service.ts. */
type Q = Kysely<DB> | Transaction<DB>;

const USER_COLUMNS = ['u.id', 'u.username', 'u.display_name', 'u.role', 'u.county_id', 'u.school_id', 'u.must_change_password'] as const;
export type SessionUser = Pick<Selectable<UsersTable>, 'id' | 'username' | 'display_name' | 'role' | 'county_id' | 'school_id' | 'must_change_password'>;

/**
 * A live API token (not revoked, not expired) with its user, if the user is not disabled: one
 * statement, as every bearer request runs it.
 */
export async function liveTokenWithUser(q: Q, tokenHash: string, now: Date): Promise<{ lastUsedAt: Date | null; user: SessionUser } | null> {
  const row = await q
    .selectFrom('api_tokens as t')
    .innerJoin('users as u', 'u.id', 't.user_id')
    .select(['t.last_used_at', ...USER_COLUMNS])
    .where('t.id', '=', tokenHash)
    .where('t.revoked_at', 'is', null)
    .where('t.expires_at', '>', now)
    .where('u.disabled_at', 'is', null)
    .executeTakeFirst();
  if (!row) return null;
  const { last_used_at, ...user } = row;
  return { lastUsedAt: last_used_at, user };
}

export async function touchToken(q: Q, tokenHash: string, at: Date): Promise<void> {
  await q.updateTable('api_tokens').set({ last_used_at: at }).where('id', '=', tokenHash).execute();
}

/** A session with its user (null when the user is disabled or gone): one statement, as every browser request runs it. */
export async function sessionWithUser(q: Q, sessionId: string) {
  const row = await q
    .selectFrom('sessions as x')
    .leftJoin('users as u', (j) => j.onRef('u.id', '=', 'x.user_id').on('u.disabled_at', 'is', null))
    .select(['x.expires_at', 'x.last_seen_at', 'x.csrf_token', ...USER_COLUMNS])
    .where('x.id', '=', sessionId)
    .executeTakeFirst();
  if (!row) return null;
  const { expires_at, last_seen_at, csrf_token, id, username, display_name, role, county_id, school_id, must_change_password } = row;
  return {
    expiresAt: expires_at,
    lastSeenAt: last_seen_at,
    csrfToken: csrf_token,
    user:
      id === null || username === null || display_name === null || role === null
        ? null
        : ({ id, username, display_name, role, county_id, school_id, must_change_password: must_change_password ?? false } as SessionUser),
  };
}

export async function insertSession(q: Q, row: Insertable<DB['sessions']>): Promise<void> {
  await q.insertInto('sessions').values(row).execute();
}

export async function touchSession(q: Q, sessionId: string, at: Date): Promise<void> {
  await q.updateTable('sessions').set({ last_seen_at: at }).where('id', '=', sessionId).execute();
}

export async function deleteSession(q: Q, sessionId: string): Promise<void> {
  await q.deleteFrom('sessions').where('id', '=', sessionId).execute();
}

export async function deleteSessionsOf(q: Q, userId: string): Promise<void> {
  await q.deleteFrom('sessions').where('user_id', '=', userId).execute();
}

export async function insertToken(q: Q, row: Insertable<DB['api_tokens']>): Promise<void> {
  await q.insertInto('api_tokens').values(row).execute();
}

export async function revokeToken(q: Q, tokenHash: string, at: Date): Promise<void> {
  await q.updateTable('api_tokens').set({ revoked_at: at }).where('id', '=', tokenHash).where('revoked_at', 'is', null).execute();
}

export async function revokeTokensOf(q: Q, userId: string, at: Date): Promise<void> {
  await q.updateTable('api_tokens').set({ revoked_at: at }).where('user_id', '=', userId).where('revoked_at', 'is', null).execute();
}

/** Housekeeping: sessions past their absolute or idle expiry, tokens past theirs. */
export async function sweepExpired(q: Q, now: Date, idleCutoff: Date): Promise<void> {
  await q
    .deleteFrom('sessions')
    .where((eb) => eb.or([eb('expires_at', '<=', now), eb('last_seen_at', '<=', idleCutoff)]))
    .execute();
  await q.deleteFrom('api_tokens').where('expires_at', '<=', now).execute();
}
