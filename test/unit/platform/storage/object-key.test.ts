import { assertValidPrefix, InvalidObjectKeyError, isValidKey } from '../../../../src/platform/storage/object-store';
import { objectKeys } from '../../../../src/platform/storage/object-keys';

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

  it.each(['', '..', 'a/../b', 'a/..', '/a', 'a/', 'a//b', 'a\\b', 'a\0b', 'a b', 'a\nb', '.hidden', 'a/.meta/b', 'a?b', 'a%2Fb', '视频.mp4', 'x'.repeat(513)])(
    'when the key is %j, then it is rejected',
    (key) => {
      expect(isValidKey(key)).toBe(false);
    },
  );

  it('when a prefix ends with a slash, then it is accepted; an empty one is not', () => {
    expect(() => assertValidPrefix('originals/42/')).not.toThrow();
    expect(() => assertValidPrefix('originals/4')).not.toThrow();
    expect(() => assertValidPrefix('')).toThrow(InvalidObjectKeyError);
    expect(() => assertValidPrefix('/')).toThrow(InvalidObjectKeyError);
  });
});

describe('the keys the application makes (object-keys.ts)', () => {
  const id = '7f9c2d1e-0b1a-4c3e-9a55-3e1f0c2b9d11';
  it.each([
    ['original', objectKeys.original('42', id), `originals/42/${id}`],
    ['preview', objectKeys.preview(id), `previews/${id}.mp4`],
    ['poster', objectKeys.poster(id), `posters/${id}.jpg`],
    ['master', objectKeys.master(id, 'xdcam-hd422', 'mxf'), `masters/${id}/xdcam-hd422.mxf`],
    ['tus part', objectKeys.tusPart(id, 4194304), `tus/${id}/0000000004194304`],
  ])('when the %s key is made, then it is %j-shaped and the store accepts it', (_what, key, expected) => {
    expect(key).toBe(expected);
    expect(isValidKey(key)).toBe(true);
  });

  it('when the tus parts prefix is made, then deletePrefix accepts it and every part key starts with it', () => {
    expect(() => assertValidPrefix(objectKeys.tusParts(id))).not.toThrow();
    expect(objectKeys.tusPart(id, 0).startsWith(objectKeys.tusParts(id))).toBe(true);
  });
});
