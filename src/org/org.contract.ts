import type { ApiOperation } from '../web/openapi';
import { name, optional, pageQuerySchema, queryText, text, z } from '../platform/validate';

/** The organisation API's inputs (parsed by school.service.ts and org.routes.ts) and operations under /api/v1. */
export const schoolInput = z
  .object({
    name: name('学校名称', { max: 100 }),
    countyId: optional(text('所属县区', { max: 64 })),
    level: optional(text('学段', { max: 32 })),
  })
  .openapi('SchoolInput');

export const schoolQuery = z.object({ countyId: queryText(64), q: queryText(100, '名称包含') });

const tag = 'organisation';
export const orgOperations: ApiOperation[] = [
  { method: 'get', path: '/counties', summary: 'The county-level bureaus', tag },
  {
    method: 'get',
    path: '/schools',
    summary: 'Schools (admin: all; county: its own), ?countyId=&q=&page=&pageSize=',
    tag,
    query: schoolQuery.extend(pageQuerySchema().shape),
  },
  { method: 'post', path: '/schools', summary: 'Create a school (admin; county in its own county)', tag, body: schoolInput, status: 201 },
  { method: 'get', path: '/schools/{id}', summary: 'One school', tag },
  { method: 'patch', path: '/schools/{id}', summary: 'Edit a school', tag, body: schoolInput.partial().openapi('SchoolPatch') },
  {
    method: 'post',
    path: '/schools/import',
    summary: 'Import schools from CSV/XLSX (multipart field `file`; admin); all or nothing',
    tag,
    multipart: { field: 'file', description: 'CSV (UTF-8 or GB18030) or XLSX: 学校名称, 所属县区, 学段' },
    status: 201,
  },
];
