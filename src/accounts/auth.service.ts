import type { Db } from '../platform/db/database';
import { recordAudit } from '../platform/audit';
import { AppError, notFound, rateLimited } from '../platform/errors';
import { nameKey } from '../platform/validate';
import type { CurrentUser } from './account.types';
import { assertArea, canUse } from './policy';
import { hashPassword, needsRehash, verifyPassword } from './password';
import {
  countAccountFailures,
  deleteAccountFailures,
  deleteFailure,
  deletePairFailures,
  failureCounts,
  failuresByAddress,
  insertFailure,
  isKnownAddress,
  rememberAddress,
  sweepLoginRecords,
} from './login-throttle.repository';
import { findUserByUsername, findUsernameById, toCurrentUser, updateUser } from './user.repository';

export interface AuthOptions {
  scryptLogN: number;
  /** Free failures per (account, address) in the window; afterwards growing delays. */
  maxFailures: number;
  /** The counting window; also the longest single delay. */
  windowMinutes: number;
  now?: () => Date;
}

export const badCredentials = () => new AppError(401, 'unauthenticated', '登录失败', '用户名或密码不正确。');

/** An account slowed by failures from many addresses takes one attempt per this long from unknown addresses. */
const ACCOUNT_SLOW_INTERVAL_S = 60;
/** A pair's failures are remembered this long (its delays keep growing over it); the ceilings count over the window. */
const PAIR_MEMORY_MS = 24 * 3600_000;
/** An address an account logged in from counts as known for this long. */
const KNOWN_ADDRESS_DAYS = 90;

/**
 * The login protection policy (README "Login protection"). Counters live in the database, so every
 * web process shares them. With P = maxFailures and W = windowMinutes:
 *
 * - per (account, address): P failures are free; after the n-th (n ≥ P, counted over 24 hours) that
 *   address must wait 2^(n−P) minutes (1, 2, 4, … at most W) before trying that account again — about
 *   one guess per W from one place once the waits are long, without touching anyone else.
 * - per account, across addresses: at 5·P failures in W the account slows to one attempt per minute
 *   from addresses it has never logged in from — it is never locked, and its owner, from an address
 *   they have used before (90 days), is not slowed at all.
 * - per address, across accounts: at 20·P failures in W (password spraying) the address is refused
 *   for the rest of W — except for accounts that have logged in from it before, so one guesser
 *   behind a school's NAT does not lock the teachers out.
 *
 * Every attempt is recorded as a failure before the slow hash check and counted again, so parallel
 * guesses cannot all slip under a bound; a success removes that (account, address)'s failures and
 * remembers the address. Crossing a bound is audited (`login.lockout`), as is an admin's `login.unlock`.
 * Unknown users and wrong passwords get the same answers and take the same time.
 */
