/**
 * One streamed ZIP, one file at a time: every download of many files (the TV desk's masters, a
 * round's certificates, a school's data, new-media packs) writes through here. Entries are stored,
 * not compressed (video and PDFs do not shrink), each object is read from the store only when the
 * previous one is in the archive, and a client that goes away stops the reading at once instead of
 * waiting for an `entry` event that backpressure will never let come.
 */
import type { Readable, Writable } from 'node:stream';
import archiver from 'archiver';

/** A file of the ZIP: bytes at hand, or a stream opened only when its turn comes. */
export type ZipEntry = { name: string; data: string | Buffer } | { name: string; open: () => Promise<Readable> };

/** Writes `entries` (in order) as one ZIP to `out`; resolves when it is finished or the client left. */
export async function streamZip(out: Writable, entries: Iterable<ZipEntry> | AsyncIterable<ZipEntry>): Promise<void> {
  const zip = archiver('zip', { store: true });
  let gone = false;
  out.once('close', () => {
    if (!out.writableFinished) {
      gone = true;
      zip.abort();
    }
  });
  const done = new Promise<void>((resolve, reject) => {
    out.on('close', resolve);
    out.on('finish', resolve);
    zip.on('error', reject);
  });
  zip.pipe(out);
  for await (const entry of entries) {
    if (gone) return;
    if ('data' in entry) {
      zip.append(entry.data, { name: entry.name });
      continue;
    }
    const body = await entry.open();
    if (gone) {
      body.destroy();
      return;
    }
    zip.append(body, { name: entry.name });
    // Wait until the archiver has consumed this stream (or the client left); listeners are removed
    // each time so they do not pile up, one per file.
    await new Promise<void>((resolve, reject) => {
      const cleanup = () => {
        zip.off('entry', onEntry);
        zip.off('error', onError);
        out.off('close', onClose);
      };
      const onEntry = () => (cleanup(), resolve());
      const onError = (err: Error) => (cleanup(), reject(err));
      const onClose = () => (cleanup(), body.destroy(), resolve());
      zip.on('entry', onEntry);
      zip.on('error', onError);
      out.on('close', onClose);
    });
  }
  if (gone) return;
  await zip.finalize();
  await done;
}
