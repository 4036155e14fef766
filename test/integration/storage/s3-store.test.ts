import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { createS3Store, StoreUnavailableError } from '../../../src/platform/storage';
import type { ObjectStore } from '../../../src/platform/storage';
import { startS3rver } from '../../support/s3';
import type { S3rverHandle } from '../../support/s3';
import { describeObjectStoreContract } from './object-store.contract';

function storeFor(s3: S3rverHandle): ObjectStore {
  return createS3Store({ ...s3, forcePathStyle: true });
}

describeObjectStoreContract('S3 (s3rver)', async () => {
  const s3 = await startS3rver();
  const store = storeFor(s3);
  return {
    store,
    dispose: async () => {
      await store.close();
      await s3.stop();
    },
  };
});

describe('S3 store specifics', () => {
  let s3: S3rverHandle;
  let store: ObjectStore;

  beforeEach(async () => {
    s3 = await startS3rver();
    store = storeFor(s3);
  });

  afterEach(async () => {
    await store.close();
    await s3.stop();
  });

  it('when the service cannot list multipart uploads (s3rver: NotImplemented), then the stale-upload sweep reports 0; when the store is down, then it says unavailable', async () => {
    // s3rver implements neither ListMultipartUploads nor AbortMultipartUpload, so the abort itself is
    // not exercised here (README: use a bucket lifecycle rule on such services).
    expect(await store.abortIncompleteUploads!(new Date())).toBe(0);
    await s3.stop();
    await expect(store.abortIncompleteUploads!(new Date())).rejects.toBeInstanceOf(StoreUnavailableError);
  });

  it('when a presigned URL is fetched, then it serves the bytes with the Chinese download name', async () => {
    const bytes = Buffer.from('唱响 test bytes');
    await store.putStream('masters/v9/h264-1080p25.mp4', Readable.from([bytes]), { contentType: 'video/mp4' });

    const url = await store.presignGet('masters/v9/h264-1080p25.mp4', {
      expiresInS: 60,
      downloadName: '吕梁校歌 "决赛".mp4',
      contentType: 'video/mp4',
    });
    const response = await fetch(url ?? '');

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('video/mp4');
    expect(response.headers.get('content-disposition')).toBe(
      `attachment; filename="download.mp4"; filename*=UTF-8''${encodeURIComponent('吕梁校歌 决赛.mp4')}`,
    );
    expect(Buffer.from(await response.arrayBuffer())).toEqual(bytes);
  });

  it('when a presigned URL expires, then it no longer serves the object', async () => {
    await store.putStream('posters/v9.jpg', Readable.from([Buffer.from('x')]), { contentType: 'image/jpeg' });
    const url = await store.presignGet('posters/v9.jpg', { expiresInS: 1 });

    await new Promise((resolve) => setTimeout(resolve, 2100));
    const response = await fetch(url ?? '');

    expect(response.status).toBe(403);
  });

  it('when the server is stopped, then ping, head and put throw StoreUnavailableError', async () => {
    await s3.stop();

    await expect(store.ping()).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(store.head('previews/v1.mp4')).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(store.putStream('previews/v1.mp4', Readable.from([Buffer.from('x')]), { contentType: 'video/mp4' })).rejects.toBeInstanceOf(
      StoreUnavailableError,
    );
  });

  it('when the bucket does not exist, then ping throws StoreUnavailableError', async () => {
    const wrong = createS3Store({ ...s3, bucket: 'no-such-bucket', forcePathStyle: true });

    await expect(wrong.ping()).rejects.toBeInstanceOf(StoreUnavailableError);
    await wrong.close();
  });

  it('when a file is put, then s3rver stores plain bytes, not aws-chunked framing', async () => {
    const bytes = Buffer.alloc(70_000, 7);

    await store.putStream('previews/v-plain.mp4', Readable.from([bytes]), { contentType: 'video/mp4' });

    const { body, sizeBytes } = await store.get('previews/v-plain.mp4');
    const hash = createHash('sha256');
    for await (const chunk of body) hash.update(chunk as Buffer);
    expect(sizeBytes).toBe(70_000);
    expect(hash.digest('hex')).toBe(createHash('sha256').update(bytes).digest('hex'));
  });
});
