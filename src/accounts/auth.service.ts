import type { Db } from '../platform/db/database';
import { AppError, rateLimited } from '../platform/errors';
import type { CurrentUser } from './account.types';
import { hashPassword, needsRehash, verifyPassword } from './password';
import { findUserByUsername, toCurrentUser, updateUser } from './user.repository';

export interface AuthOptions {
  scryptLogN: number;
  maxFailures: number;
  windowMinutes: number;
  now?: () => Date;
}

export const badCredentials = () => new AppError(401, 'unauthenticated', '登录失败', '用户名或密码不正确。');

/**
 * Password login with a rate limit kept in the database (so every web process shares it):
 * after `maxFailures` failures for one username, or 5× that from one address, within the window,
 * the answer is 429 until the window passes. Unknown users and wrong passwords get the same
 * answer and take the same time (a dummy hash is verified).
 */
export function createAuthService(db: Db, opts: AuthOptions) {
  const now = opts.now ?? (() => new Date());
  let dummyHash: Promise<string> | null = null;

  /** `counted`: attempts of this request already recorded (its reservation), not held against it. */
  async function assertNotLimited(username: string, ip: string, counted = 0): Promise<void> {
    const since = new Date(now().getTime() - opts.windowMinutes * 60_000);
    const row = await db
      .selectFrom('login_failures')
      .select((eb) => [
        eb.fn.count<number>('id').filterWhere('username', '=', username).as('byUser'),
        eb.fn.count<number>('id').filterWhere('ip', '=', ip).as('byIp'),
      ])
      .where('at', '>', since)
      .where((eb) => eb.or([eb('username', '=', username), eb('ip', '=', ip)]))
      .executeTakeFirstOrThrow();
    if (Number(row.byUser) - counted >= opts.maxFailures || Number(row.byIp) - counted >= opts.maxFailures * 5) {
      throw rateLimited(opts.windowMinutes * 60);
    }
  }

  return {
    async login(usernameInput: string, password: string, ip: string): Promise<CurrentUser> {
      const username = String(usernameInput ?? '').trim().toLowerCase().slice(0, 100);
      await assertNotLimited(username, ip);
      // Record the attempt as a failure *before* the slow hash check, then count again: parallel
      // attempts see each other, so N concurrent guesses cannot all slip under the bound.
      const attempt = await db.insertInto('login_failures').values({ username, ip }).returning('id').executeTakeFirstOrThrow();
      try {
        await assertNotLimited(username, ip, 1);
      } catch (err) {
        await db.deleteFrom('login_failures').where('id', '=', attempt.id).execute();
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
      if (!ok || !row) throw badCredentials(); // the recorded attempt stays as the failure
      await db.deleteFrom('login_failures').where('username', '=', username).execute();
      if (needsRehash(row.password_hash, opts.scryptLogN)) {
        await updateUser(db, row.id, { password_hash: await hashPassword(password, opts.scryptLogN) });
      }
      return toCurrentUser(row);
    },

    async sweep(): Promise<void> {
      const since = new Date(now().getTime() - opts.windowMinutes * 60_000);
      await db.deleteFrom('login_failures').where('at', '<=', since).execute();
    },
  };
}

export type AuthService = ReturnType<typeof createAuthService>;
