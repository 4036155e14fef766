/**
 * The media suite (`npm run test:media`): the three longest real-ffmpeg files — broadcast masters in
 * every profile, the camcorder formats through ingest and masters, the new-media packs — about 3.5
 * minutes of one worker between them. Kept out of `npm test` so that it stays well under 10 minutes on
 * 2 cores; `.ci/run` runs both. The shorter media tests (ingest, QC, hostile containers) stay in
 * `npm test`.
 */
const base = require('./jest.config.js');

module.exports = {
  ...base,
  testMatch: ['**/*.media.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
};
