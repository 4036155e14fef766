import type { ApiOperation } from '../web/openapi';
import { idList, pageQuerySchema, z } from '../platform/validate';

/** The new-media API's inputs (parsed by newmedia.service.ts) and operations under /api/v1. */

/** Which ready packs go into the all-packs ZIP: `?entryId=a&entryId=b` (none: every ready pack). */
export const archiveQuery = z
  .object({
    entryId: z
      .preprocess((v) => (typeof v === 'string' ? [v] : v), idList(500))
      .optional()
      .openapi({ description: '只打包这些作品的新媒体包（可重复）；不填则打包全部已完成的' }),
  })
  .openapi('MediaPackArchiveQuery');

export const deskQuery = pageQuerySchema(50);

const tag = 'newmedia';
export const newMediaOperations: ApiOperation[] = [
  {
    method: 'post',
    path: '/entries/{id}/media-pack',
    summary: 'Start (or restart) the new-media pack of an awarded entry (newmedia, admin) → 202',
    tag,
    status: 202,
  },
  { method: 'get', path: '/entries/{id}/media-pack', summary: 'The pack: status, progress, outputs, post draft', tag },
  { method: 'get', path: '/entries/{id}/media-pack.zip', summary: 'The pack as one streamed ZIP with Chinese names', tag, produces: 'zip' },
  { method: 'get', path: '/media-packs', summary: 'Awarded entries with their packs (paginated)', tag, query: deskQuery },
  {
    method: 'get',
    path: '/media-packs.zip',
    summary: 'Every ready pack (or the selected ones) as one streamed ZIP',
    tag,
    query: archiveQuery,
    produces: 'zip',
  },
];
