/**
 * The OpenAPI 3 document served at GET /api/v1/openapi.json. Paths are the API.md contract;
 * each component lists its operations here as it lands.
 */
type Op = { method: 'get' | 'post' | 'patch' | 'put' | 'delete'; path: string; summary: string; tag: string; body?: string; public?: boolean };

const OPERATIONS: Op[] = [
  { method: 'post', path: '/auth/token', summary: 'Exchange username + password for a bearer token', tag: 'auth', body: 'Credentials', public: true },
  { method: 'delete', path: '/auth/token', summary: 'Revoke the presented token', tag: 'auth' },
  { method: 'get', path: '/me', summary: 'The caller', tag: 'auth' },
  { method: 'get', path: '/campaign', summary: 'Songs, forms, levels and periods', tag: 'campaign' },
  { method: 'patch', path: '/periods/{id}', summary: 'Edit a period (admin): quota, submitBy, forwardBy, name', tag: 'campaign', body: 'PeriodPatch' },
  { method: 'get', path: '/counties', summary: 'The county-level bureaus', tag: 'organisation' },
  { method: 'get', path: '/schools', summary: 'Schools (admin: all; county: its own), ?countyId=&q=&page=&pageSize=', tag: 'organisation' },
  { method: 'post', path: '/schools', summary: 'Create a school (admin; county in its own county)', tag: 'organisation', body: 'SchoolInput' },
  { method: 'get', path: '/schools/{id}', summary: 'One school', tag: 'organisation' },
  { method: 'patch', path: '/schools/{id}', summary: 'Edit a school', tag: 'organisation', body: 'SchoolInput' },
  { method: 'post', path: '/schools/import', summary: 'Import schools from CSV/XLSX (multipart field `file`; admin); all or nothing', tag: 'organisation' },
  { method: 'get', path: '/users', summary: 'Accounts (admin: all; county: its schools\' accounts), ?role=&countyId=&q=&page=', tag: 'accounts' },
  { method: 'post', path: '/users', summary: 'Create an account → 201 { id }', tag: 'accounts', body: 'UserInput' },
  { method: 'get', path: '/users/{id}', summary: 'One account', tag: 'accounts' },
  { method: 'patch', path: '/users/{id}', summary: 'Rename, disable/enable ({ disabled }), or reset the password ({ password })', tag: 'accounts', body: 'UserPatch' },
  { method: 'post', path: '/users/{id}/unlock', summary: 'Admin: clear the account\'s failed logins (all addresses) → { cleared }; audited', tag: 'accounts' },
  { method: 'post', path: '/entries', summary: 'Create an entry (school) → 201 Entry (draft)', tag: 'entries' },
  { method: 'get', path: '/entries', summary: 'Entries visible to the caller, ?status=&periodId=&countyId=&schoolId=&songId=&form=&level=&qcVerdict=&sort=&page=&pageSize=', tag: 'entries' },
  { method: 'get', path: '/entries/{id}', summary: 'One entry with its video, QC report and loudness', tag: 'entries' },
  { method: 'patch', path: '/entries/{id}', summary: 'Edit an entry while draft or returned', tag: 'entries' },
  { method: 'post', path: '/entries/{id}/video', summary: 'Upload the video (multipart field `video`) → 202 Entry, video processing', tag: 'entries' },
  { method: 'post', path: '/entries/{id}/video/retry', summary: 'Process the failed video again from the stored original (admin) → Entry; 409 when none failed', tag: 'entries' },
  { method: 'post', path: '/entries/{id}/submit', summary: 'Submit (forwarded directly for 市直 schools)', tag: 'entries' },
  { method: 'post', path: '/entries/{id}/withdraw', summary: 'Withdraw until forwarded → draft', tag: 'entries' },
  { method: 'get', path: '/entries/{id}/history', summary: 'Audit trail of the entry', tag: 'entries' },
  { method: 'get', path: '/entries/{id}/preview', summary: 'Preview MP4 (Range; may 302 to a presigned URL)', tag: 'entries' },
  { method: 'get', path: '/entries/{id}/poster', summary: 'Poster JPEG', tag: 'entries' },
  { method: 'post', path: '/entries/{id}/return', summary: 'Return to the school with { reason } (county, admin)', tag: 'review' },
  { method: 'post', path: '/entries/{id}/forward', summary: 'Forward to the city { periodId?, rank? } within the quota (county); 409 quota_exceeded', tag: 'review' },
  { method: 'post', path: '/entries/{id}/rank', summary: 'Move a forwarded entry in the county ranking { rank }', tag: 'review' },
  { method: 'get', path: '/periods/{id}/quotas', summary: 'Quota use per county for a period', tag: 'review' },
  { method: 'put', path: '/periods/{id}/quotas/{countyId}', summary: 'Override one county quota { quota | null } (admin)', tag: 'review' },
  { method: 'get', path: '/stats', summary: 'Participation: county × status, songs, forms, levels, schools without entries', tag: 'review' },
  { method: 'get', path: '/exports/forwarded.xlsx', summary: 'Forwarded entries as XLSX ?periodId=&countyId=', tag: 'review' },
  { method: 'get', path: '/audit', summary: 'Audit log (admin) ?action=&objectType=&objectId=&page=', tag: 'review' },
  { method: 'get', path: '/rounds', summary: 'Rounds (admin)', tag: 'judging' },
  { method: 'post', path: '/rounds', summary: 'Create a round { name, periodId?, judgesPerEntry, blind, aggregation, rubric, opensAt?, closesAt? }', tag: 'judging' },
  { method: 'get', path: '/rounds/{id}', summary: 'One round', tag: 'judging' },
  { method: 'patch', path: '/rounds/{id}', summary: 'Edit a round (rubric, k, blind, method only while draft)', tag: 'judging' },
  { method: 'post', path: '/rounds/{id}/entries', summary: 'Add entries { entryIds? | fromRoundShortlist?, includeAwarded? } (default: forwarded entries of the period); awarded or broadcast-selected entries → 409 unless includeAwarded (false leaves them out: skipped)', tag: 'judging' },
  { method: 'post', path: '/rounds/{id}/judges', summary: 'Set the panel { userIds }', tag: 'judging' },
  { method: 'post', path: '/rounds/{id}/assign', summary: 'Automatic balanced assignment → { assignments, assignmentCount, loads, balanced, note, warnings }', tag: 'judging' },
  { method: 'get', path: '/rounds/{id}/assignments', summary: 'Assignments of the round', tag: 'judging' },
  { method: 'post', path: '/rounds/{id}/assignments', summary: 'Add one assignment { entryId, judgeId }', tag: 'judging' },
  { method: 'delete', path: '/assignments/{id}', summary: 'Remove an unscored assignment', tag: 'judging' },
  { method: 'post', path: '/rounds/{id}/open', summary: 'Open the round', tag: 'judging' },
  { method: 'post', path: '/rounds/{id}/close', summary: 'Close the round (locks scores)', tag: 'judging' },
  { method: 'get', path: '/rounds/{id}/progress', summary: 'Assigned / submitted per judge', tag: 'judging' },
  { method: 'get', path: '/rounds/{id}/ranking', summary: 'Ranking with score, rawMean, spread, tied, flags', tag: 'judging' },
  { method: 'get', path: '/rounds/{id}/judge-stats', summary: 'Per-judge mean, SD and flags', tag: 'judging' },
  { method: 'post', path: '/rounds/{id}/shortlist', summary: 'Shortlist { top?, entryIds?, per?: song|level|form }', tag: 'judging' },
  { method: 'post', path: '/rounds/{id}/awards/preview', summary: 'Preview awards for { tiers }', tag: 'judging' },
  { method: 'post', path: '/rounds/{id}/awards', summary: 'Confirm awards { tiers: [{ award, count }] }', tag: 'judging' },
  { method: 'post', path: '/rounds/{id}/publish', summary: 'Publish (公示) or withdraw { publish }', tag: 'judging' },
  { method: 'get', path: '/rounds/{id}/ranking.xlsx', summary: 'Ranking as XLSX', tag: 'judging' },
  { method: 'get', path: '/rounds/{id}/scores.xlsx', summary: 'Score sheet (entries × judges × criteria) as XLSX', tag: 'judging' },
  { method: 'post', path: '/assignments/{id}/reopen', summary: 'Reopen one submitted score { reason } (admin, audited)', tag: 'judging' },
  { method: 'get', path: '/results', summary: 'Published awards (公示), no scores', tag: 'judging', public: true },
  { method: 'get', path: '/judging/assignments', summary: 'The judge\'s own assignments (blind)', tag: 'judging' },
  { method: 'get', path: '/judging/assignments/{id}', summary: 'One assignment', tag: 'judging' },
  { method: 'put', path: '/judging/assignments/{id}', summary: 'Save scores { scores, comment?, submit? }; 409 round_closed', tag: 'judging' },
  { method: 'post', path: '/judging/assignments/{id}/conflict', summary: 'Declare a conflict { reason } → 204', tag: 'judging' },
  { method: 'get', path: '/judging/assignments/{id}/preview', summary: 'Blind preview MP4', tag: 'judging' },
  { method: 'get', path: '/judging/assignments/{id}/poster', summary: 'Blind poster JPEG', tag: 'judging' },
  { method: 'post', path: '/uploads', summary: 'tus 1.0: create a resumable upload (Upload-Length, Upload-Metadata entryId + filename); HEAD/PATCH/DELETE /uploads/{id}', tag: 'entries' },
  { method: 'post', path: '/entries/{id}/broadcast', summary: 'Select for broadcast { profile?, pillarbox? } (admin)', tag: 'broadcast' },
  { method: 'get', path: '/broadcast/entries', summary: 'The TV desk', tag: 'broadcast' },
  { method: 'get', path: '/broadcast/entries/{id}', summary: 'One desk item', tag: 'broadcast' },
  { method: 'get', path: '/broadcast/entries/{id}/master', summary: 'The master file (attachment, Range)', tag: 'broadcast' },
  { method: 'post', path: '/broadcast/entries/{id}/aired', summary: 'Mark aired { airedOn } → 204', tag: 'broadcast' },
  { method: 'get', path: '/broadcast/programme-sheet.xlsx', summary: '节目单 XLSX', tag: 'broadcast' },
  { method: 'get', path: '/broadcast/programme-sheet.csv', summary: '节目单 CSV', tag: 'broadcast' },
  { method: 'get', path: '/broadcast/archive.zip', summary: 'All ready masters as one streamed ZIP', tag: 'broadcast' },
];

