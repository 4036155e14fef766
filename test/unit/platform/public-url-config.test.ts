import { ConfigError, loadConfig } from '../../../src/config';

/** PUBLIC_URL: where certificate QR codes point (README, Configuration). */
describe('PUBLIC_URL', () => {
  const base = { DATA_DIR: '/tmp/cx-public-url' };

  test('when it is unset, then certificates use the address of the request that made them (null here)', () => {
    expect(loadConfig(base).publicUrl).toBeNull();
  });

  test('when it has a trailing slash or a path, then it is kept without the trailing slash', () => {
    expect(loadConfig({ ...base, PUBLIC_URL: 'https://changxiang.example.cn/' }).publicUrl).toBe('https://changxiang.example.cn');
    expect(loadConfig({ ...base, PUBLIC_URL: 'https://edu.example.cn/changxiang/' }).publicUrl).toBe('https://edu.example.cn/changxiang');
  });

  test('when it is not an http(s) address, then start-up stops with a clear message', () => {
    expect(() => loadConfig({ ...base, PUBLIC_URL: 'changxiang.example.cn' })).toThrow(ConfigError);
    expect(() => loadConfig({ ...base, PUBLIC_URL: 'ftp://changxiang.example.cn' })).toThrow(/https:\/\/ or http:\/\//);
  });
});
