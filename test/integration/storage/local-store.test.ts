import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { createLocalStore } from '../../../src/platform/storage';
import { describeObjectStoreContract } from './object-store.contract';

describeObjectStoreContract('local disk', async () => {
  const rootDir = await fsp.mkdtemp(path.join(os.tmpdir(), 'cx-local-store-'));
  const store = createLocalStore(rootDir);
  return { store, dispose: () => fsp.rm(rootDir, { recursive: true, force: true }) };
});

describe('local store specifics', () => {
  let rootDir: string;

  beforeEach(async () => {
    rootDir = await fsp.mkdtemp(path.join(os.tmpdir(), 'cx-local-store-'));
  });

  afterEach(async () => {
    await fsp.rm(rootDir, { recursive: true, force: true });
  });

  it('when a file is given away with move, then it is renamed into the store and the source is gone', async () => {
    const store = createLocalStore(rootDir);
    const source = path.join(rootDir, 'upload-given-away');
    await fsp.writeFile(source, 'finished upload bytes');

    const result = await store.putFile('originals/e1/v1', source, { contentType: 'application/octet-stream', move: true });

    expect(result.sizeBytes).toBe(21);
    await expect(fsp.access(source)).rejects.toThrow();
    const { body } = await store.get('originals/e1/v1');
    const chunks: Buffer[] = [];
    for await (const chunk of body) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe('finished upload bytes');
  });

  it('when asked to presign, then it answers null (the app streams the file itself)', async () => {
    const store = createLocalStore(rootDir);

    expect(await store.presignGet('previews/v1.mp4', { expiresInS: 60, downloadName: '校歌.mp4' })).toBeNull();
  });

  it('when an object is put, then it sits under its key with a content-type sidecar and no temp file', async () => {
    const store = createLocalStore(rootDir);

    await store.putStream('masters/v1/xdcam-hd422.mxf', Readable.from([Buffer.from('abc')]), {
      contentType: 'application/mxf',
    });

    expect(await fsp.readFile(path.join(rootDir, 'masters/v1/xdcam-hd422.mxf'), 'utf8')).toBe('abc');
    expect(JSON.parse(await fsp.readFile(path.join(rootDir, '.meta/masters/v1/xdcam-hd422.mxf.json'), 'utf8'))).toEqual({
      contentType: 'application/mxf',
    });
    expect(await fsp.readdir(path.join(rootDir, '.tmp'))).toEqual([]);
  });

  it('when a put fails half-way, then the previous object is untouched and no temp file remains', async () => {
    const store = createLocalStore(rootDir);
    await store.putStream('previews/v2.mp4', Readable.from([Buffer.from('good')]), { contentType: 'video/mp4' });
    async function* failing(): AsyncGenerator<Buffer> {
      yield Buffer.from('half');
      throw new Error('boom');
    }

    await expect(store.putStream('previews/v2.mp4', Readable.from(failing()), { contentType: 'video/mp4' })).rejects.toThrow('boom');

    expect(await fsp.readFile(path.join(rootDir, 'previews/v2.mp4'), 'utf8')).toBe('good');
    expect(await fsp.readdir(path.join(rootDir, '.tmp'))).toEqual([]);
  });

  it('when a prefix is emptied, then its empty directories are pruned', async () => {
    const store = createLocalStore(rootDir);
    await store.putStream('originals/e1/v1', Readable.from([Buffer.from('a')]), { contentType: 'video/mp4' });

    await store.deletePrefix('originals/e1/');

    await expect(fsp.stat(path.join(rootDir, 'originals/e1'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('when the root cannot be created, then ping throws StoreUnavailableError', async () => {
    const blocker = path.join(rootDir, 'file');
    await fsp.writeFile(blocker, 'x');
    const store = createLocalStore(path.join(blocker, 'store'));

    await expect(store.ping()).rejects.toMatchObject({ name: 'StoreUnavailableError' });
  });
});
