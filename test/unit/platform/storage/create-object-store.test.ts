import * as os from 'node:os';
import * as path from 'node:path';
import { createObjectStore } from '../../../../src/platform/storage';

describe('createObjectStore', () => {
  it('when the config is local, then a local store is built', () => {
    const store = createObjectStore({ kind: 'local', rootDir: path.join(os.tmpdir(), 'cx-never-written') });

    expect(store.kind).toBe('local');
  });

  it('when the config is s3, then an S3 store is built without contacting the server', async () => {
    const store = createObjectStore({
      kind: 's3',
      endpoint: 'http://127.0.0.1:1',
      bucket: 'media',
      region: 'us-east-1',
      accessKeyId: 'k',
      secretAccessKey: 's',
      forcePathStyle: true,
    });

    expect(store.kind).toBe('s3');
    await store.close();
  });
});
