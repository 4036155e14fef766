import type { ApiOperation } from '../web/openapi';
import { calendarDate, idList, optional, text, z } from '../platform/validate';

/** 获奖证书's inputs (parsed by certificate.service.ts) and operations under /api/v1. */
export const issueInput = z
  .object({
    /** 优秀组织奖: exactly these counties (absent: leave the county certificates as they are) */
    organisationCountyIds: z.preprocess((v) => (v === undefined || v === null ? undefined : v), idList(50).optional()),
    issuedOn: optional(calendarDate('颁发日期', '颁发日期格式应为 YYYY-MM-DD，例如 2027-06-30')),
  })
  .openapi('CertificateIssue');

export const revokeInput = z.object({ reason: text('撤销原因', { min: 1, max: 500 }) }).openapi('CertificateRevoke');

const tag = 'certificates';
export const certificateOperations: ApiOperation[] = [
  {
    method: 'post',
    path: '/rounds/{id}/certificates',
    summary: 'Issue the round certificates (admin): awarded entries, directors, 优秀组织奖 { organisationCountyIds?, issuedOn? }; rendered by a job',
    tag,
    body: issueInput,
    status: 202,
  },
  { method: 'get', path: '/rounds/{id}/certificates', summary: 'The round certificates with status and print sheet (admin)', tag },
  { method: 'get', path: '/rounds/{id}/certificates.zip', summary: 'Every live certificate of the round, streamed ZIP (admin)', tag, produces: 'zip' },
  {
    method: 'get',
    path: '/rounds/{id}/certificates/print.pdf',
    summary: 'The print sheet: every live certificate, A4 landscape, one PDF (admin)',
    tag,
    produces: 'binary',
  },
  { method: 'get', path: '/schools/{id}/certificates', summary: "A school's certificates (the school, its county, admin)", tag },
  { method: 'get', path: '/schools/{id}/certificates.zip', summary: "A school's live certificates as a ZIP", tag, produces: 'zip' },
  { method: 'get', path: '/certificates/{number}', summary: 'Verify a certificate number (public): the award, 已撤销 when revoked', tag, public: true },
  { method: 'get', path: '/certificates/{number}/pdf', summary: 'One certificate PDF (its school, county, admin)', tag, produces: 'binary' },
  {
    method: 'post',
    path: '/certificates/{number}/revoke',
    summary: 'Revoke a certificate { reason } (admin); its number stays, the verify page says 已撤销',
    tag,
    body: revokeInput,
  },
  { method: 'put', path: '/certificates/seal', summary: "The bureau's seal, PNG ≤ 2 MB (admin)", tag, multipart: { field: 'file', description: 'PNG' } },
  { method: 'delete', path: '/certificates/seal', summary: 'Remove the seal: certificates leave an empty space for a stamp (admin)', tag },
];
