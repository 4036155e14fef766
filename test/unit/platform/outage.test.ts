import { isDatabaseUnavailable } from '../../../src/platform/db/errors';
import { outageOf } from '../../../src/platform/outage';
import { StoreUnavailableError } from '../../../src/platform/storage';
import { toAppError } from '../../../src/web/error-handler';

const pgError = (code: string, message = 'x') => Object.assign(new Error(message), { code });

describe('which errors mean "the database is unavailable"', () => {
  test.each([
    ['57P01 admin_shutdown (pg_terminate_backend, a restart)', pgError('57P01', 'terminating connection due to administrator command')],
    ['57P03 cannot_connect_now (starting up, recovery)', pgError('57P03')],
    ['55000 database not accepting connections (ALLOW_CONNECTIONS false)', pgError('55000', 'database "x" is not currently accepting connections')],
    ['08006 connection failure', pgError('08006')],
    ['53300 too many connections', pgError('53300')],
    ['57014 statement timeout', pgError('57014', 'canceling statement due to statement timeout')],
    ['ECONNREFUSED', pgError('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5432')],
    ['a lost connection', new Error('Connection terminated unexpectedly')],
    ['a pool checkout timeout', new Error('timeout exceeded when trying to connect')],
    ['a client read timeout (blackholed socket)', new Error('Query read timeout')],
    ['the driver closed at shutdown', new Error('driver has already been destroyed')],
    ['an AggregateError of connect attempts', new AggregateError([pgError('ECONNREFUSED'), pgError('ECONNREFUSED')], '')],
    ['a wrapped cause', new Error('outer', { cause: pgError('57P01') })],
  ])('when the error is %s, then it is an outage (503, job deferred)', (_name, err) => {
    expect(isDatabaseUnavailable(err)).toBe(true);
    expect(outageOf(err)).toBe('database');
  });

  test.each([
    ['23505 unique violation', pgError('23505')],
    ['42P01 undefined table (a bug)', pgError('42P01')],
    ['22P02 invalid input (bad data)', pgError('22P02')],
    ['a plain error', new Error('boom')],
    ['not an error', 'ECONNREFUSED'],
    ['null', null],
  ])('when the error is %s, then it is not an outage', (_name, err) => {
    expect(isDatabaseUnavailable(err)).toBe(false);
    expect(outageOf(err)).toBeNull();
  });

  test('when the object store did not answer, then it is a store outage', () => {
    expect(outageOf(new StoreUnavailableError('object store did not answer'))).toBe('store');
    expect(outageOf(new Error('ingest failed', { cause: new StoreUnavailableError('down') }))).toBe('store');
  });
});

describe('what a user is told during an outage', () => {
  test('when the database is unavailable, then the answer is 503 with Retry-After and 数据库暂时不可用', () => {
    const e = toAppError(pgError('57P01'))!;
    expect(e.status).toBe(503);
    expect(e.code).toBe('unavailable');
    expect(e.detail).toBe('数据库暂时不可用，请稍后重试。');
    expect(Number(e.headers?.['Retry-After'])).toBeGreaterThan(0);
  });

  test('when the object store is unavailable, then the answer is 503 with Retry-After and 文件存储暂时不可用', () => {
    const e = toAppError(new StoreUnavailableError('down'))!;
    expect(e.status).toBe(503);
    expect(e.detail).toBe('文件存储暂时不可用，请稍后重试。');
    expect(Number(e.headers?.['Retry-After'])).toBeGreaterThan(0);
  });

  test('when the error is a bug, then it is not dressed up as an outage', () => {
    expect(toAppError(pgError('42P01'))).toBeNull();
  });
});
