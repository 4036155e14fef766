/**
 * Jest runs TypeScript through SWC (fast, no type-check); `npm test` runs `tsc --noEmit` first.
 * `ignoreDynamic`: `import()` stays a real dynamic import (as tsc with module node16 emits it), so
 * ESM-only packages (@tus/server) load through Jest's ESM loader (--experimental-vm-modules)
 * instead of being rewritten to a require() that cannot load ESM.
 */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // *.media.test.ts: the long real-ffmpeg files, run by `npm run test:media` (jest.media.config.js).
  testPathIgnorePatterns: ['/node_modules/', '/dist/', '\\.media\\.test\\.ts$'],
  transform: { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022', parser: { syntax: 'typescript' } }, module: { type: 'commonjs', ignoreDynamic: true } }] },
  testTimeout: 60000,
  maxWorkers: 2,
};
