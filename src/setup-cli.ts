import { loadConfig } from './config';
import { runSetup } from './platform/setup';

/** `npm run setup`: create the database and bucket if missing, then migrate (see src/platform/setup.ts). */
runSetup(loadConfig(), (line) => console.log(`setup: ${line}`)).then(
  () => console.log('setup: done'),
  (err: unknown) => {
    console.error(`setup failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
