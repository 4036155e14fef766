import crypto from 'node:crypto';
import { loadConfig } from '../../../src/config';
import { createPool } from '../../../src/platform/db/database';
import { MAX_NAMED_PER_CONNECTION } from '../../../src/platform/db/prepared';
import { adminQuery, databaseUrl } from '../../../src/platform/db/server-admin';

/**
 * The app's pool sends Kysely's statements as named prepared statements (src/platform/db/prepared.ts):
 * parsed once per connection and, after five runs, planned once. PostgreSQL only: PGlite runs in
 * process and has no pool (without DATABASE_URL this file is skipped).
 */
const serverUrl = process.env.DATABASE_URL;
const onPostgres = serverUrl ? describe : describe.skip;

interface Prepared {
  name: string;
  statement: string;
  generic_plans: number;
  custom_plans: number;
}

onPostgres('named prepared statements (PostgreSQL)', () => {
  const dbName = `cx_test_prep_${crypto.randomBytes(5).toString('hex')}`;
  let url: string;

  beforeAll(async () => {
    await adminQuery(serverUrl!, `CREATE DATABASE ${dbName}`);
    url = databaseUrl(serverUrl!, dbName);
  });
  afterAll(async () => {
    await adminQuery(serverUrl!, `DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  });

  /** One connection of a fresh app pool, and what the server holds prepared for it. */
  async function connection(preparedStatements = true) {
    const pool = createPool(url, undefined, { preparedStatements });
    const client = await pool.connect();
    const prepared = async () =>
      (await client.query<Prepared>('SELECT name, statement, generic_plans, custom_plans FROM pg_prepared_statements ORDER BY name')).rows;
    const close = async () => {
      client.release();
      await pool.end();
    };
    return { client, prepared, close };
  }

  it('when one statement runs seven times on a connection, then it is prepared once and later runs use a generic plan', async () => {
    const { client, prepared, close } = await connection();
    try {
      const answers: number[] = [];
      for (let i = 0; i < 7; i++) answers.push((await client.query<{ n: number }>('select $1::int + 1 as n', [i])).rows[0].n);

      expect(answers).toEqual([1, 2, 3, 4, 5, 6, 7]);
      const held = await prepared();
      expect(held).toHaveLength(1);
      expect(held[0].statement).toBe('select $1::int + 1 as n');
      expect(held[0].custom_plans + held[0].generic_plans).toBe(7);
      expect(held[0].generic_plans).toBeGreaterThan(0);
    } finally {
      await close();
    }
  });

  it('when statements have no parameters or are not reads and writes, then nothing is named', async () => {
    const { client, prepared, close } = await connection();
    try {
      await client.query('begin', []);
      await client.query('create temporary table t (id int primary key, v text) on commit drop', []);
      await client.query('select 1', []);
      await client.query('commit', []);

      expect(await prepared()).toEqual([]);
    } finally {
      await close();
    }
  });

  it('when DB_PREPARED_STATEMENTS is false, then the pool sends every statement unnamed', async () => {
    expect(loadConfig({ DATABASE_URL: url, DB_PREPARED_STATEMENTS: 'false' }).database).toMatchObject({ kind: 'postgres', preparedStatements: false });
    expect(loadConfig({ DATABASE_URL: url }).database).toMatchObject({ kind: 'postgres', preparedStatements: true });
    const { client, prepared, close } = await connection(false);
    try {
      await client.query('select $1::int as n', [1]);

      expect(await prepared()).toEqual([]);
    } finally {
      await close();
    }
  });

  it('when a column is added under a prepared select *, then one call fails and the next ones answer with the new column', async () => {
    const { client, close } = await connection();
    try {
      await client.query('create table drifting (id int primary key, a text)', []);
      await client.query('insert into drifting values ($1, $2)', [1, 'x']);
      await client.query('select * from drifting where id = $1', [1]);
      await client.query('alter table drifting add column b text', []); // a deploy's migration, under a running process

      const outcomes: string[] = [];
      for (let i = 0; i < 3; i++) {
        outcomes.push(
          await client.query<Record<string, unknown>>('select * from drifting where id = $1', [1]).then(
            (r) => Object.keys(r.rows[0]).join(','),
            (err: Error & { code?: string }) => `error ${err.code}`,
          ),
        );
      }

      expect(outcomes).toEqual(['error 0A000', 'id,a,b', 'id,a,b']);
    } finally {
      await close();
    }
  });

  it('when a connection has named its limit, then further statements run unnamed and still answer', async () => {
    const { client, prepared, close } = await connection();
    try {
      for (let i = 0; i < MAX_NAMED_PER_CONNECTION; i++) await client.query(`select $1::int as n${i}`, [i]);
      const extra = await client.query<{ extra: number }>('select $1::int as extra', [42]);

      expect(extra.rows[0].extra).toBe(42);
      const held = await prepared();
      expect(held).toHaveLength(MAX_NAMED_PER_CONNECTION);
      expect(held.some((p) => p.statement.includes('extra'))).toBe(false);
    } finally {
      await close();
    }
  });
});
