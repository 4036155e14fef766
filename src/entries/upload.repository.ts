import { sql, type Kysely, type Transaction } from 'kysely';
import type { DB } from '../platform/db/schema';
import type { UploadReservation } from './upload-reservations';

/**
 * Unfinished resumable uploads as rows (Kysely): their reservations (`resumable_uploads`), the
 * parts a bucket upload has committed (`resumable_upload_parts`) and the tus locks (`upload_locks`).
 * The cap, the lease and polling rules live in upload-reservations.ts, upload-locker.ts and
 * bucket-tus-store.ts. Times are the database's `now()`, not each process's clock.
 */
type Q = Kysely<DB> | Transaction<DB>;

// ---- resumable_uploads: reservations ----

/** Bytes reserved by the school's unexpired uploads. */
export async function reservedBytesOf(q: Q, schoolId: string): Promise<number> {
  const row = await q
    .selectFrom('resumable_uploads')
    .select((eb) => eb.fn.coalesce(eb.fn.sum<number>('size_bytes'), sql<number>`0`).as('total'))
    .where('school_id', '=', schoolId)
    .where('expires_at', '>', sql<Date>`now()`)
    .executeTakeFirstOrThrow();
  return Number(row.total);
}

/** Records an upload, expiring `expiryHours` from the database's now. */
export async function insertReservation(q: Q, upload: UploadReservation, expiryHours: number): Promise<void> {
  await q
    .insertInto('resumable_uploads')
    .values({
      id: upload.id,
      owner_id: upload.ownerId,
      school_id: upload.schoolId,
      entry_id: upload.entryId,
      size_bytes: upload.sizeBytes,
      expires_at: sql<Date>`now() + make_interval(hours => ${expiryHours})`,
    })
    .execute();
}

/** The owner's user id, or undefined when there is no such (unfinished) upload. */
export async function reservationOwner(q: Q, id: string): Promise<string | undefined> {
  const row = await q.selectFrom('resumable_uploads').select('owner_id').where('id', '=', id).executeTakeFirst();
  return row?.owner_id;
}

export async function deleteReservation(q: Q, id: string): Promise<void> {
  await q.deleteFrom('resumable_uploads').where('id', '=', id).execute();
}

/** Removes reservations past their expiry; returns how many. */
export async function deleteExpiredReservations(q: Q): Promise<number> {
  const result = await q
    .deleteFrom('resumable_uploads')
    .where('expires_at', '<', sql<Date>`now()`)
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

/** Ids of the uploads expired before `now` (the bucket store removes their parts). */
export async function expiredUploadIds(q: Q, now: Date): Promise<Array<{ id: string }>> {
  return q.selectFrom('resumable_uploads').select('id').where('expires_at', '<', now).execute();
}

/** Stores the tus metadata on the upload's row; false when there is no row (onUploadCreate did not record it). */
export async function setUploadMetadata(q: Q, id: string, metadata: unknown): Promise<boolean> {
  const updated = await q
    .updateTable('resumable_uploads')
    .set({ metadata: JSON.stringify(metadata) })
    .where('id', '=', id)
    .executeTakeFirst();
  return Number(updated.numUpdatedRows) === 1;
}

/** The upload's size, metadata, creation time and offset (the sum of its committed parts: one SUM, never a bucket listing). */
export async function uploadWithOffset(q: Q, id: string) {
  return q
    .selectFrom('resumable_uploads as u')
    .select(['u.size_bytes', 'u.metadata', 'u.created_at'])
    .select(sql<number>`(SELECT coalesce(sum(p.size_bytes), 0)::bigint FROM resumable_upload_parts p WHERE p.upload_id = u.id)`.as('offset'))
    .where('u.id', '=', id)
    .executeTakeFirst();
}

// ---- resumable_upload_parts: a bucket upload's committed parts ----

/** The upload's parts in byte order. */
export async function listUploadParts(q: Q, uploadId: string) {
  return q.selectFrom('resumable_upload_parts').select(['start_byte', 'size_bytes']).where('upload_id', '=', uploadId).orderBy('start_byte').execute();
}

export async function insertUploadPart(q: Q, uploadId: string, startByte: number, sizeBytes: number): Promise<void> {
  await q.insertInto('resumable_upload_parts').values({ upload_id: uploadId, start_byte: startByte, size_bytes: sizeBytes }).execute();
}

export async function deleteUploadParts(q: Q, uploadId: string): Promise<void> {
  await q.deleteFrom('resumable_upload_parts').where('upload_id', '=', uploadId).execute();
}

// ---- upload_locks: the tus locker's leases ----

/** The lease's end: `ttlMs` from the database's now. */
const leaseEnd = (ttlMs: number) => sql<Date>`now() + make_interval(secs => ${ttlMs / 1000})`;

/** Takes the lock row when it is free or its lease expired; returns the holder after the statement (this one when taken). */
export async function takeUploadLock(q: Q, uploadId: string, holder: string, ttlMs: number): Promise<string | undefined> {
  const row = await q
    .insertInto('upload_locks')
    .values({ upload_id: uploadId, holder, expires_at: leaseEnd(ttlMs) })
    .onConflict((oc) =>
      oc
        .column('upload_id')
        .doUpdateSet({ holder, expires_at: leaseEnd(ttlMs), acquired_at: sql`now()`, release_requested: false })
        .where('upload_locks.expires_at', '<', sql<Date>`now()`),
    )
    .returning('holder')
    .executeTakeFirst();
  return row?.holder;
}

/** Extends the holder's lease; undefined when it no longer holds the row, else whether another request asked it to let go. */
export async function renewUploadLock(q: Q, uploadId: string, holder: string, ttlMs: number): Promise<{ release_requested: boolean } | undefined> {
  return q
    .updateTable('upload_locks')
    .set({ expires_at: leaseEnd(ttlMs) })
    .where('upload_id', '=', uploadId)
    .where('holder', '=', holder)
    .returning('release_requested')
    .executeTakeFirst();
}

/** Asks whoever holds the lock to let go (seen at its next renewal). */
export async function requestUploadLockRelease(q: Q, uploadId: string): Promise<void> {
  await q.updateTable('upload_locks').set({ release_requested: true }).where('upload_id', '=', uploadId).where('release_requested', '=', false).execute();
}

/** Deletes the lock row only if this holder still has it. */
export async function deleteUploadLock(q: Q, uploadId: string, holder: string): Promise<void> {
  await q.deleteFrom('upload_locks').where('upload_id', '=', uploadId).where('holder', '=', holder).execute();
}

/** Removes locks whose lease expired (their holders died); returns how many. */
export async function deleteExpiredUploadLocks(q: Q): Promise<number> {
  const result = await q
    .deleteFrom('upload_locks')
    .where('expires_at', '<', sql<Date>`now()`)
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}
