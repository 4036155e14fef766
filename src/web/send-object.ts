import type { Request, Response } from 'express';
import { pipeline } from 'node:stream/promises';
import { contentDisposition } from '../platform/storage/content-disposition';
import { parseRangeHeader } from '../platform/storage/byte-range';
import { ObjectNotFoundError, RangeNotSatisfiableError } from '../platform/storage/object-store';
import type { Disposition, ObjectInfo, ObjectStore } from '../platform/storage/object-store';

export interface SendObjectOptions {
  /** Sent as Content-Type (the stored type is not trusted for what the browser does with it). */
  contentType: string;
  /** User-facing file name, may be Chinese; sanitised and encoded (RFC 6266/5987). */
  downloadName?: string;
  /** Uploaded files are `attachment` (docs/security.md: never rendered from the app origin); previews may be `inline`. */
  disposition: Disposition;
  /** With S3: answer 302 to a short-lived presigned URL instead of streaming through this process. */
  redirectToPresigned?: boolean;
  /** Lifetime of the presigned URL; default 300 s. */
  presignTtlS?: number;
  /** Default `private, no-cache`: objects are access-controlled; revalidation uses the ETag. */
  cacheControl?: string;
}

const DEFAULT_PRESIGN_TTL_S = 300;

/**
 * Streams one stored object as the HTTP response: HEAD, `Accept-Ranges: bytes`, a single range
 * (`bytes=a-b`, `bytes=a-`, `bytes=-n` → 206), 416 with `Content-Range: bytes *\/size` when the range
 * starts past the end, several ranges → the whole object (200), `If-Range`/`If-None-Match` against
 * the store's ETag. Authorization is the caller's job and must happen before this is called.
 *
 * A missing object throws ObjectNotFoundError (the error handler answers 404); a store outage throws
 * StoreUnavailableError (503). If the client goes away mid-transfer the source stream is destroyed
 * and the promise resolves quietly.
 */
export async function sendObject(req: Request, res: Response, store: ObjectStore, key: string, opts: SendObjectOptions): Promise<void> {
  res.setHeader('X-Content-Type-Options', 'nosniff');

  const info = await store.head(key);
  if (!info) throw new ObjectNotFoundError(key);

  if (opts.redirectToPresigned) {
    const url = await store.presignGet(key, {
      expiresInS: opts.presignTtlS ?? DEFAULT_PRESIGN_TTL_S,
      downloadName: opts.downloadName,
      disposition: opts.disposition,
      contentType: opts.contentType,
    });
    if (url !== null) {
      // The URL is a short-lived credential: keep it out of caches and Referer headers.
      res.setHeader('Cache-Control', 'no-store');
      res.setHeader('Referrer-Policy', 'no-referrer');
      res.redirect(302, url);
      return;
    }
    // A store that cannot presign (local disk) streams instead.
  }

  res.setHeader('Accept-Ranges', 'bytes');
  res.setHeader('Content-Type', opts.contentType);
  res.setHeader('Content-Disposition', contentDisposition(opts.disposition, opts.downloadName));
  res.setHeader('Cache-Control', opts.cacheControl ?? 'private, no-cache');
  res.setHeader('ETag', info.etag);
  res.setHeader('Last-Modified', info.lastModified.toUTCString());

  if (isNotModified(req, info)) {
    res.status(304).end();
    return;
  }

  const request = rangeApplies(req, info) ? parseRangeHeader(req.headers.range, info.sizeBytes) : ({ kind: 'whole' } as const);
  if (request.kind === 'unsatisfiable') {
    sendUnsatisfiable(res, info.sizeBytes);
    return;
  }

  if (req.method === 'HEAD') {
    if (request.kind === 'range') {
      res.status(206);
      res.setHeader('Content-Range', `bytes ${request.start}-${request.end}/${info.sizeBytes}`);
      res.setHeader('Content-Length', String(request.end - request.start + 1));
    } else {
      res.status(200);
      res.setHeader('Content-Length', String(info.sizeBytes));
    }
    res.end();
    return;
  }

  let result;
  try {
    result = await store.get(key, request.kind === 'range' ? { start: request.start, end: request.end } : undefined);
  } catch (err) {
    // The object was replaced by a shorter one between head and get.
    if (err instanceof RangeNotSatisfiableError) {
      sendUnsatisfiable(res, err.sizeBytes);
      return;
    }
    throw err;
  }
  // Headers come from what get() actually serves, in case the object changed since head().
  res.setHeader('ETag', result.etag);
  if (result.range) {
    res.status(206);
    res.setHeader('Content-Range', `bytes ${result.range.start}-${result.range.end}/${result.sizeBytes}`);
    res.setHeader('Content-Length', String(result.range.end - result.range.start + 1));
  } else {
    res.status(200);
    res.setHeader('Content-Length', String(result.sizeBytes));
  }

  try {
    // pipeline destroys the source when the response closes early (client gone).
    await pipeline(result.body, res);
  } catch (err) {
    result.body.destroy();
    if (clientWentAway(res)) return;
    throw err;
  }
}

function sendUnsatisfiable(res: Response, sizeBytes: number): void {
  res.status(416);
  res.setHeader('Content-Range', `bytes */${sizeBytes}`);
  res.removeHeader('Content-Disposition');
  res.setHeader('Content-Length', '0');
  res.end();
}

/** `If-None-Match` (no ranges involved): 304 when the client already has this version. */
function isNotModified(req: Request, info: ObjectInfo): boolean {
  const header = req.headers['if-none-match'];
  if (!header) return false;
  const wanted = header.split(',').map((tag) => tag.trim().replace(/^W\//, ''));
  return wanted.includes('*') || wanted.includes(info.etag);
}

/** `If-Range`: honour the range only when the client's copy is this exact version. */
function rangeApplies(req: Request, info: ObjectInfo): boolean {
  const raw: string | string[] | undefined = req.headers['if-range'];
  const header = Array.isArray(raw) ? raw[0] : raw;
  if (header === undefined) return true;
  if (header.startsWith('"')) return header === info.etag; // strong comparison
  if (header.startsWith('W/')) return false;
  const date = Date.parse(header);
  return Number.isFinite(date) && Math.floor(info.lastModified.getTime() / 1000) * 1000 === date;
}

function clientWentAway(res: Response): boolean {
  return res.destroyed && !res.writableFinished;
}
