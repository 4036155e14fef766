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
