import fs from 'node:fs';
import type { NextFunction, Request } from 'express';
import { settlePendingCsrf } from './auth.middleware';
import { checkMultipartFields } from './input-gate';

/**
 * What every multipart route does once multer has parsed the body: a CSRF check that no file part
 * settled (no file was sent) is made on the fields now, then the fields pass the input gate. A
 * refused body leaves no temp file behind.
 */
export function afterMultipart(req: Request, err: unknown, next: NextFunction): void {
  if (err) return next(err);
  try {
    settlePendingCsrf(req);
    checkMultipartFields(req);
  } catch (refusal) {
    if (req.file?.path) fs.rm(req.file.path, { force: true }, () => undefined);
    return next(refusal);
  }
  next();
}
