import os from 'node:os';
import path from 'node:path';

/**
 * The one place where the environment is read. Everything else receives a frozen Config.
 * Embedded defaults (PGlite + local object store + in-process worker) live here and only here.
 */
export type DatabaseConfig =
  | { kind: 'pglite'; dir: string }
  | {
      kind: 'postgres';
      url: string;
      timeouts?: DatabaseTimeouts;
      /** Named prepared statements, planned once per connection (DB_PREPARED_STATEMENTS, default on; src/platform/db/prepared.ts). */
      preparedStatements?: boolean;
      /** Connections per process (DB_POOL_MAX; default twice this machine's cores, at least 4). */
      poolMax?: number;
    };

/** PostgreSQL limits that make an outage or a partition fail fast (defaults in loadConfig, README). */
export interface DatabaseTimeouts {
  /** A new connection must be established within this (DB_CONNECT_TIMEOUT_MS). */
  readonly connectMs: number;
  /** Server-side statement_timeout (DB_STATEMENT_TIMEOUT_MS); the client gives up 2 s later (a blackholed socket). */
  readonly statementMs: number;
  /** Server-side idle_in_transaction_session_timeout (DB_IDLE_IN_TRANSACTION_TIMEOUT_MS). */
  readonly idleInTransactionMs: number;
}

export type StorageConfig =
  | { kind: 'local'; rootDir: string }
  | {
      kind: 's3';
      endpoint?: string;
      /** Where browsers reach the store, when servers use another address (e.g. http://minio:9000 inside compose). */
      publicEndpoint?: string;
      bucket: string;
      region: string;
      accessKeyId?: string;
      secretAccessKey?: string;
      forcePathStyle: boolean;
    };

export interface Config {
  readonly port: number;
  /** Address the web process binds (HOST); undefined: every interface, as Node's default. */
  readonly host?: string;
  /** SIGTERM: how long requests in flight (web) or running jobs (worker) may take to finish (SHUTDOWN_GRACE_MS). */
  readonly shutdownGraceMs: number;
  readonly dataDir: string;
  readonly database: DatabaseConfig;
  readonly storage: StorageConfig;
  readonly media: {
    readonly ffmpegPath?: string;
    readonly ffprobePath?: string;
    readonly maxDurationS: number;
    /** Size limit of a new-media pack's videos (PACK_MAX_MB, default 200 MB: the official-account upload limit). */
    readonly packMaxBytes: number;
  };
  readonly worker: {
    readonly inProcess: boolean;
    readonly concurrency: number;
    /** A job kept from running by a database or storage outage is retried (attempt not counted) for this long (JOB_INFRA_RETRY_HOURS). */
    readonly infraRetryHours: number;
    /** A job's lease (JOB_LEASE_SECONDS): a worker that dies holding it loses the job to another this long after its last heartbeat. */
    readonly leaseMs: number;
  };
  readonly adminPassword?: string;
  readonly security: {
    /** scrypt cost as log2(N); 17 (N = 131072) in production. */
    readonly scryptLogN: number;
    readonly sessionIdleMinutes: number;
    readonly sessionAbsoluteHours: number;
    readonly cookieSecure: boolean;
    readonly loginMaxFailures: number;
    readonly loginWindowMinutes: number;
    readonly apiTokenDays: number;
  };
  readonly uploads: {
    readonly maxVideoBytes: number;
    readonly tmpDir: string;
    /** Resumable (tus) uploads in progress: one data file + one JSON file each. A shared volume when several web processes run. */
    readonly tusDir: string;
    /** An unfinished resumable upload is removed this many hours after it was started. */
    readonly expiryHours: number;
    /** A school's unfinished resumable uploads may reserve at most this many bytes together. */
    readonly schoolCapBytes: number;
    /**
     * Size of each PATCH the page sends. The file store keeps every byte received before a drop, so
     * chunks are not what limits the loss; they keep each request under proxies' body limits
     * (often 100 MB) and fewer requests cost less (bench/upload).
     */
    readonly chunkBytes: number;
    /** Origins besides the app's own that may call the tus endpoint (CORS); none by default. */
    readonly allowedOrigins: readonly string[];
  };
  readonly trustProxy: boolean;
  /** Delivery of notifications beyond the app (README「消息与通知」). */
  readonly notifications: {
    /** SMTP_URL (smtp://user:pass@host:587) or SMTP_HOST/SMTP_PORT/SMTP_USER/SMTP_PASS/SMTP_SECURE; undefined: no email. */
    readonly smtp?: {
      readonly url?: string;
      readonly host?: string;
      readonly port?: number;
      readonly secure?: boolean;
      readonly user?: string;
      readonly pass?: string;
    };
    /** The sender, e.g. "唱响 <noreply@example.cn>" (SMTP_FROM). */
    readonly from: string;
    /** The site's address in links sent out (PUBLIC_URL), e.g. https://changxiang.example.cn */
    readonly publicUrl: string;
  };
  /** The public address (PUBLIC_URL, e.g. https://changxiang.example.cn): certificate QR codes point here; unset → the address of the request that made them. */
  readonly publicUrl: string | null;
}

