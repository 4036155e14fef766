import { formatBytes, formatDuration } from '../../../src/platform/format';

describe('durations and sizes as pages and spreadsheets show them', () => {
  test.each([
    [0, '0:00'],
    [5.4, '0:05'],
    [59.6, '1:00'],
    [125.4, '2:05'],
    [3600, '60:00'],
  ])('when a video lasts %p s, then it reads %p', (seconds, text) => {
    expect(formatDuration(seconds)).toBe(text);
  });

  test.each([
    [500, '1 KB'],
    [12 * 1024, '12 KB'],
    [1.5 * 1024 ** 2, '1.5 MB'],
    [2.31 * 1024 ** 3, '2.31 GB'],
  ])('when a file has %p bytes, then it reads %p', (bytes, text) => {
    expect(formatBytes(bytes)).toBe(text);
  });
});
