import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Kysely } from 'kysely';
import type * as TusUtilsModule from '@tus/utils' with { 'resolution-mode': 'import' };
import type { DB } from '../platform/db/schema';
import { outageOf } from '../platform/outage';
import { objectKeys } from '../platform/storage/object-keys';
import type { ObjectStore } from '../platform/storage/object-store';
import type { TusStorage } from './resumable-upload';
import { TusReply } from './tus-reply';
import { deleteUploadParts, expiredUploadIds, insertUploadPart, listUploadParts, setUploadMetadata, uploadWithOffset } from './upload.repository';
import { tempName } from '../platform/temp-files';

/**
 * The tus store for production (the S3 object store): an unfinished upload's bytes live in the
 * bucket, so any web process — on any machine — continues it, and no shared volume is needed.
 *
 * Each PATCH's body becomes objects of at most PART_BYTES, `tus/<upload id>/<first byte, 16 digits>`,
 * each put (one PutObject) and listed as soon as it is full: a connection cut mid-body keeps every
 * byte that arrived (the last, short part is committed too), and a web process that dies mid-PATCH
 * loses at most the parts not yet committed (≤ 2 × PART_BYTES), never the upload's earlier bytes.
 * `resumable_upload_parts` lists the parts, so the upload's offset is one SUM, never a bucket
 * listing; the upload's metadata is in its `resumable_uploads` row (written by onUploadCreate,
 * before tus calls create()). The tus locker (upload-locker.ts) keeps two requests for one upload
 * from writing at once, so parts never overlap.
 *
 * At the last byte the parts are streamed, in order, into one local file that attach() takes over
 * (content sniff → original → ingest), then the parts are deleted. That is one more pass over the
 * bytes than the file store (bucket → web process → bucket); the upload itself is not slowed.
 *
 * Why not @tus/s3-store: it needs ListParts / AbortMultipartUpload / ListMultipartUploads, which
 * s3rver (the S3 the tests run against) does not implement, so it could not be tested here. This
 * store uses only PutObject (multipart under lib-storage), GetObject and DeleteObject.
 */

/** Largest object one PATCH writes at a time: below lib-storage's 8 MiB part size, so one PutObject each. */
export const PART_BYTES = 4 * 1024 * 1024;
/** The bucket did not answer: a 503 the page's tus client retries by itself (it keeps the offset). */
const STORE_DOWN = new TusReply(503, '文件存储暂时不可用，请稍后重试（页面会自动重试）。\n');

export async function createBucketTusStorage(deps: { db: Kysely<DB>; store: ObjectStore; tmpDir: string; expiryHours: number }): Promise<TusStorage> {
  const { DataStore, Upload, ERRORS }: typeof TusUtilsModule = await import('@tus/utils');
  const { db, store } = deps;
  fs.mkdirSync(deps.tmpDir, { recursive: true });

  class BucketTusStore extends DataStore {
    constructor() {
      super();
      this.extensions = ['creation', 'creation-with-upload', 'termination', 'expiration'];
    }

    override async create(upload: InstanceType<typeof Upload>) {
      // onUploadCreate records the upload first; without its row there is nothing to attach bytes to.
      if (!(await setUploadMetadata(db, upload.id, upload.metadata ?? {}))) throw ERRORS.FILE_NOT_FOUND;
      upload.storage = { type: 'bucket', path: objectKeys.tusParts(upload.id) };
      return upload;
    }

    override async write(readable: Readable, id: string, offset: number): Promise<number> {
      // The body is committed in objects of at most PART_BYTES as it arrives (one PutObject each, the
      // next one filling while the last is sent), so a web process that dies mid-PATCH loses at most
      // the part in flight, and leaves no incomplete multipart upload behind.
      let committed = offset;
      let chunks: Buffer[] = [];
      let buffered = 0;
      let sending: Promise<void> = Promise.resolve();
      const commit = (body: Buffer) => {
        sending = sending.then(async () => {
          const key = objectKeys.tusPart(id, committed);
          try {
            await store.putStream(key, Readable.from([body]), { contentType: 'application/octet-stream' });
          } catch (err) {
            throw outageOf(err) === 'store' ? STORE_DOWN : ERRORS.FILE_WRITE_ERROR;
          }
          try {
            await insertUploadPart(db, id, committed, body.length);
          } catch (err) {
            await store.delete(key).catch(() => undefined); // the upload was cancelled or expired meanwhile: leave no orphan object
            throw err;
          }
          committed += body.length;
        });
        // Keep an unobserved failure from being reported before it is awaited below.
        sending.catch(() => undefined);
      };
      const cut = () => {
        if (buffered === 0) return;
        const body = Buffer.concat(chunks, buffered);
        chunks = [];
        buffered = 0;
        commit(body);
      };
      try {
        for await (const chunk of readable as AsyncIterable<Buffer>) {
          let rest = chunk;
          while (buffered + rest.length >= PART_BYTES) {
            const take = PART_BYTES - buffered;
            chunks.push(rest.subarray(0, take));
            buffered += take;
            rest = rest.subarray(take);
            await sending; // at most one part sent while the next fills
            cut();
          }
          if (rest.length) {
            chunks.push(rest);
            buffered += rest.length;
          }
        }
      } catch {
        // The connection was cut mid-body: keep what arrived (tus's contract), then report it.
      }
      cut();
      await sending;
      return committed;
    }

    override async getUpload(id: string) {
      const row = await uploadWithOffset(db, id);
      if (!row) throw ERRORS.FILE_NOT_FOUND;
      return new Upload({
        id,
        size: Number(row.size_bytes),
        offset: Number(row.offset),
        metadata: (row.metadata as Record<string, string | null> | null) ?? {},
        creation_date: new Date(row.created_at).toISOString(),
        storage: { type: 'bucket', path: objectKeys.tusParts(id) },
      });
    }

    override async remove(id: string): Promise<void> {
      await store.deletePrefix(objectKeys.tusParts(id));
      await deleteUploadParts(db, id);
    }

    override async deleteExpired(): Promise<number> {
      const expired = await expiredUploadIds(db, new Date());
      for (const { id } of expired) await this.remove(id);
      return expired.length;
    }

    override getExpiration(): number {
      return deps.expiryHours * 3600_000;
    }
  }

  const datastore = new BucketTusStore();
  return {
    datastore,
    async finishedFile(id) {
      const file = path.join(deps.tmpDir, tempName('tus'));
      const out = fs.createWriteStream(file, { flags: 'wx' });
      try {
        for (const part of await listUploadParts(db, id)) {
          const got = await store.get(objectKeys.tusPart(id, Number(part.start_byte)));
          await pipeline(got.body, out, { end: false });
        }
        await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
      } catch (err) {
        out.destroy();
        await fs.promises.rm(file, { force: true });
        throw err;
      }
      return file;
    },
    remove: (id) => datastore.remove(id),
  };
}