export function createAuthService(db: Db, opts: AuthOptions) {
  const now = opts.now ?? (() => new Date());
  const P = opts.maxFailures;
  const accountCeiling = P * 5;
  const addressCeiling = P * 20;
  const windowMs = opts.windowMinutes * 60_000;
  let dummyHash: Promise<string> | null = null;

  /** Minutes an address waits after its n-th failure against one account (n ≥ P). */
  const pairDelayMs = (n: number) => Math.min(2 ** Math.min(n - P, 30) * 60_000, windowMs);

  async function counts(username: string, ip: string, exceptId?: number) {
    const t = now().getTime();
    const since = new Date(t - windowMs);
    const remembered = new Date(t - PAIR_MEMORY_MS);
    const r = await failureCounts(db, { username, ip, since, remembered, exceptId });
    const known = await isKnownAddress(db, username, ip, new Date(now().getTime() - KNOWN_ADDRESS_DAYS * 86_400_000));
    const time = (d: Date | string | null) => (d ? new Date(d).getTime() : 0);
    return {
      pair: Number(r.pair),
      pairLast: time(r.pairLast),
      account: Number(r.account),
      accountLast: time(r.accountLast),
      address: Number(r.address),
      known,
    };
  }

  /** Throws 429 (Retry-After: what is left of the wait) when this attempt must not be tried now. */
  async function assertNotLimited(username: string, ip: string, exceptId?: number): Promise<void> {
    const c = await counts(username, ip, exceptId);
    const t = now().getTime();
    const waits: number[] = [];
    if (c.pair >= P) waits.push(c.pairLast + pairDelayMs(c.pair) - t);
    if (!c.known && c.account >= accountCeiling) waits.push(c.accountLast + ACCOUNT_SLOW_INTERVAL_S * 1000 - t);
    if (!c.known && c.address >= addressCeiling) waits.push(windowMs);
    const wait = Math.max(0, ...waits);
    if (wait > 0) throw rateLimited(Math.max(1, Math.ceil(wait / 1000)));
  }

  /** After a failure: audit each bound this failure reached (once per bound, not per refusal). */
  async function auditBoundsReached(username: string, ip: string): Promise<void> {
    const c = await counts(username, ip);
    const reached = [
      ...(c.pair === P ? [{ scope: 'account_address', failures: c.pair }] : []),
      ...(c.account === accountCeiling ? [{ scope: 'account', failures: c.account }] : []),
      ...(c.address === addressCeiling ? [{ scope: 'address', failures: c.address }] : []),
    ];
    for (const r of reached) {
      await recordAudit(db, {
        actor: null,
        action: 'login.lockout',
        objectType: 'login',
        objectId: username || '(empty)',
        detail: { ...r, ip, windowMinutes: opts.windowMinutes },
      });
    }
  }

  return {
    async login(usernameInput: string, password: string, ip: string): Promise<CurrentUser> {
      // Folded as accounts store usernames (nameKey): ｊｕｄｇｅ－１ signs in as judge-1.
      const username = nameKey(String(usernameInput ?? ''))
        .toLowerCase()
        .slice(0, 100);
      await assertNotLimited(username, ip);
      // Record the attempt as a failure *before* the slow hash check, then count again: parallel
      // attempts see each other, so N concurrent guesses cannot all slip under the bound.
      const attemptId = await insertFailure(db, username, ip, now());
      try {
        await assertNotLimited(username, ip, attemptId);
      } catch (err) {
        await deleteFailure(db, attemptId);
        throw err;
      }
      const row = username ? await findUserByUsername(db, username) : undefined;
      let ok = false;
      if (row && !row.disabled_at) {
        ok = await verifyPassword(String(password ?? ''), row.password_hash);
      } else {
        dummyHash ??= hashPassword('timing-equaliser', opts.scryptLogN);
        await verifyPassword(String(password ?? ''), await dummyHash);
      }
      if (!ok || !row) {
        await auditBoundsReached(username, ip); // the recorded attempt stays as the failure
        throw badCredentials();
      }
      await deletePairFailures(db, username, ip);
      await rememberAddress(db, username, ip, now());
      if (needsRehash(row.password_hash, opts.scryptLogN)) {
        await updateUser(db, row.id, { password_hash: await hashPassword(password, opts.scryptLogN) });
      }
      return toCurrentUser(row);
    },

    /** What the admin sees on the account page: failures in the window and whether logins are held back. */
    /** An account's login protection, for those who may clear it (null for everyone else). */
    async loginStatus(actor: CurrentUser, username: string): Promise<{ failures: number; addresses: number; limited: boolean } | null> {
      if (!canUse(actor, 'loginUnlock')) return null;
      const since = new Date(now().getTime() - PAIR_MEMORY_MS);
      const rows = await failuresByAddress(db, username, since);
      const t = now().getTime();
      const failures = rows.reduce((a, r) => a + Number(r.n), 0);
      const recent = await countAccountFailures(db, username, new Date(t - windowMs));
      const limited = recent >= accountCeiling || rows.some((r) => Number(r.n) >= P && new Date(r.last).getTime() + pairDelayMs(Number(r.n)) > t);
      return { failures, addresses: rows.length, limited };
    },

    /** Admin: forget every recorded failure of the account (all addresses), audited. */
    async unlock(actor: CurrentUser, userId: string): Promise<{ cleared: number }> {
      assertArea(actor, 'accounts');
      assertArea(actor, 'loginUnlock', '只有管理员可以解除登录限制。');
      const user = await findUsernameById(db, userId);
      if (!user) throw notFound('账号不存在。');
      const username = user.username.toLowerCase();
      return db.transaction().execute(async (trx) => {
        const cleared = await deleteAccountFailures(trx, username);
        await recordAudit(trx, { actor, action: 'login.unlock', objectType: 'user', objectId: user.id, detail: { username, cleared } });
        return { cleared };
      });
    },

    async sweep(): Promise<void> {
      const since = new Date(now().getTime() - Math.max(windowMs, PAIR_MEMORY_MS));
      await sweepLoginRecords(db, since, new Date(now().getTime() - KNOWN_ADDRESS_DAYS * 86_400_000));
    },
  };
}

export type AuthService = ReturnType<typeof createAuthService>;
