import { createLocalStore } from './local-store';
import { createS3Store } from './s3-store';
import type { S3StoreConfig } from './s3-store';
import type { ObjectStore } from './object-store';

export type ObjectStoreConfig = { kind: 'local'; rootDir: string } | ({ kind: 's3' } & S3StoreConfig);

/** Builds the configured store; called once, from the composition root. */
export function createObjectStore(cfg: ObjectStoreConfig): ObjectStore {
  switch (cfg.kind) {
    case 'local':
      return createLocalStore(cfg.rootDir);
    case 's3':
      return createS3Store(cfg);
  }
}

export { createLocalStore } from './local-store';
export { createS3Store } from './s3-store';
export type { S3StoreConfig } from './s3-store';
export { contentDisposition, sanitizeFileName } from './content-disposition';
export { clampRange, parseRangeHeader } from './byte-range';
export type { InclusiveRange, RangeRequest } from './byte-range';
export {
  assertValidKey,
  assertValidPrefix,
  InvalidObjectKeyError,
  isValidKey,
  ObjectNotFoundError,
  ObjectStoreError,
  RangeNotSatisfiableError,
  StoreUnavailableError,
} from './object-store';
export type { ByteRange, Disposition, GetResult, ObjectInfo, ObjectStore, PresignGetOptions, PutOptions, PutResult } from './object-store';
