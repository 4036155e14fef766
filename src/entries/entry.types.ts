import type { EntryStatus, QcVerdict, VideoStatus } from './entry.schema';

export type { EntryStatus, QcVerdict, VideoStatus };

/** Statuses in which the school may still edit the entry and replace its video. */
export const EDITABLE: readonly EntryStatus[] = ['draft', 'returned'];

/** Badge colour per status, for the one stylesheet. */
export const STATUS_TONE: Record<string, 'ok' | 'warn' | 'bad' | 'info' | 'muted'> = {
  draft: 'muted',
  submitted: 'info',
  returned: 'warn',
  forwarded: 'ok',
  in_judging: 'info',
  shortlisted: 'ok',
  not_selected: 'muted',
  awarded: 'ok',
  broadcast_selected: 'ok',
  aired: 'ok',
  uploaded: 'info',
  processing: 'info',
  ready: 'ok',
  failed: 'bad',
  pass: 'ok',
  warn: 'warn',
  fail: 'bad',
};

/** The Video of docs/api.md. */
export interface VideoView {
  id: string;
  status: VideoStatus;
  progress: number;
  error: string | null;
  originalName: string;
  sizeBytes: number;
  probe: Record<string, unknown> | null;
  qc: { verdict: QcVerdict; checks: Array<{ name: string; status: string; value: string; message: string }> } | null;
  loudness: { integratedLufs: number | null; truePeakDbtp: number | null; lra: number | null } | null;
  previewUrl: string | null;
  posterUrl: string | null;
  /** the files were deleted by the campaign's retention policy (migration 0019): the entry remains, as a record */
  purgedAt: string | null;
}

/** The Entry of docs/api.md. */
export interface EntryView {
  id: string;
  code: string;
  /** the campaign the entry belongs to (migration 0018: several campaigns) */
  campaignId: string;
  title: string;
  status: EntryStatus;
  song: { id: string | null; title: string; designated: boolean };
  form: string;
  level: string;
  performerCount: number;
  directorName: string | null;
  description: string | null;
  school: { id: string; name: string };
  county: { id: string; name: string } | null;
  periodId: string | null;
  forwardRank: number | null;
  award: string | null;
  returnReason: string | null;
  createdAt: string;
  updatedAt: string;
  submittedAt: string | null;
  video: VideoView | null;
  /**
   * A newer upload kept behind the entry's ready video until it is ready itself (then it becomes
   * `video`), or that failed (then `video` stays). Only on single-entry answers; null otherwise.
   */
  replacement?: { id: string; status: VideoStatus; progress: number; error: string | null; originalName: string } | null;
}
