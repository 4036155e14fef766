import crypto from 'node:crypto';
import type { Db } from '../platform/db/database';
import type { CurrentUser } from './account.types';
import * as repo from './session.repository';

function toUser(u: repo.SessionUser): CurrentUser {
  return {
    id: u.id,
    username: u.username,
    displayName: u.display_name,
    role: u.role,
    countyId: u.county_id,
    schoolId: u.school_id,
    mustChangePassword: u.must_change_password,
  };
}

/**
 * Server-side browser sessions and API bearer tokens. Clients hold a random secret; the database
 * keeps only its SHA-256, so a leaked table cannot be replayed. Sessions have an idle expiry
 * (last_seen_at) and an absolute one (expires_at); tokens have an expiry and can be revoked.
 */
export interface SessionOptions {
  idleMinutes: number;
  absoluteHours: number;
  apiTokenDays: number;
  now?: () => Date;
}

export interface ResolvedSession {
  user: CurrentUser;
  sessionId: string;
  csrfToken: string;
}

const sha256 = (s: string) => crypto.createHash('sha256').update(s).digest('hex');
const randomSecret = () => crypto.randomBytes(32).toString('base64url');
/** last_seen_at is refreshed at most once a minute, not on every request. */
const TOUCH_INTERVAL_MS = 60_000;

export function createSessionService(db: Db, opts: SessionOptions) {
  const now = opts.now ?? (() => new Date());

  return {
    /** A new session (a new id every login: the old one, if any, is destroyed by the caller). */
    async create(userId: string): Promise<{ secret: string; csrfToken: string; expiresAt: Date }> {
      const secret = randomSecret();
      const csrfToken = randomSecret();
      const expiresAt = new Date(now().getTime() + opts.absoluteHours * 3600_000);
      await repo.insertSession(db, { id: sha256(secret), user_id: userId, csrf_token: csrfToken, expires_at: expiresAt, last_seen_at: now() });
      return { secret, csrfToken, expiresAt };
    },

    async resolve(secret: string): Promise<ResolvedSession | null> {
      const id = sha256(secret);
      // The session and its (active) user in one statement: every browser request runs this.
      const row = await repo.sessionWithUser(db, id);
      if (!row) return null;
      const t = now().getTime();
      const lastSeen = new Date(row.lastSeenAt).getTime();
      if (new Date(row.expiresAt).getTime() <= t || lastSeen + opts.idleMinutes * 60_000 <= t) {
        await repo.deleteSession(db, id);
        return null;
      }
      if (!row.user) return null;
      const user = toUser(row.user);
      if (t - lastSeen > TOUCH_INTERVAL_MS) {
        await repo.touchSession(db, id, new Date(t));
      }
      return { user, sessionId: id, csrfToken: row.csrfToken };
    },

    async destroy(secret: string): Promise<void> {
      await repo.deleteSession(db, sha256(secret));
    },

    async destroyAllFor(userId: string): Promise<void> {
      await repo.deleteSessionsOf(db, userId);
      await repo.revokeTokensOf(db, userId, now());
    },

    async createApiToken(userId: string): Promise<{ token: string; expiresAt: Date }> {
      const token = `cxt_${randomSecret()}`;
      const expiresAt = new Date(now().getTime() + opts.apiTokenDays * 86400_000);
      await repo.insertToken(db, { id: sha256(token), user_id: userId, expires_at: expiresAt });
      return { token, expiresAt };
    },

    async resolveApiToken(token: string): Promise<CurrentUser | null> {
      // The token and its (active) user in one statement: every bearer request runs this.
      const id = sha256(token);
      const row = await repo.liveTokenWithUser(db, id, now());
      if (!row) return null;
      if (!row.lastUsedAt || now().getTime() - new Date(row.lastUsedAt).getTime() > TOUCH_INTERVAL_MS) await repo.touchToken(db, id, now());
      return toUser(row.user);
    },

    async revokeApiToken(token: string): Promise<void> {
      await repo.revokeToken(db, sha256(token), now());
    },

    /** Housekeeping: drop expired sessions and tokens. */
    async sweep(): Promise<void> {
      const idleCutoff = new Date(now().getTime() - opts.idleMinutes * 60_000);
      await repo.sweepExpired(db, now(), idleCutoff);
    },
  };
}

export type SessionService = ReturnType<typeof createSessionService>;
