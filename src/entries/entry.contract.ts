import type { ApiOperation } from '../web/openapi';
import { integer, name, optional, pageQuerySchema, queryChoice, queryText, text, z } from '../platform/validate';
import { ENTRY_SORTS } from './entry.repository';
import type { EntryStatus } from './entry.schema';
import { ENTRY_STATUS_LABELS } from './entry.messages';

/** The entries API's inputs (parsed by entry.service.ts and entry.routes.ts) and operations under /api/v1. */
export const entryInput = z
  .object({
    title: name('作品名称', { max: 100 }),
    songId: optional(text('歌曲', { max: 64 })),
    customSongTitle: optional(name('自选歌曲名称', { max: 100 })),
    form: text('表演形式', { max: 32 }),
    level: text('学段', { max: 32 }),
    performerCount: integer('参演人数', { min: 1, max: 2000 }),
    directorName: optional(name('指导教师', { max: 50 })),
    description: optional(text('作品简介', { max: 1000 })),
  })
  .openapi('EntryInput');

const STATUSES = Object.keys(ENTRY_STATUS_LABELS) as EntryStatus[];

/** The filters of an entry list (API and pages); a value that names nothing is no filter. */
export const entryQuery = z.object({
  status: queryChoice(STATUSES),
  periodId: queryText(64),
  countyId: queryText(64),
  schoolId: queryText(64),
  songId: queryText(64),
  form: queryText(32),
  level: queryText(32),
  qcVerdict: queryChoice(['pass', 'warn', 'fail'] as const),
  sort: queryChoice(ENTRY_SORTS),
});

const tag = 'entries';
export const entryOperations: ApiOperation[] = [
  { method: 'post', path: '/entries', summary: 'Create an entry (school) → 201 Entry (draft)', tag, body: entryInput, status: 201 },
  {
    method: 'get',
    path: '/entries',
    summary: 'Entries visible to the caller, ?status=&periodId=&countyId=&schoolId=&songId=&form=&level=&qcVerdict=&sort=&page=&pageSize=',
    tag,
    query: entryQuery.extend(pageQuerySchema().shape),
  },
  { method: 'get', path: '/entries/{id}', summary: 'One entry with its video, QC report and loudness', tag },
  { method: 'patch', path: '/entries/{id}', summary: 'Edit an entry while draft or returned', tag, body: entryInput.partial().openapi('EntryPatch') },
  {
    method: 'post',
    path: '/entries/{id}/video',
    summary: 'Upload the video (multipart field `video`) → 202 Entry, video processing',
    tag,
    multipart: { field: 'video', description: 'MP4, MOV, MKV, AVI, MPEG-TS…; checked by content' },
    status: 202,
  },
  {
    method: 'post',
    path: '/entries/{id}/video/retry',
    summary: 'Process the failed video again from the stored original (admin) → Entry; 409 when none failed',
    tag,
  },
  { method: 'post', path: '/entries/{id}/submit', summary: 'Submit (forwarded directly for 市直 schools)', tag },
  { method: 'post', path: '/entries/{id}/withdraw', summary: 'Withdraw until forwarded → draft', tag },
  { method: 'get', path: '/entries/{id}/history', summary: 'Audit trail of the entry', tag },
  { method: 'get', path: '/entries/{id}/preview', summary: 'Preview MP4 (Range; may 302 to a presigned URL)', tag, produces: 'video' },
  { method: 'get', path: '/entries/{id}/poster', summary: 'Poster JPEG', tag, produces: 'image' },
  {
    method: 'post',
    path: '/uploads',
    summary: 'tus 1.0: create a resumable upload (Upload-Length, Upload-Metadata entryId + filename); HEAD/PATCH/DELETE /uploads/{id}',
    tag,
    status: 201,
  },
  { method: 'head', path: '/uploads/{id}', summary: 'tus 1.0: the offset of a resumable upload (Upload-Offset)', tag },
  { method: 'patch', path: '/uploads/{id}', summary: 'tus 1.0: append bytes at Upload-Offset (application/offset+octet-stream) → 204', tag, status: 204 },
  { method: 'delete', path: '/uploads/{id}', summary: 'tus 1.0: abandon a resumable upload → 204', tag, status: 204 },
];
