/**
 * Issue 14, defect 4: an error that is not ours but says 404 (Express's `res.sendFile` of a file
 * that is not there, http-errors' NotFound) is a 404 for the user, not a 500.
 */
import path from 'node:path';
import express from 'express';
import request from 'supertest';
import { createLogger } from '../../src/platform/logger';
import { errorHandler, toAppError } from '../../src/web/error-handler';

function appWith(route: express.RequestHandler) {
  const app = express();
  app.get('/api/v1/thing', route);
  app.use(errorHandler(createLogger('silent')));
  return app;
}

describe('foreign errors that carry a status', () => {
  test('when res.sendFile is asked for a missing file, then the API answers 404 problem+json, not 500', async () => {
    const app = appWith((_req, res, next) => res.sendFile(path.join(__dirname, 'no-such-file.js'), (err) => next(err)));
    const res = await request(app).get('/api/v1/thing').expect(404);
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(JSON.parse(res.text)).toMatchObject({ status: 404, code: 'not_found', title: '未找到' });
  });

  test('when any other error carries status 404, then it becomes not_found', () => {
    expect(toAppError(Object.assign(new Error('Not Found'), { status: 404 }))).toMatchObject({ status: 404, code: 'not_found' });
    expect(toAppError(Object.assign(new Error('gone'), { statusCode: 404 }))).toMatchObject({ status: 404, code: 'not_found' });
  });

  test('when an error carries another 4xx status, then it stays a 400 and a plain Error stays unknown (500)', () => {
    expect(toAppError(Object.assign(new Error('bad'), { status: 405 }))).toMatchObject({ status: 400, code: 'validation_failed' });
    expect(toAppError(new Error('boom'))).toBeNull();
  });
});
