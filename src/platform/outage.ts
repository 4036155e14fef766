import { isDatabaseUnavailable } from './db/errors';
import { StoreUnavailableError } from './storage/object-store';

/**
 * Which dependency an error says is down: 'database' (unreachable, refusing connections, timed
 * out), 'store' (the object store did not answer or failed on its side), or null (anything else:
 * a bug, bad input, bad media). Requests answer 503 for an outage; jobs are deferred without
 * spending an attempt.
 */
export type Outage = 'database' | 'store';

export function outageOf(err: unknown, depth = 0): Outage | null {
  if (!err || typeof err !== 'object' || depth > 4) return null;
  if (err instanceof StoreUnavailableError) return 'store';
  if (isDatabaseUnavailable(err)) return 'database';
  const cause = (err as { cause?: unknown }).cause;
  return cause !== undefined && cause !== err ? outageOf(cause, depth + 1) : null;
}
