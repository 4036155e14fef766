import type { Kysely, Transaction } from 'kysely';
import type { DB } from '../platform/db/schema';

/**
 * Login failures and the addresses accounts logged in from, as rows (Kysely); the bounds, delays
 * and what counts as known are decided in auth.service.ts.
 */
type Q = Kysely<DB> | Transaction<DB>;

export interface FailureCountsQuery {
  username: string;
  ip: string;
  /** the start of the counting window (the account and address counts) */
  since: Date;
  /** failures at or before this are forgotten (the pair counts reach back to it) */
  remembered: Date;
  /** leave out this attempt (the one just recorded) */
  exceptId?: number;
}

/**
 * One statement for every counter of an attempt: the pair's failures and latest one, the account's
 * failures in the window and latest one, the address's failures in the window.
 */
export async function failureCounts(q: Q, { username, ip, since, remembered, exceptId }: FailureCountsQuery) {
  let query = q
    .selectFrom('login_failures')
    .select((eb) => [
      eb.fn
        .count<number>('id')
        .filterWhere((w) => w.and([w('username', '=', username), w('ip', '=', ip)]))
        .as('pair'),
      eb.fn
        .max<Date | null>('at')
        .filterWhere((w) => w.and([w('username', '=', username), w('ip', '=', ip)]))
        .as('pairLast'),
      eb.fn
        .count<number>('id')
        .filterWhere((w) => w.and([w('username', '=', username), w('at', '>', since)]))
        .as('account'),
      eb.fn.max<Date | null>('at').filterWhere('username', '=', username).as('accountLast'),
      eb.fn
        .count<number>('id')
        .filterWhere((w) => w.and([w('ip', '=', ip), w('at', '>', since)]))
        .as('address'),
    ])
    .where('at', '>', remembered)
    .where((eb) => eb.or([eb('username', '=', username), eb('ip', '=', ip)]));
  if (exceptId !== undefined) query = query.where('id', '!=', exceptId);
  return query.executeTakeFirstOrThrow();
}

/** Whether the account logged in from this address after `since`. */
export async function isKnownAddress(q: Q, username: string, ip: string, since: Date): Promise<boolean> {
  const known = await q
    .selectFrom('login_known_addresses')
    .select('ip')
    .where('username', '=', username)
    .where('ip', '=', ip)
    .where('last_success_at', '>', since)
    .executeTakeFirst();
  return Boolean(known);
}

/** Records an attempt as a failure (before its password is checked); returns its id. */
export async function insertFailure(q: Q, username: string, ip: string, at: Date): Promise<number> {
  const attempt = await q.insertInto('login_failures').values({ username, ip, at }).returning('id').executeTakeFirstOrThrow();
  return attempt.id;
}

export async function deleteFailure(q: Q, id: number): Promise<void> {
  await q.deleteFrom('login_failures').where('id', '=', id).execute();
}

/** Forgets the failures of one (account, address) pair: after a successful login from it. */
export async function deletePairFailures(q: Q, username: string, ip: string): Promise<void> {
  await q.deleteFrom('login_failures').where('username', '=', username).where('ip', '=', ip).execute();
}

/** Remembers (or refreshes) an address the account logged in from. */
export async function rememberAddress(q: Q, username: string, ip: string, at: Date): Promise<void> {
  await q
    .insertInto('login_known_addresses')
    .values({ username, ip, last_success_at: at })
    .onConflict((oc) => oc.columns(['username', 'ip']).doUpdateSet({ last_success_at: at }))
    .execute();
}

/** An account's failures after `since`, per address: how many and the latest. */
export async function failuresByAddress(q: Q, username: string, since: Date) {
  return q
    .selectFrom('login_failures')
    .select(['ip', (eb) => eb.fn.count<number>('id').as('n'), (eb) => eb.fn.max<Date>('at').as('last')])
    .where('username', '=', username)
    .where('at', '>', since)
    .groupBy('ip')
    .execute();
}

/** How many failures the account has after `since`, from all addresses. */
export async function countAccountFailures(q: Q, username: string, since: Date): Promise<number> {
  const recent = await q
    .selectFrom('login_failures')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('username', '=', username)
    .where('at', '>', since)
    .executeTakeFirstOrThrow();
  return Number(recent.n);
}

/** Forgets every failure of the account (all addresses); returns how many were removed. */
export async function deleteAccountFailures(q: Q, username: string): Promise<number> {
  const removed = await q.deleteFrom('login_failures').where('username', '=', username).executeTakeFirst();
  return Number(removed.numDeletedRows ?? 0);
}

/** Drops failures at or before `failuresUpTo` and known addresses last used before `knownBefore`. */
export async function sweepLoginRecords(q: Q, failuresUpTo: Date, knownBefore: Date): Promise<void> {
  await q.deleteFrom('login_failures').where('at', '<=', failuresUpTo).execute();
  await q.deleteFrom('login_known_addresses').where('last_success_at', '<', knownBefore).execute();
}
