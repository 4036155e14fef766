import { buildJobHandlers } from '../src/jobs';
import { runWorkerProcess } from './process';

/** `npm run worker`: one worker process (scale by starting more). */
runWorkerProcess(buildJobHandlers).catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
