import type { Response } from 'express';
import { Writable } from 'node:stream';
import { contentDisposition } from '../platform/storage/content-disposition';

export const XLSX_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

export interface DownloadOptions {
  /** User-facing file name, may be Chinese (sanitised and encoded, RFC 6266/5987). */
  fileName: string;
  /** The plain ASCII `filename=` for old clients (e.g. "ranking.xlsx"); derived when absent. */
  asciiName?: string;
  contentType: string;
}

export interface Download {
  /** Sets the attachment headers (once). Call it only when the checks are done and bytes follow. */
  ready(): void;
  /**
   * A stream to write the file into: it sets the headers just before its first byte (or at its end
   * when the file is empty), so an error thrown before that still reaches the error handler as an
   * ordinary problem+json / HTML answer — never as a download named after the file.
   */
  stream: Writable;
}

/**
 * The one way to send a generated file (XLSX/CSV/ZIP exports). Nothing is set on the response
 * until there is something to send; a refusal (403/404/409…) keeps its own Content-Type and no
 * Content-Disposition.
 */
export function download(res: Response, opts: DownloadOptions): Download {
  let done = false;
  const ready = () => {
    if (done || res.headersSent) return;
    done = true;
    res.setHeader('Content-Type', opts.contentType);
    res.setHeader('Content-Disposition', contentDisposition('attachment', opts.fileName, opts.asciiName));
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Cache-Control', 'private, no-store');
  };
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      ready();
      if (res.write(chunk)) cb();
      else res.once('drain', () => cb());
    },
    final(cb) {
      ready();
      res.end();
      cb();
    },
  });
  // The client went away: stop the producer instead of buffering into a dead socket.
  res.once('close', () => {
    if (!res.writableFinished) stream.destroy();
  });
  return { ready, stream };
}
