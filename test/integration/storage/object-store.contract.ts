import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { InvalidObjectKeyError, ObjectNotFoundError, RangeNotSatisfiableError } from '../../../src/platform/storage';
import type { ObjectStore } from '../../../src/platform/storage';

export interface ContractContext {
  store: ObjectStore;
  /** Removes whatever the backend left behind. */
  dispose(): Promise<void>;
}

const MIB = 1024 * 1024;
/** Larger than one S3 part (8 MiB), so the S3 store goes through a real multipart upload. */
const FILE_SIZE = 12 * MIB + 12_345;

export async function sha256(stream: Readable): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of stream) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function sha256OfFileSlice(file: string, start: number, end: number): Promise<string> {
  return sha256(createReadStream(file, { start, end }));
}

/** The behaviour every ObjectStore must share; run against local disk and against S3 (s3rver). */
export function describeObjectStoreContract(name: string, setup: () => Promise<ContractContext>): void {
  describe(`ObjectStore contract: ${name}`, () => {
    let ctx: ContractContext;
    let store: ObjectStore;
    let workDir: string;
    let sourceFile: string;
    let sourceSha: string;

    beforeAll(async () => {
      ctx = await setup();
      store = ctx.store;
      workDir = await fsp.mkdtemp(path.join(os.tmpdir(), 'cx-store-contract-'));
      sourceFile = path.join(workDir, 'source.bin');
      const handle = await fsp.open(sourceFile, 'w');
      for (let written = 0; written < FILE_SIZE; written += MIB) {
        await handle.write(randomBytes(Math.min(MIB, FILE_SIZE - written)));
      }
      await handle.close();
      sourceSha = await sha256(createReadStream(sourceFile));
    });

    afterAll(async () => {
      await ctx?.dispose();
      if (workDir) await fsp.rm(workDir, { recursive: true, force: true });
    });

    describe('when a multi-MB file is put', () => {
      const key = 'originals/entry-1/video-1';

      beforeAll(async () => {
        await store.putFile(key, sourceFile, { contentType: 'video/mp4' });
      });

      it('then head reports its size and content type', async () => {
        const info = await store.head(key);

        expect(info).toMatchObject({ sizeBytes: FILE_SIZE, contentType: 'video/mp4' });
        expect(info?.etag).toMatch(/^".+"$/);
        expect(info?.lastModified).toBeInstanceOf(Date);
      });

      it('then get returns the same bytes', async () => {
        const result = await store.get(key);

        expect(result.sizeBytes).toBe(FILE_SIZE);
        expect(result.contentType).toBe('video/mp4');
        expect(await sha256(result.body)).toBe(sourceSha);
      });

      it('then a ranged get returns exactly that slice and the whole size', async () => {
        const range = { start: 1_000_003, end: 9_500_000 };

        const result = await store.get(key, range);

        expect(result.sizeBytes).toBe(FILE_SIZE);
        expect(result.range).toEqual(range);
        expect(await sha256(result.body)).toBe(await sha256OfFileSlice(sourceFile, range.start, range.end));
      });

      it('then an open-ended range runs to the end of the object', async () => {
        const start = FILE_SIZE - 1000;

        const result = await store.get(key, { start });

        expect(result.range).toEqual({ start, end: FILE_SIZE - 1 });
        expect(await sha256(result.body)).toBe(await sha256OfFileSlice(sourceFile, start, FILE_SIZE - 1));
      });

      it('then a range ending past the object is clamped', async () => {
        const result = await store.get(key, { start: FILE_SIZE - 10, end: FILE_SIZE + 1000 });

        expect(result.range).toEqual({ start: FILE_SIZE - 10, end: FILE_SIZE - 1 });
        expect(await sha256(result.body)).toBe(await sha256OfFileSlice(sourceFile, FILE_SIZE - 10, FILE_SIZE - 1));
      });

      it('then a range starting past the object is unsatisfiable', async () => {
        await expect(store.get(key, { start: FILE_SIZE })).rejects.toMatchObject({
          name: RangeNotSatisfiableError.name,
          sizeBytes: FILE_SIZE,
        });
      });

      it('then downloadToFile writes an identical file', async () => {
        const target = path.join(workDir, 'downloaded.bin');

        await store.downloadToFile(key, target);

        expect(await sha256(createReadStream(target))).toBe(sourceSha);
        expect((await fsp.readdir(workDir)).filter((f) => f.endsWith('.part'))).toEqual([]);
      });
    });

    it('when a stream of unknown length is put, then its size is counted and the bytes kept', async () => {
      const chunks = [randomBytes(300_000), randomBytes(5), randomBytes(1_000_000)];
      const expected = createHash('sha256').update(Buffer.concat(chunks)).digest('hex');

      const result = await store.putStream('previews/v-stream.mp4', Readable.from(chunks), {
        contentType: 'video/mp4',
      });

      expect(result.sizeBytes).toBe(1_300_005);
      expect(await sha256((await store.get('previews/v-stream.mp4')).body)).toBe(expected);
    });

    it('when an empty stream is put, then an empty object exists', async () => {
      await store.putStream('posters/empty.jpg', Readable.from([]), { contentType: 'image/jpeg' });

      const info = await store.head('posters/empty.jpg');

      expect(info).toMatchObject({ sizeBytes: 0, contentType: 'image/jpeg' });
      expect(await sha256((await store.get('posters/empty.jpg')).body)).toBe(createHash('sha256').digest('hex'));
    });

    it('when a key is put again, then the new bytes and content type replace the old', async () => {
      await store.putStream('posters/v-replace.jpg', Readable.from([Buffer.from('old')]), { contentType: 'image/png' });

      await store.putStream('posters/v-replace.jpg', Readable.from([Buffer.from('newer')]), { contentType: 'image/jpeg' });

      const result = await store.get('posters/v-replace.jpg');
      expect(result.contentType).toBe('image/jpeg');
      expect(await sha256(result.body)).toBe(createHash('sha256').update('newer').digest('hex'));
    });

    it('when the source stream fails half-way, then no object appears under the key', async () => {
      async function* failing(): AsyncGenerator<Buffer> {
        yield randomBytes(64 * 1024);
        throw new Error('client went away');
      }

      await expect(store.putStream('previews/v-broken.mp4', Readable.from(failing()), { contentType: 'video/mp4' })).rejects.toThrow();

      expect(await store.head('previews/v-broken.mp4')).toBeNull();
    });

    it('when an object is deleted twice, then both succeed and it is gone', async () => {
      await store.putStream('posters/v-del.jpg', Readable.from([Buffer.from('x')]), { contentType: 'image/jpeg' });

      await store.delete('posters/v-del.jpg');
      await store.delete('posters/v-del.jpg');

      expect(await store.head('posters/v-del.jpg')).toBeNull();
    });

    it('when a prefix is deleted, then only keys starting with it go', async () => {
      const put = (key: string) => store.putStream(key, Readable.from([Buffer.from(key)]), { contentType: 'video/mp4' });
      await put('originals/e7/v1');
      await put('originals/e7/v2');
      await put('originals/e70/v3');

      const deleted = await store.deletePrefix('originals/e7/');

      expect(deleted).toBe(2);
      expect(await store.head('originals/e7/v1')).toBeNull();
      expect(await store.head('originals/e7/v2')).toBeNull();
      expect(await store.head('originals/e70/v3')).not.toBeNull();
      expect(await store.deletePrefix('originals/e7/')).toBe(0);
    });

    it('when a missing object is read, then ObjectNotFoundError is thrown', async () => {
      expect(await store.head('previews/missing.mp4')).toBeNull();
      await expect(store.get('previews/missing.mp4')).rejects.toBeInstanceOf(ObjectNotFoundError);
      await expect(store.get('previews/missing.mp4', { start: 0 })).rejects.toBeInstanceOf(ObjectNotFoundError);
      await expect(store.downloadToFile('previews/missing.mp4', path.join(workDir, 'nope'))).rejects.toBeInstanceOf(ObjectNotFoundError);
    });

    it.each([
      '',
      '../etc/passwd',
      'originals/../../x',
      '/originals/e/v',
      'originals\\e\\v',
      'originals/e\0/v',
      'originals/e v',
      'originals//v',
      'originals/e/',
      '.meta/x',
      'originals/%2e%2e/x',
      '视频/v1',
      'a\r\nb',
    ])('when the key is %j, then every operation rejects it', async (key) => {
      const body = () => Readable.from([Buffer.from('x')]);

      await expect(store.putStream(key, body(), { contentType: 'text/plain' })).rejects.toBeInstanceOf(InvalidObjectKeyError);
      await expect(store.putFile(key, sourceFile, { contentType: 'text/plain' })).rejects.toBeInstanceOf(InvalidObjectKeyError);
      await expect(store.head(key)).rejects.toBeInstanceOf(InvalidObjectKeyError);
      await expect(store.get(key)).rejects.toBeInstanceOf(InvalidObjectKeyError);
      await expect(store.delete(key)).rejects.toBeInstanceOf(InvalidObjectKeyError);
      await expect(store.presignGet(key, { expiresInS: 60 })).rejects.toBeInstanceOf(InvalidObjectKeyError);
    });

    it('when deletePrefix gets an empty or hostile prefix, then it refuses', async () => {
      await expect(store.deletePrefix('')).rejects.toBeInstanceOf(InvalidObjectKeyError);
      await expect(store.deletePrefix('/')).rejects.toBeInstanceOf(InvalidObjectKeyError);
      await expect(store.deletePrefix('../')).rejects.toBeInstanceOf(InvalidObjectKeyError);
    });

    it('when the store is up, then ping resolves', async () => {
      await expect(store.ping()).resolves.toBeUndefined();
    });
  });
}
