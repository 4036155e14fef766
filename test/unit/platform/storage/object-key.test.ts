import { assertValidPrefix, InvalidObjectKeyError, isValidKey } from '../../../../src/platform/storage/object-store';

describe('object keys', () => {
  it.each([
    'originals/42/7f9c2d1e-0b1a-4c3e-9a55-3e1f0c2b9d11',
    'previews/7f9c2d1e.mp4',
    'posters/7f9c2d1e.jpg',
    'masters/7f9c2d1e/xdcam-hd422.mxf',
    'masters/7f9c2d1e/h264-1080p25.mp4',
  ])('when the key is the server-generated %j, then it is valid', (key) => {
    expect(isValidKey(key)).toBe(true);
  });

  it.each([
    '',
    '..',
    'a/../b',
    'a/..',
    '/a',
    'a/',
    'a//b',
    'a\\b',
    'a\0b',
    'a b',
    'a\nb',
    '.hidden',
    'a/.meta/b',
    'a?b',
    'a%2Fb',
    '视频.mp4',
    'x'.repeat(513),
  ])('when the key is %j, then it is rejected', (key) => {
    expect(isValidKey(key)).toBe(false);
  });

  it('when a prefix ends with a slash, then it is accepted; an empty one is not', () => {
    expect(() => assertValidPrefix('originals/42/')).not.toThrow();
    expect(() => assertValidPrefix('originals/4')).not.toThrow();
    expect(() => assertValidPrefix('')).toThrow(InvalidObjectKeyError);
    expect(() => assertValidPrefix('/')).toThrow(InvalidObjectKeyError);
  });
});
