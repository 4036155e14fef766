import { OpenApiGeneratorV3, OpenAPIRegistry, type RouteConfig } from '@asteasolutions/zod-to-openapi';
import { accountOperations } from '../accounts/account.contract';
import { broadcastOperations } from '../broadcast/broadcast.contract';
import { campaignOperations } from '../campaign/campaign.contract';
import { consentOperations } from '../consent/consent.contract';
import { entryOperations } from '../entries/entry.contract';
import { judgingOperations } from '../judging/judging.contract';
import { objectionOperations } from '../judging/objection.contract';
import { learningOperations } from '../learning/learning.contract';
import { certificateOperations } from '../certificates/certificate.contract';
import { newMediaOperations } from '../newmedia/newmedia.contract';
import { orgOperations } from '../org/org.contract';
import { reviewOperations } from '../review/review.contract';
import { notificationOperations } from '../notifications/notification.contract';
import type { ErrorCode } from '../platform/errors';
import { z } from '../platform/validate';

/**
 * One operation of /api/v1, declared next to its component's input schemas (`*.contract.ts`).
 * The body and query schemas are the ones the service or route parses with, so the document
 * cannot drift from the code; test/http/openapi-coverage.test.ts checks that every route the
 * express app registers is documented here and every documented one exists.
 */
export interface ApiOperation {
  method: 'get' | 'post' | 'patch' | 'put' | 'delete' | 'head';
  /** OpenAPI form, relative to /api/v1: `/rounds/{id}`. */
  path: string;
  summary: string;
  tag: string;
  /** JSON body (a named zod object: `.openapi('Name')`). */
  body?: z.ZodType;
  /** Multipart upload: the file field and the component's description. */
  multipart?: { field: string; description: string };
  query?: z.ZodObject;
  /** No login needed. */
  public?: boolean;
  /** Success status (default 200). */
  status?: 200 | 201 | 202 | 204 | 302;
  /** Non-JSON success body. */
  produces?: 'xlsx' | 'csv' | 'zip' | 'video' | 'image' | 'binary';
}

const ERROR_CODES = [
  'unauthenticated',
  'forbidden',
  'not_found',
  'validation_failed',
  'invalid_state',
  'quota_exceeded',
  'consent_required',
  'round_closed',
  'campaign_closed',
  'objection_closed',
  'payload_too_large',
  'unsupported_media',
  'rate_limited',
  'csrf_failed',
  'password_change_required',
  'unavailable',
] as const satisfies readonly ErrorCode[];

const Problem = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    code: z.enum(ERROR_CODES),
    errors: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
  })
  .openapi('Problem', { description: 'application/problem+json: Chinese title/detail for people, a stable code for programs' });

const MEDIA: Record<NonNullable<ApiOperation['produces']>, string> = {
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  csv: 'text/csv',
  zip: 'application/zip',
  video: 'video/mp4',
  image: 'image/jpeg',
  binary: 'application/octet-stream',
};

const authOperations: ApiOperation[] = [
  {
    method: 'post',
    path: '/auth/token',
    summary: 'Exchange username + password for a bearer token',
    tag: 'auth',
    public: true,
    body: z.object({ username: z.string(), password: z.string() }).openapi('Credentials'),
  },
  { method: 'delete', path: '/auth/token', summary: 'Revoke the presented token', tag: 'auth', status: 204 },
  { method: 'get', path: '/me', summary: 'The caller', tag: 'auth' },
  { method: 'get', path: '/openapi.json', summary: 'This document', tag: 'meta', public: true },
];

/** Every operation of /api/v1, component by component. */
export const API_OPERATIONS: readonly ApiOperation[] = [
  ...authOperations,
  ...campaignOperations,
  ...orgOperations,
  ...accountOperations,
  ...entryOperations,
  ...reviewOperations,
  ...judgingOperations,
  ...objectionOperations,
  ...broadcastOperations,
  ...notificationOperations,
  ...consentOperations,
  ...learningOperations,
  ...certificateOperations,
  ...newMediaOperations,
];

function routeConfig(op: ApiOperation): RouteConfig {
  const pathParams = [...op.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1] as string);
  const status = op.status ?? 200;
  const content = op.produces ? { [MEDIA[op.produces]]: { schema: z.string().openapi({ format: 'binary' }) } } : undefined;
  return {
    method: op.method,
    path: op.path,
    summary: op.summary,
    tags: [op.tag],
    ...(op.public && { security: [] }),
    request: {
      ...(pathParams.length && { params: z.object(Object.fromEntries(pathParams.map((p) => [p, z.string()]))) }),
      ...(op.query && { query: op.query }),
      ...(op.body && { body: { required: true, content: { 'application/json': { schema: op.body } } } }),
      ...(op.multipart && {
        body: {
          required: true,
          content: {
            'multipart/form-data': {
              schema: z.object({ [op.multipart.field]: z.string().openapi({ format: 'binary', description: op.multipart.description }) }),
            },
          },
        },
      }),
    },
    responses: {
      [status]: { description: status === 204 ? 'No content' : 'OK', ...(content && { content }) },
      default: { description: 'Error', content: { 'application/problem+json': { schema: Problem } } },
    },
  };
}

/** The OpenAPI 3 document served at GET /api/v1/openapi.json, written from the input schemas. */
export function openApiDocument(operations: readonly ApiOperation[] = API_OPERATIONS) {
  const registry = new OpenAPIRegistry();
  registry.register('Problem', Problem);
  registry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer' });
  for (const op of operations) registry.registerPath(routeConfig(op));
  const doc = new OpenApiGeneratorV3(registry.definitions).generateDocument({
    openapi: '3.0.3',
    info: {
      title: '唱响 API',
      version: '1.0.0',
      description:
        'JSON API of the 唱响 campaign platform. Errors are application/problem+json with a stable `code`. ' +
        'Lists, counts, quotas, rounds and exports are scoped to one campaign: `?campaignId=` or the `X-Campaign-Id` header chooses it ' +
        '(default: the campaign open for submissions); writes to a closed campaign answer 409 `campaign_closed`.',
    },
    servers: [{ url: '/api/v1' }],
    security: [{ bearer: [] }],
  });
  return { ...doc, components: { ...doc.components, schemas: doc.components?.schemas ?? {} }, paths: doc.paths ?? {} };
}
