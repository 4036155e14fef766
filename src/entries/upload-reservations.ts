import { sql, type Kysely } from 'kysely';
import type { DB } from '../platform/db/schema';

/**
 * Rows of `resumable_uploads` (migration 0007): who owns each unfinished resumable upload and how
 * many bytes it reserves against its school's cap. Kept in the database, not in the tus store, so
 * that the ownership check is one indexed read whichever store holds the bytes (TUS_DIR or S3),
 * and the cap is one SUM instead of a listing of every upload.
 */
export interface UploadReservation {
  id: string;
  ownerId: string;
  schoolId: string;
  entryId: string;
  sizeBytes: number;
}

export interface UploadReservations {
  /**
   * Records the upload unless the school's unexpired reservations plus this one exceed `capBytes`.
   * Serialised per school (the school row is locked), so two uploads started at once cannot both
   * slip under the cap. Returns what the school had reserved before, and whether this one fit.
   */
  reserve(upload: UploadReservation, capBytes: number): Promise<{ accepted: boolean; reservedBefore: number }>;
  /** The owner's user id, or undefined when there is no such (unfinished) upload. */
  ownerOf(id: string): Promise<string | undefined>;
  /** Bytes reserved by the school's unexpired uploads. */
  reservedBytes(schoolId: string): Promise<number>;
  /** The upload finished, was cancelled or removed. */
  release(id: string): Promise<void>;
  /** Removes rows past their expiry; returns how many. */
  sweep(): Promise<number>;
}

export function createUploadReservations(db: Kysely<DB>, expiryHours: number): UploadReservations {
  const sumFor = async (executor: Kysely<DB>, schoolId: string) => {
    const row = await executor
      .selectFrom('resumable_uploads')
      .select((eb) => eb.fn.coalesce(eb.fn.sum<number>('size_bytes'), sql<number>`0`).as('total'))
      .where('school_id', '=', schoolId)
      .where('expires_at', '>', sql<Date>`now()`)
      .executeTakeFirstOrThrow();
    return Number(row.total);
  };

  return {
    reserve: (upload, capBytes) =>
      db.transaction().execute(async (trx) => {
        await trx.selectFrom('schools').select('id').where('id', '=', upload.schoolId).forUpdate().executeTakeFirst();
        const reservedBefore = await sumFor(trx, upload.schoolId);
        if (reservedBefore + upload.sizeBytes > capBytes) return { accepted: false, reservedBefore };
        await trx
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
        return { accepted: true, reservedBefore };
      }),

    async ownerOf(id) {
      const row = await db.selectFrom('resumable_uploads').select('owner_id').where('id', '=', id).executeTakeFirst();
      return row?.owner_id;
    },

    reservedBytes: (schoolId) => sumFor(db, schoolId),

    async release(id) {
      await db.deleteFrom('resumable_uploads').where('id', '=', id).execute();
    },

    async sweep() {
      const result = await db
        .deleteFrom('resumable_uploads')
        .where('expires_at', '<', sql<Date>`now()`)
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}
