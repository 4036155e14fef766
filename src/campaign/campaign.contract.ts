import type { ApiOperation } from '../web/openapi';
import { dateTime, integer, name, z } from '../platform/validate';

/** The campaign API's inputs (parsed by campaign.service.ts) and operations under /api/v1. */
export const periodInput = z
  .object({
    name: name('报送期名称', { max: 60 }),
    quota: integer('每县报送名额', { min: 0, max: 10000 }),
    submitBy: dateTime('学校提交截止时间'),
    forwardBy: dateTime('县区报送截止时间'),
  })
  .openapi('Period');

const tag = 'campaign';
export const campaignOperations: ApiOperation[] = [
  { method: 'get', path: '/campaign', summary: 'Songs, forms, levels and periods', tag },
  {
    method: 'patch',
    path: '/periods/{id}',
    summary: 'Edit a period (admin): quota, submitBy, forwardBy, name',
    tag,
    body: periodInput.partial().openapi('PeriodPatch'),
  },
];
