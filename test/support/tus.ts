/**
 * tus 1.0 requests against /api/v1/uploads for tests: create, PATCH, HEAD, and raw PATCHes over a
 * real socket that are cut, stalled or trickled the way a weak uplink sends them.
 *
 *   const location = (await tusCreate(t.app, token, entry.id, clip.length).expect(201)).headers.location;
 *   await tusPatch(t.app, token, location, 0, clip).expect(204);
 */
import crypto from 'node:crypto';
import http from 'node:http';
import type { Express } from 'express';
import request from 'supertest';

export const TUS = { 'Tus-Resumable': '1.0.0' };
export const b64 = (s: string) => Buffer.from(s).toString('base64');
export const tusMetadata = (m: Record<string, string>) =>
  Object.entries(m)
    .map(([k, v]) => `${k} ${b64(v)}`)
    .join(',');
export const sha256 = (b: Buffer) => crypto.createHash('sha256').update(b).digest('hex');

export function tusCreate(app: Express, token: string, entryId: string, length: number, filename = '合唱.mp4') {
  return request(app)
    .post('/api/v1/uploads')
    .set(TUS)
    .set('Authorization', `Bearer ${token}`)
    .set('Upload-Length', String(length))
    .set('Upload-Metadata', tusMetadata({ entryId, filename }));
}
export function tusPatch(app: Express, token: string, location: string, offset: number, body: Buffer) {
  return request(app)
    .patch(location)
    .set(TUS)
    .set('Authorization', `Bearer ${token}`)
    .set('Upload-Offset', String(offset))
    .set('Content-Type', 'application/offset+octet-stream')
    .send(body);
}
export function tusHead(app: Express, token: string, location: string) {
  return request(app).head(location).set(TUS).set('Authorization', `Bearer ${token}`);
}

/** The stored offset. After a cut the server may hold the upload's lock a moment (lock drain): HEAD waits for it. */
export async function tusOffset(app: Express, token: string, location: string): Promise<number> {
  const res = await tusHead(app, token, location).expect(200);
  return Number(res.headers['upload-offset']);
}

/** A PATCH over a real socket whose body the test writes piece by piece, or stops sending, or cuts. */
export interface RawPatch {
  /** The response status, or 0 when the server closed the connection without one. */
  done: Promise<number>;
  /** Writes the next bytes (false once the request is gone). */
  write(bytes: Buffer): Promise<boolean>;
  /** Cuts the connection (a dropped uplink). */
  cut(): void;
}

export function rawPatch(baseUrl: string, token: string, location: string, offset: number, contentLength: number): RawPatch {
  const req = http.request(`${baseUrl}${location}`, {
    method: 'PATCH',
    headers: {
      ...TUS,
      Authorization: `Bearer ${token}`,
      'Upload-Offset': String(offset),
      'Content-Type': 'application/offset+octet-stream',
      'Content-Length': String(contentLength),
    },
  });
  const done = new Promise<number>((resolve) => {
    let answered = false;
    req.on('error', () => !answered && resolve(0));
    req.on('close', () => !answered && resolve(0));
    req.on('response', (res) => {
      answered = true;
      res.resume();
      res.on('close', () => resolve(res.statusCode ?? 0));
    });
  });
  return {
    done,
    write: (bytes) =>
      new Promise<boolean>((resolve) => {
        if (req.destroyed) return resolve(false);
        req.write(bytes, (err) => resolve(!err));
      }),
    cut: () => req.destroy(),
  };
}

/** A PATCH whose connection is cut after `sent` of the declared bytes (a dropped uplink). */
export async function cutPatch(baseUrl: string, token: string, location: string, offset: number, rest: Buffer, sent: number): Promise<void> {
  const p = rawPatch(baseUrl, token, location, offset, rest.length);
  await p.write(rest.subarray(0, sent));
  await new Promise((r) => setTimeout(r, 100));
  p.cut();
  await p.done;
}