export class ConfigError extends Error {}

type Env = Record<string, string | undefined>;

function int(env: Env, name: string, fallback: number, min = 0): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) throw new ConfigError(`${name} must be an integer ≥ ${min}, got "${raw}"`);
  return value;
}

/**
 * Twice the cores, at least 4: the usual size for a pool whose server shares the machine. With 10 on
 * 2 cores, 50 judges at once made the /judging page's p99 3-4× its p50 (backends preempting each
 * other mid-request); with 4 it was 1.1× at the same throughput (docs/benchmarks.md).
 */
function defaultPoolMax(): number {
  return Math.max(4, 2 * os.availableParallelism());
}

function bool(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (/^(1|true|yes|on)$/i.test(raw)) return true;
  if (/^(0|false|no|off)$/i.test(raw)) return false;
  throw new ConfigError(`${name} must be true or false, got "${raw}"`);
}

export function loadConfig(env: Env = process.env): Config {
  const dataDir = path.resolve(env.DATA_DIR || './data');
  const databaseUrl = env.DATABASE_URL || undefined;
  const database: DatabaseConfig = databaseUrl
    ? {
        kind: 'postgres',
        url: databaseUrl,
        timeouts: {
          connectMs: int(env, 'DB_CONNECT_TIMEOUT_MS', 5_000, 100),
          statementMs: int(env, 'DB_STATEMENT_TIMEOUT_MS', 5_000, 100),
          idleInTransactionMs: int(env, 'DB_IDLE_IN_TRANSACTION_TIMEOUT_MS', 60_000, 100),
        },
        preparedStatements: bool(env, 'DB_PREPARED_STATEMENTS', true),
        poolMax: int(env, 'DB_POOL_MAX', defaultPoolMax(), 1),
      }
    : { kind: 'pglite', dir: path.join(dataDir, 'pglite') };

  let storage: StorageConfig;
  if (env.S3_BUCKET || env.S3_ENDPOINT) {
    if (!env.S3_BUCKET) throw new ConfigError('S3_BUCKET is required when S3_ENDPOINT is set');
    storage = {
      kind: 's3',
      endpoint: env.S3_ENDPOINT || undefined,
      publicEndpoint: env.S3_PUBLIC_ENDPOINT || undefined,
      bucket: env.S3_BUCKET,
      region: env.S3_REGION || 'us-east-1',
      accessKeyId: env.S3_ACCESS_KEY_ID || undefined,
      secretAccessKey: env.S3_SECRET_ACCESS_KEY || undefined,
      forcePathStyle: bool(env, 'S3_FORCE_PATH_STYLE', Boolean(env.S3_ENDPOINT)),
    };
  } else {
    storage = { kind: 'local', rootDir: path.join(dataDir, 'objects') };
  }

  const config: Config = {
    port: int(env, 'PORT', 3000),
    host: env.HOST || undefined,
    shutdownGraceMs: int(env, 'SHUTDOWN_GRACE_MS', 25_000),
    dataDir,
    database,
    storage,
    media: {
      ffmpegPath: env.FFMPEG_PATH || undefined,
      ffprobePath: env.FFPROBE_PATH || undefined,
      maxDurationS: int(env, 'MAX_VIDEO_SECONDS', 900, 1),
      packMaxBytes: int(env, 'PACK_MAX_MB', 200, 1) * 1024 * 1024,
    },
    worker: {
      inProcess: bool(env, 'IN_PROCESS_WORKER', database.kind === 'pglite'),
      concurrency: int(env, 'WORKER_CONCURRENCY', 1, 1),
      infraRetryHours: int(env, 'JOB_INFRA_RETRY_HOURS', 24, 1),
      leaseMs: int(env, 'JOB_LEASE_SECONDS', 60, 3) * 1000,
    },
    adminPassword: env.ADMIN_PASSWORD || undefined,
    security: {
      scryptLogN: int(env, 'SCRYPT_LOG_N', 17, 14),
      sessionIdleMinutes: int(env, 'SESSION_IDLE_MINUTES', 120, 1),
      sessionAbsoluteHours: int(env, 'SESSION_ABSOLUTE_HOURS', 12, 1),
      cookieSecure: bool(env, 'COOKIE_SECURE', false),
      loginMaxFailures: int(env, 'LOGIN_MAX_FAILURES', 10, 1),
      loginWindowMinutes: int(env, 'LOGIN_WINDOW_MINUTES', 15, 1),
      apiTokenDays: int(env, 'API_TOKEN_DAYS', 30, 1),
    },
    uploads: {
      maxVideoBytes: int(env, 'MAX_VIDEO_BYTES', 2 * 1024 ** 3, 1),
      tmpDir: path.resolve(env.UPLOAD_TMP_DIR || path.join(dataDir, 'tmp')),
      tusDir: path.resolve(env.TUS_DIR || path.join(dataDir, 'tus')),
      expiryHours: int(env, 'UPLOAD_EXPIRY_HOURS', 24, 1),
      schoolCapBytes: int(env, 'SCHOOL_UPLOAD_CAP_BYTES', 10 * 1024 ** 3, 1),
      chunkBytes: int(env, 'UPLOAD_CHUNK_BYTES', 50 * 1024 ** 2, 1024),
      allowedOrigins: (env.UPLOAD_ALLOWED_ORIGINS ?? '')
        .split(',')
        .map((o) => o.trim())
        .filter(Boolean),
    },
    trustProxy: bool(env, 'TRUST_PROXY', false),
    notifications: {
      smtp: env.SMTP_URL
        ? { url: env.SMTP_URL }
        : env.SMTP_HOST
          ? {
              host: env.SMTP_HOST,
              port: int(env, 'SMTP_PORT', 587, 1),
              secure: bool(env, 'SMTP_SECURE', false),
              user: env.SMTP_USER || undefined,
              pass: env.SMTP_PASS || undefined,
            }
          : undefined,
      from: env.SMTP_FROM || '唱响 <noreply@localhost>',
      publicUrl: publicUrl(env.PUBLIC_URL) ?? `http://localhost:${env.PORT || 3000}`,
    },
    publicUrl: publicUrl(env.PUBLIC_URL),
  };
  return deepFreeze(config);
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

/** PUBLIC_URL: an http(s) origin with an optional path, no trailing slash. */
function publicUrl(value: string | undefined): string | null {
  if (!value) return null;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(`PUBLIC_URL must be an http(s) address such as https://changxiang.example.cn, got "${value}"`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new ConfigError(`PUBLIC_URL must start with https:// or http://, got "${value}"`);
  return `${url.origin}${url.pathname}`.replace(/\/+$/, '');
}
