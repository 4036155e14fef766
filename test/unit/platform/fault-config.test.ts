import os from 'node:os';
import { ConfigError, loadConfig } from '../../../src/config';

/** The settings that make faults fail fast and deploys drain (README, Configuration). */
describe('fault settings', () => {
  test('when nothing is set, then the documented defaults apply and the web process binds every interface', () => {
    const c = loadConfig({ DATABASE_URL: 'postgres://u@db/x' });
    expect(c.host).toBeUndefined();
    expect(c.shutdownGraceMs).toBe(25_000);
    expect(c.worker).toMatchObject({ infraRetryHours: 24, leaseMs: 60_000 });
    expect(c.database).toEqual({
      kind: 'postgres',
      url: 'postgres://u@db/x',
      timeouts: { connectMs: 5_000, statementMs: 5_000, idleInTransactionMs: 60_000 },
      preparedStatements: true,
      poolMax: Math.max(4, 2 * os.availableParallelism()),
    });
  });

  test('when they are set, then they are used', () => {
    const c = loadConfig({
      DATABASE_URL: 'postgres://u@db/x',
      HOST: '127.0.0.1',
      SHUTDOWN_GRACE_MS: '4000',
      JOB_INFRA_RETRY_HOURS: '72',
      JOB_LEASE_SECONDS: '10',
      DB_CONNECT_TIMEOUT_MS: '2000',
      DB_STATEMENT_TIMEOUT_MS: '30000',
      DB_IDLE_IN_TRANSACTION_TIMEOUT_MS: '120000',
      DB_POOL_MAX: '12',
      DB_PREPARED_STATEMENTS: 'off',
    });
    expect(c.host).toBe('127.0.0.1');
    expect(c.shutdownGraceMs).toBe(4000);
    expect(c.worker).toMatchObject({ infraRetryHours: 72, leaseMs: 10_000 });
    expect(c.database).toMatchObject({
      timeouts: { connectMs: 2000, statementMs: 30_000, idleInTransactionMs: 120_000 },
      poolMax: 12,
      preparedStatements: false,
    });
  });

  test.each([
    ['DB_STATEMENT_TIMEOUT_MS', '0'],
    ['DB_CONNECT_TIMEOUT_MS', 'soon'],
    ['DB_POOL_MAX', '0'],
    ['DB_PREPARED_STATEMENTS', 'maybe'],
    ['JOB_LEASE_SECONDS', '1'],
    ['JOB_INFRA_RETRY_HOURS', '0'],
    ['SHUTDOWN_GRACE_MS', '-1'],
  ])('when %s is %j, then start-up refuses with the name of the setting', (name, value) => {
    const load = () => loadConfig({ DATABASE_URL: 'postgres://u@db/x', [name]: value });
    expect(load).toThrow(ConfigError);
    expect(load).toThrow(name);
  });
});
