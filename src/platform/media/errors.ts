/** Errors thrown by the media module. `detail` is English for logs; `message` is for people. */

/** ffmpeg/ffprobe ran past its wall-clock limit and was killed with SIGKILL. */
export class MediaTimeoutError extends Error {
  override readonly name = 'MediaTimeoutError';
  constructor(
    readonly tool: string,
    readonly timeoutMs: number,
    readonly stderrTail: string,
  ) {
    super(`${tool} killed after ${timeoutMs} ms wall-clock timeout`);
  }
}

/** The caller's AbortSignal fired; the process was killed with SIGKILL. */
export class MediaAbortedError extends Error {
  override readonly name = 'MediaAbortedError';
  constructor(readonly tool: string) {
    super(`${tool} aborted by caller`);
  }
}

/** ffmpeg/ffprobe exited non-zero (or by a signal we did not send). Carries the last ~2 KB of stderr. */
export class MediaRunError extends Error {
  override readonly name = 'MediaRunError';
  constructor(
    readonly tool: string,
    readonly exitCode: number | null,
    readonly exitSignal: NodeJS.Signals | null,
    readonly stderrTail: string,
  ) {
    super(`${tool} exited with ${exitSignal ? `signal ${exitSignal}` : `code ${String(exitCode)}`}: ${lastLine(stderrTail)}`);
  }
}

export type MediaRejectionCode = 'not_video' | 'unreadable' | 'exceeds_limits' | 'transcode_failed' | 'timeout';

/** An upload the ingest could not turn into a preview. `message` is Chinese for the school. */
export class MediaRejectedError extends Error {
  override readonly name = 'MediaRejectedError';
  constructor(
    readonly code: MediaRejectionCode,
    message: string,
    readonly detail: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

function lastLine(text: string): string {
  const lines = text.trim().split(/\r?\n/);
  return (lines[lines.length - 1] ?? '').slice(0, 300);
}
