import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import * as fsp from 'node:fs/promises';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  AbortMultipartUploadCommand,
  DeleteObjectCommand,
  ListMultipartUploadsCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  S3Client,
} from '@aws-sdk/client-s3';
import { type BucketLocationConstraint, CreateBucketCommand } from '@aws-sdk/client-s3'; // ensureS3Bucket (npm run setup)
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { contentDisposition } from './content-disposition';
import { assertValidKey, assertValidPrefix, ObjectNotFoundError, RangeNotSatisfiableError, StoreUnavailableError } from './object-store';
import type { ByteRange, GetResult, ObjectInfo, ObjectStore, PresignGetOptions, PutOptions, PutResult } from './object-store';

export interface S3StoreConfig {
  /** Omit for AWS; set for MinIO, Ceph, s3rver… (`http://host:port`). */
  endpoint?: string;
  /**
   * Endpoint that browsers can reach, used only for presigned URLs (e.g. `https://media.example.cn`
   * when the servers talk to `http://minio:9000`). Defaults to `endpoint`.
   */
  publicEndpoint?: string;
  bucket: string;
  region: string;
  /** Omit both to use the SDK's default credential chain (env, instance role…). */
  accessKeyId?: string;
  secretAccessKey?: string;
  /** `true` for non-AWS endpoints. */
  forcePathStyle: boolean;
  /** Per-attempt limits; defaults suit a LAN/regional store. */
  connectTimeoutMs?: number;
  /** Socket idle timeout (not a limit on a whole transfer). */
  idleTimeoutMs?: number;
  maxAttempts?: number;
}

const MIB = 1024 * 1024;
/** S3 allows 10,000 parts per upload; keep a margin. */
const MAX_PARTS = 9_000;
const MIN_PART_SIZE = 8 * MIB;
/** Parts in flight per upload: memory per upload is at most queueSize × partSize. */
const QUEUE_SIZE = 4;
const PING_TIMEOUT_MS = 3_000;
const DELETE_BATCH = 1_000;

/**
 * Object store on S3 or an S3-compatible service. Uploads are streamed through lib-storage's `Upload`
 * (multipart above one part, with bounded memory); downloads are streamed from `GetObject`.
 * Network failures, timeouts and 5xx answers become `StoreUnavailableError`.
 */
