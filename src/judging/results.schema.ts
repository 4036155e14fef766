import type { DefaultTimestamp } from '../platform/db/schema';
import type { Generated } from 'kysely';

/** Issue 18: frozen results (revisions) and objections during the 公示期. */
export type ObjectionStatus = 'submitted' | 'accepted' | 'reviewing' | 'concluded';
export type ObjectionOutcome = 'upheld' | 'rejected';

export interface ResultRevisionsTable {
  round_id: string;
  /** 0: the first 公示; 1, 2, …: later changes, each with a reason. */
  revision: number;
  reason: string | null;
  /** The canonical JSON text; `snapshot_sha256` is the SHA-256 of exactly these UTF-8 bytes. */
  snapshot: string;
  snapshot_sha256: string;
  actor_id: string | null;
  created_at: DefaultTimestamp;
}

export interface ObjectionsTable {
  id: Generated<string>;
  campaign_id: string;
  round_id: string;
  receipt_number: string;
  entry_code: string | null;
  name: string;
  phone: string;
  relation: string;
  reason: string;
  attachment_key: string | null;
  attachment_type: string | null;
  attachment_size: number | null;
  status: Generated<ObjectionStatus>;
  outcome: ObjectionOutcome | null;
  conclusion: string | null;
  client_key: string;
  created_at: DefaultTimestamp;
  updated_at: DefaultTimestamp;
}

export interface ResultsTables {
  result_revisions: ResultRevisionsTable;
  objections: ObjectionsTable;
}
