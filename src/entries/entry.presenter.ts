import type { EntryRow } from './entry.repository';
import type { Campaign } from '../campaign/campaign.service';
import { formatBytes, formatDuration } from '../platform/format';
import { ENTRY_STATUS_LABELS, QC_CHECK_LABELS, QC_VERDICT_LABELS, VIDEO_STATUS_LABELS } from './entry.messages';
import { EDITABLE, STATUS_TONE, type EntryView, type VideoView } from './entry.types';
import { AWARD_LABELS } from '../judging/judging.messages';
import type { AwardTier } from '../judging/judging.schema';

const AWARDED_STATES: readonly EntryView['status'][] = ['awarded', 'broadcast_selected', 'aired'];

const iso = (d: Date | string | null) => (d ? new Date(d).toISOString() : null);

/** Turns a joined entry row into the API's Entry (also the view model of the pages). */
export function presentEntry(row: EntryRow): EntryView {
  const video: VideoView | null = row.v_id
    ? {
        id: row.v_id,
        status: row.v_status!,
        progress: row.v_progress ?? 0,
        error: row.v_error ?? null,
        originalName: row.v_original_name ?? '',
        sizeBytes: Number(row.v_size_bytes ?? 0),
        probe: (row.v_probe as Record<string, unknown> | null) ?? null,
        qc: (row.v_qc as VideoView['qc']) ?? null,
        loudness: (row.v_loudness as VideoView['loudness']) ?? null,
        previewUrl: row.v_preview_key && row.v_status === 'ready' ? `/api/v1/entries/${row.id}/preview` : null,
        posterUrl: row.v_poster_key && row.v_status === 'ready' ? `/api/v1/entries/${row.id}/poster` : null,
        purgedAt: iso(row.v_purged_at),
      }
    : null;
  return {
    id: row.id,
    code: row.code,
    campaignId: row.campaign_id,
    title: row.title,
    status: row.status,
    song: row.song_id
      ? { id: row.song_id, title: row.song_title ?? '', designated: Boolean(row.song_designated) }
      : { id: null, title: row.custom_song_title ?? '', designated: false },
    form: row.form,
    level: row.level,
    performerCount: row.performer_count,
    directorName: row.director_name,
    description: row.description,
    school: { id: row.school_id, name: row.school_name },
    county: row.county_id ? { id: row.county_id, name: row.county_name ?? '' } : null,
    periodId: row.period_id,
    forwardRank: row.forward_rank,
    award: row.award,
    returnReason: row.return_reason,
    createdAt: iso(row.created_at)!,
    updatedAt: iso(row.updated_at)!,
    submittedAt: iso(row.submitted_at),
    video,
  };
}

/** View model for the pages: labels and badge tones next to the API's Entry. */
export function entryViewModel(entry: EntryView, campaign: Campaign) {
  const form = campaign.forms.find((f) => f.code === entry.form);
  const level = campaign.levels.find((l) => l.code === entry.level);
  return {
    ...entry,
    statusLabel: ENTRY_STATUS_LABELS[entry.status],
    statusTone: STATUS_TONE[entry.status],
    // 一等奖…: the school keeps seeing what it won after 已选送电视台 and 已播出.
    awardLabel: entry.award && AWARDED_STATES.includes(entry.status) ? (AWARD_LABELS[entry.award as AwardTier] ?? null) : null,
    formLabel: form?.label ?? entry.form,
    levelLabel: level?.label ?? entry.level,
    editable: EDITABLE.includes(entry.status),
    videoStatusLabel: entry.video ? VIDEO_STATUS_LABELS[entry.video.status] : null,
    videoTone: entry.video ? STATUS_TONE[entry.video.status] : null,
    qcLabel: entry.video?.qc ? QC_VERDICT_LABELS[entry.video.qc.verdict] : null,
    qcTone: entry.video?.qc ? STATUS_TONE[entry.video.qc.verdict] : null,
    qcChecks:
      entry.video?.qc?.checks.map((c) => ({
        ...c,
        label: QC_CHECK_LABELS[c.name] ?? c.name,
        tone: STATUS_TONE[c.status],
        statusLabel: QC_VERDICT_LABELS[c.status as 'pass'],
      })) ?? [],
    durationText: entry.video?.probe && typeof entry.video.probe.durationS === 'number' ? formatDuration(entry.video.probe.durationS) : null,
    sizeText: entry.video ? formatBytes(entry.video.sizeBytes) : null,
  };
}