export function createS3Store(config: S3StoreConfig): ObjectStore {
  const client = makeClient(config, config.endpoint);
  const presignClient = config.publicEndpoint && config.publicEndpoint !== config.endpoint ? makeClient(config, config.publicEndpoint) : client;
  const Bucket = config.bucket;

  async function upload(key: string, body: Readable, opts: PutOptions, knownSize?: number): Promise<PutResult> {
    assertValidKey(key);
    let sizeBytes = 0;
    const counter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        sizeBytes += chunk.length;
        done(null, chunk);
      },
    });
    const partSize = Math.max(MIN_PART_SIZE, Math.ceil((knownSize ?? 0) / MAX_PARTS));
    const uploader = new Upload({
      client,
      params: { Bucket, Key: key, Body: counter, ContentType: opts.contentType },
      partSize,
      queueSize: QUEUE_SIZE,
      leavePartsOnError: false, // abort the multipart upload on failure: no orphan parts
    });
    try {
      // The source's errors reach `counter` through pipeline, which makes Upload fail.
      await Promise.all([pipeline(body, counter), uploader.done()]);
    } catch (err) {
      body.destroy();
      counter.destroy();
      throw mapError(err, key);
    }
    return { sizeBytes };
  }

  async function head(key: string): Promise<ObjectInfo | null> {
    assertValidKey(key);
    try {
      const out = await client.send(new HeadObjectCommand({ Bucket, Key: key }));
      return {
        sizeBytes: out.ContentLength ?? 0,
        contentType: out.ContentType ?? 'application/octet-stream',
        etag: out.ETag ?? '""',
        lastModified: out.LastModified ?? new Date(0),
      };
    } catch (err) {
      const mapped = mapError(err, key);
      if (mapped instanceof ObjectNotFoundError) return null;
      throw mapped;
    }
  }

  async function get(key: string, range?: ByteRange): Promise<GetResult> {
    assertValidKey(key);
    if (range && (!Number.isSafeInteger(range.start) || range.start < 0)) {
      throw new RangeError(`invalid range start: ${range.start}`);
    }
    // Always an explicit `bytes=a-` / `bytes=a-b`: suffix ranges are resolved by the caller.
    const Range = range ? `bytes=${range.start}-${range.end ?? ''}` : undefined;
    let out;
    try {
      out = await client.send(new GetObjectCommand({ Bucket, Key: key, Range }));
    } catch (err) {
      const e = err as SdkErrorShape;
      if (range && (e.name === 'InvalidRange' || e.$metadata?.httpStatusCode === 416)) {
        const info = await head(key);
        if (!info) throw new ObjectNotFoundError(key);
        throw new RangeNotSatisfiableError(key, info.sizeBytes);
      }
      throw mapError(err, key);
    }
    const body = out.Body;
    if (!(body instanceof Readable)) throw new Error('S3 GetObject returned no Node stream body');
    const info = {
      contentType: out.ContentType ?? 'application/octet-stream',
      etag: out.ETag ?? '""',
      lastModified: out.LastModified ?? new Date(0),
    };
    const served = out.ContentRange ? parseContentRange(out.ContentRange) : null;
    if (served) return { ...info, body, sizeBytes: served.size, range: { start: served.start, end: served.end } };
    const sizeBytes = out.ContentLength ?? 0;
    if (range) {
      // A server that ignored Range sent the whole object: still honour what was asked.
      body.destroy();
      if (range.start >= sizeBytes) throw new RangeNotSatisfiableError(key, sizeBytes);
      return get(key, { start: range.start, end: Math.min(range.end ?? sizeBytes - 1, sizeBytes - 1) });
    }
    return { ...info, body, sizeBytes };
  }

  async function downloadToFile(key: string, filePath: string): Promise<void> {
    const { body } = await get(key);
    const tmp = `${filePath}.${randomUUID()}.part`;
    try {
      await pipeline(body, createWriteStream(tmp, { flags: 'wx' }));
      await fsp.rename(tmp, filePath);
    } catch (err) {
      await fsp.rm(tmp, { force: true });
      throw mapError(err, key);
    }
  }

  async function deleteObject(key: string): Promise<void> {
    assertValidKey(key);
    try {
      await client.send(new DeleteObjectCommand({ Bucket, Key: key }));
    } catch (err) {
      const mapped = mapError(err, key);
      if (!(mapped instanceof ObjectNotFoundError)) throw mapped;
    }
  }

  async function deletePrefix(prefix: string): Promise<number> {
    assertValidPrefix(prefix);
    let count = 0;
    let ContinuationToken: string | undefined;
    try {
      do {
        const page = await client.send(new ListObjectsV2Command({ Bucket, Prefix: prefix, ContinuationToken, MaxKeys: DELETE_BATCH }));
        const keys = (page.Contents ?? []).flatMap((o) => (o.Key ? [{ Key: o.Key }] : []));
        if (keys.length > 0) {
          const out = await client.send(new DeleteObjectsCommand({ Bucket, Delete: { Objects: keys, Quiet: true } }));
          const failed = out.Errors ?? [];
          if (failed.length > 0) {
            throw new StoreUnavailableError(`could not delete ${failed.length} objects under ${prefix}: ${failed[0]?.Code ?? ''} ${failed[0]?.Message ?? ''}`);
          }
          count += keys.length;
        }
        ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (ContinuationToken);
    } catch (err) {
      throw mapError(err, prefix);
    }
    return count;
  }

  async function presignGet(key: string, opts: PresignGetOptions): Promise<string> {
    assertValidKey(key);
    const disposition = opts.disposition ?? (opts.downloadName !== undefined ? 'attachment' : undefined);
    const command = new GetObjectCommand({
      Bucket,
      Key: key,
      ResponseContentType: opts.contentType,
      ResponseContentDisposition: disposition ? contentDisposition(disposition, opts.downloadName) : undefined,
    });
    return getSignedUrl(presignClient, command, { expiresIn: Math.max(1, Math.floor(opts.expiresInS)) });
  }

  async function ping(): Promise<void> {
    try {
      await client.send(new HeadBucketCommand({ Bucket }), { abortSignal: AbortSignal.timeout(PING_TIMEOUT_MS) });
    } catch (err) {
      const mapped = mapError(err, Bucket);
      throw mapped instanceof StoreUnavailableError ? mapped : new StoreUnavailableError(`object store bucket not usable: ${Bucket}`, { cause: err });
    }
  }

  return {
    kind: 's3',
    putFile: async (key, filePath, opts) => {
      assertValidKey(key);
      const { size } = await fsp.stat(filePath);
      return upload(key, createReadStream(filePath), opts, size);
    },
    putStream: (key, body, opts) => upload(key, body, opts),
    head,
    get,
    downloadToFile,
    delete: deleteObject,
    deletePrefix,
    presignGet,
    ping,
    async abortIncompleteUploads(olderThan) {
      let aborted = 0;
      let KeyMarker: string | undefined;
      let UploadIdMarker: string | undefined;
      for (;;) {
        let page;
        try {
          page = await client.send(new ListMultipartUploadsCommand({ Bucket, KeyMarker, UploadIdMarker }));
        } catch (err) {
          // s3rver and some S3-compatible services do not implement the listing: nothing to do here
          // (a bucket lifecycle rule AbortIncompleteMultipartUpload does the same job there).
          if ((err as SdkErrorShape).name === 'NotImplemented' || (err as SdkErrorShape).$metadata?.httpStatusCode === 501) return 0;
          throw mapError(err, '(multipart uploads)');
        }
        for (const u of page.Uploads ?? []) {
          if (!u.Key || !u.UploadId || !u.Initiated || u.Initiated >= olderThan) continue;
          await client.send(new AbortMultipartUploadCommand({ Bucket, Key: u.Key, UploadId: u.UploadId })).catch((err: unknown) => {
            throw mapError(err, u.Key ?? '(multipart upload)');
          });
          aborted++;
        }
        if (!page.IsTruncated) return aborted;
        KeyMarker = page.NextKeyMarker;
        UploadIdMarker = page.NextUploadIdMarker;
      }
    },
    close: async () => {
      client.destroy();
      if (presignClient !== client) presignClient.destroy();
    },
  };
}

