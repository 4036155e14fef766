import pg from 'pg';

/**
 * Statements against a PostgreSQL server rather than one database (CREATE / DROP DATABASE): the
 * tests make a fresh database per file and the bench scripts one per run. Not used by the app.
 */
export async function adminQuery(serverUrl: string, text: string): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

/** The URL of database `name` on the server `serverUrl` names. */
export function databaseUrl(serverUrl: string, name: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}
