/**
 * Issue 14, defect 2: UPLOAD_ALLOWED_ORIGINS lets another site's page upload with a token. Its
 * browser first sends a CORS preflight without credentials; that preflight must be answered for an
 * allowed origin (it used to get 401, so no cross-origin upload could ever start).
 */
import request from 'supertest';
import { createTestApp, type TestApp } from '../../support/app';
import { createEntry, schoolWithToken } from '../../support/factories';
import { TUS, tusMetadata } from '../../support/tus';

const ALLOWED = 'https://upload.example.cn';
let t: TestApp;
let school: Awaited<ReturnType<typeof schoolWithToken>>;

beforeAll(async () => {
  t = await createTestApp({ env: { UPLOAD_ALLOWED_ORIGINS: ALLOWED } });
  school = await schoolWithToken(t, 'c-lishi');
});
afterAll(async () => {
  await t?.close();
});

const preflight = (origin: string) =>
  request(t.app)
    .options('/api/v1/uploads')
    .set('Origin', origin)
    .set('Access-Control-Request-Method', 'POST')
    .set('Access-Control-Request-Headers', 'authorization, tus-resumable, upload-length, upload-metadata');

test('when an allowed origin sends the preflight (no credentials), then it is answered 204 with that origin and the headers the upload needs', async () => {
  const res = await preflight(ALLOWED).expect(204);
  expect(res.headers['access-control-allow-origin']).toBe(ALLOWED);
  expect(res.headers['access-control-allow-methods']).toMatch(/POST/);
  expect(res.headers['access-control-allow-methods']).toMatch(/PATCH/);
  expect(res.headers['access-control-allow-headers']).toMatch(/Authorization/i);
  expect(res.headers['access-control-allow-headers']).toMatch(/Upload-Length/i);
});

test('when that origin then starts the upload with a token, then it is created (201) and the response may be read there', async () => {
  const entry = await createEntry(t, school.token);
  const res = await request(t.app)
    .post('/api/v1/uploads')
    .set(TUS)
    .set('Origin', ALLOWED)
    .set('Authorization', `Bearer ${school.token}`)
    .set('Upload-Length', '1000')
    .set('Upload-Metadata', tusMetadata({ entryId: entry.id, filename: '合唱.mp4' }))
    .expect(201);
  expect(res.headers['access-control-allow-origin']).toBe(ALLOWED);
  expect(res.headers.location).toMatch(/^\/api\/v1\/uploads\/[0-9a-f]{32}$/);
});

test('when an origin that is not allowed sends the preflight, then it still needs a login (401) and gets no CORS grant', async () => {
  const res = await preflight('https://evil.example').expect(401);
  expect(res.headers['access-control-allow-origin']).toBeUndefined();
});

test('when a request without credentials is not a preflight, then it is refused 401 even from the allowed origin', async () => {
  await request(t.app).options('/api/v1/uploads').set('Origin', ALLOWED).expect(401);
  await request(t.app).post('/api/v1/uploads').set(TUS).set('Origin', ALLOWED).set('Upload-Length', '1000').expect(401);
});