function makeClient(config: S3StoreConfig, endpoint: string | undefined): S3Client {
  const credentials = config.accessKeyId && config.secretAccessKey ? { accessKeyId: config.accessKeyId, secretAccessKey: config.secretAccessKey } : undefined;
  return new S3Client({
    endpoint,
    region: config.region,
    credentials,
    forcePathStyle: config.forcePathStyle,
    // Without these, streamed PutObject to s3rver/MinIO/Ceph stores the aws-chunked framing inside
    // the object, and unknown-length streams fail (see docs/architecture.md §12).
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: config.maxAttempts ?? 3,
    requestHandler: {
      connectionTimeout: config.connectTimeoutMs ?? 5_000,
      requestTimeout: config.idleTimeoutMs ?? 60_000,
    },
  });
}

function parseContentRange(value: string): { start: number; end: number; size: number } | null {
  const m = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(value.trim());
  if (!m) return null;
  return { start: Number(m[1]), end: Number(m[2]), size: Number(m[3]) };
}

interface SdkErrorShape {
  name?: string;
  code?: string;
  $metadata?: { httpStatusCode?: number };
}

/** Error codes of a request that got no HTTP answer (or lost it half-way). */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'ERR_STREAM_PREMATURE_CLOSE',
  'ERR_SOCKET_CONNECTION_TIMEOUT',
]);
const NETWORK_NAMES = new Set(['TimeoutError', 'AbortError', 'RequestTimeout', 'RequestTimeoutException']);

/**
 * Maps SDK and network failures to our errors. Everything else (403, a malformed request, a local
 * file-system error while writing a download) passes through unchanged: those are bugs or
 * misconfiguration, not an outage.
 */
function mapError(err: unknown, key: string): unknown {
  if (err instanceof ObjectNotFoundError || err instanceof StoreUnavailableError) return err;
  if (typeof err !== 'object' || err === null) return err;
  const e = err as SdkErrorShape;
  const status = e.$metadata?.httpStatusCode;
  if (e.name === 'NoSuchBucket') {
    return new StoreUnavailableError(`object store bucket missing (${key})`, { cause: err });
  }
  if (e.name === 'NoSuchKey' || e.name === 'NotFound' || status === 404) return new ObjectNotFoundError(key);
  if (status !== undefined && status >= 500) {
    return new StoreUnavailableError(`object store answered ${status} for ${key}`, { cause: err });
  }
  const noAnswer = e.$metadata !== undefined && status === undefined;
  if (noAnswer || NETWORK_NAMES.has(e.name ?? '') || NETWORK_CODES.has(e.code ?? '')) {
    return new StoreUnavailableError(`object store did not answer for ${key}: ${e.code ?? e.name ?? 'error'}`, { cause: err });
  }
  return err;
}

/**
 * `npm run setup`: creates the configured bucket unless it exists (HeadBucket, then CreateBucket).
 * Not used by the app, which never creates buckets. Answers what it did.
 */
export async function ensureS3Bucket(config: S3StoreConfig): Promise<'created' | 'exists'> {
  const client = makeClient(config, config.endpoint);
  try {
    try {
      await client.send(new HeadBucketCommand({ Bucket: config.bucket }));
      return 'exists';
    } catch (err) {
      const e = err as SdkErrorShape;
      if (e.name !== 'NotFound' && e.name !== 'NoSuchBucket' && e.$metadata?.httpStatusCode !== 404) throw err;
    }
    // Outside us-east-1, AWS wants the region as the location constraint; other services ignore it.
    const location = config.region && config.region !== 'us-east-1' ? { LocationConstraint: config.region as BucketLocationConstraint } : undefined;
    await client.send(new CreateBucketCommand({ Bucket: config.bucket, CreateBucketConfiguration: location }));
    return 'created';
  } finally {
    client.destroy();
  }
}
