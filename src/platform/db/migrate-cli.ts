import { loadConfig } from '../../config';
import { openDatabase } from './database';
import { migrateToLatest } from './migrate';

/** `npm run migrate`: apply pending migrations to the configured database and exit. */
async function main(): Promise<void> {
  const config = loadConfig();
  const database = await openDatabase(config.database);
  try {
    const applied = await migrateToLatest(database.db);
    console.log(applied.length ? `applied: ${applied.join(', ')}` : 'database is up to date');
  } finally {
    await database.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
