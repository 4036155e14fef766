import type { ApiOperation } from '../web/openapi';
import { calendarDate, z } from '../platform/validate';
import type { MasterProfile } from './broadcast.schema';

/** The broadcast API's inputs (parsed by broadcast.service.ts) and operations under /api/v1. */
export const PROFILES = ['xdcam-hd422', 'h264-1080p25'] as const satisfies readonly MasterProfile[];

export const selectInput = z
  .object({
    profile: z
      .preprocess((v) => v ?? undefined, z.enum(PROFILES, { error: '母版格式只能是 xdcam-hd422 或 h264-1080p25' }).default('xdcam-hd422'))
      .openapi({ description: '母版格式', default: 'xdcam-hd422' }),
    /** How a 4:3 or vertical video fills 16:9: black bars (default) or a blurred copy. */
    pillarbox: z.preprocess((v) => (v === 'blur' ? 'blur' : 'black'), z.enum(['black', 'blur'])).openapi({ default: 'black' }),
  })
  .openapi('BroadcastSelectInput');

export const airedInput = z.object({ airedOn: calendarDate('播出日期', '播出日期格式应为 2026-06-01') }).openapi('AiredInput');

const tag = 'broadcast';
export const broadcastOperations: ApiOperation[] = [
  { method: 'post', path: '/entries/{id}/broadcast', summary: 'Select for broadcast { profile?, pillarbox? } (admin)', tag, body: selectInput },
  { method: 'get', path: '/broadcast/entries', summary: 'The TV desk', tag },
  { method: 'get', path: '/broadcast/entries/{id}', summary: 'One desk item', tag },
  { method: 'get', path: '/broadcast/entries/{id}/master', summary: 'The master file (attachment, Range)', tag, produces: 'binary' },
  { method: 'post', path: '/broadcast/entries/{id}/aired', summary: 'Mark aired { airedOn } → 204', tag, body: airedInput, status: 204 },
  { method: 'get', path: '/broadcast/programme-sheet.xlsx', summary: '节目单 XLSX', tag, produces: 'xlsx' },
  { method: 'get', path: '/broadcast/programme-sheet.csv', summary: '节目单 CSV', tag, produces: 'csv' },
  { method: 'get', path: '/broadcast/archive.zip', summary: 'All ready masters as one streamed ZIP', tag, produces: 'zip' },
];
