/**
 * The fault suite (`npm run test:faults`): the production set as real processes from dist/, hurt on
 * purpose (test-faults/). Not part of `npm test`: it needs PostgreSQL on 127.0.0.1:5432 (or
 * DATABASE_URL), builds first, and takes a few minutes.
 */
const base = require('./jest.config.js');

module.exports = {
  ...base,
  roots: ['<rootDir>/test-faults'],
  testMatch: ['**/*.fault.test.ts'],
  testTimeout: 300000,
  maxWorkers: 1,
};
