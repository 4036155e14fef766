/**
 * A tus error of ours: `body` is the Chinese sentence the page shows as it is. tus passes the thrown
 * object through to `onResponseError`, so the type (not the text) tells ours from tus's own.
 */
export class TusReply {
  constructor(
    readonly status_code: number,
    readonly body: string,
  ) {}
}

/** The upload's lock stayed with another request: tus's ERR_LOCK_TIMEOUT, thrown by our locker. */
export class UploadLockTimeout {
  readonly status_code = 500;
  readonly body = 'failed to acquire lock before timeout';
}