const SCHEMAS: Record<string, unknown> = {
  Problem: {
    type: 'object',
    required: ['type', 'title', 'status', 'detail', 'code'],
    properties: {
      type: { type: 'string' },
      title: { type: 'string' },
      status: { type: 'integer' },
      detail: { type: 'string' },
      code: { type: 'string', enum: ['unauthenticated', 'forbidden', 'not_found', 'validation_failed', 'invalid_state', 'quota_exceeded', 'round_closed', 'payload_too_large', 'unsupported_media', 'rate_limited', 'csrf_failed', 'unavailable'] },
      errors: { type: 'array', items: { type: 'object', properties: { field: { type: 'string' }, message: { type: 'string' } } } },
    },
  },
  Credentials: { type: 'object', required: ['username', 'password'], properties: { username: { type: 'string' }, password: { type: 'string' } } },
  PeriodPatch: { type: 'object', properties: { name: { type: 'string' }, quota: { type: 'integer', minimum: 0 }, submitBy: { type: 'string', format: 'date-time' }, forwardBy: { type: 'string', format: 'date-time' } } },
  SchoolInput: { type: 'object', required: ['name'], properties: { name: { type: 'string' }, countyId: { type: 'string', nullable: true }, level: { type: 'string', nullable: true } } },
  UserInput: {
    type: 'object',
    required: ['username', 'password', 'displayName', 'role'],
    properties: { username: { type: 'string' }, password: { type: 'string', minLength: 8 }, displayName: { type: 'string' }, role: { type: 'string', enum: ['school', 'county', 'judge', 'admin', 'tv'] }, countyId: { type: 'string' }, schoolId: { type: 'string' } },
  },
  UserPatch: { type: 'object', properties: { displayName: { type: 'string' }, disabled: { type: 'boolean' }, password: { type: 'string', minLength: 8 } } },
};

export function openApiDocument(operations: Op[] = OPERATIONS) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const op of operations) {
    const params = [...op.path.matchAll(/\{(\w+)\}/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }));
    paths[op.path] ??= {};
    paths[op.path][op.method] = {
      summary: op.summary,
      tags: [op.tag],
      ...(params.length && { parameters: params }),
      ...(op.public && { security: [] }),
      ...(op.body && { requestBody: { required: true, content: { 'application/json': { schema: { $ref: `#/components/schemas/${op.body}` } } } } }),
      responses: {
        '200': { description: 'OK' },
        default: { description: 'Error', content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } } },
      },
    };
  }
  return {
    openapi: '3.0.3',
    info: { title: '唱响 API', version: '1.0.0', description: 'JSON API of the 唱响 campaign platform. Errors are application/problem+json with a stable `code`.' },
    servers: [{ url: '/api/v1' }],
    security: [{ bearer: [] }],
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } }, schemas: SCHEMAS },
    paths,
  };
}
