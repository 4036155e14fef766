import { buildJobHandlers } from '../src/jobs';
import { outageOf } from '../src/platform/outage';
import { runWorkerProcess } from '../src/platform/queue/worker-process';

// A promise rejected by an outage that some code path forgot to await must not end the worker
// (its jobs are deferred, not failed). Anything else still crashes.
process.on('unhandledRejection', (reason) => {
  if (!outageOf(reason)) throw reason;
  process.stderr.write(
    `${JSON.stringify({ t: new Date().toISOString(), level: 'error', msg: 'unhandled rejection during an outage; kept running', err: String(reason) })}\n`,
  );
});

/** `npm run worker`: one worker process (scale by starting more). */
runWorkerProcess(buildJobHandlers).catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
