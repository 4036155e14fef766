import { sql, type Transaction } from 'kysely';
import type { DB } from './schema';

/**
 * Lets this transaction (only) write to a closed campaign's rows, past the read-only trigger
 * `cx_campaign_write_guard` (migration 0018). For the few writes the law or the archive itself
 * needs after closing: retention's deletions, a guardian withdrawing a permission, erasing a
 * school's personal data on request. Everything else stays refused with 409 campaign_closed.
 */
export async function allowArchiveWrite(trx: Transaction<DB>): Promise<void> {
  await sql`SELECT set_config('cx.archive_write', 'on', true)`.execute(trx);
}
