import type { Kysely } from 'kysely';
import { lockSchool } from '../org/school.repository';
import type { DB } from '../platform/db/schema';
import { deleteExpiredReservations, deleteReservation, insertReservation, reservationOwner, reservedBytesOf } from './upload.repository';

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
  return {
    reserve: (upload, capBytes) =>
      db.transaction().execute(async (trx) => {
        await lockSchool(trx, upload.schoolId);
        const reservedBefore = await reservedBytesOf(trx, upload.schoolId);
        if (reservedBefore + upload.sizeBytes > capBytes) return { accepted: false, reservedBefore };
        await insertReservation(trx, upload, expiryHours);
        return { accepted: true, reservedBefore };
      }),

    ownerOf: (id) => reservationOwner(db, id),
    reservedBytes: (schoolId) => reservedBytesOf(db, schoolId),
    release: (id) => deleteReservation(db, id),
    sweep: () => deleteExpiredReservations(db),
  };
}
