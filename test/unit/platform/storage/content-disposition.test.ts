import { contentDisposition } from '../../../../src/platform/storage/content-disposition';

describe('contentDisposition', () => {
  it('when there is no name, then just the disposition type', () => {
    expect(contentDisposition('inline')).toBe('inline');
  });

  it('when the name is ASCII, then both parameters carry it', () => {
    expect(contentDisposition('attachment', 'final-cut_v2.mp4')).toBe(`attachment; filename="final-cut_v2.mp4"; filename*=UTF-8''final-cut_v2.mp4`);
  });

  it('when the name is Chinese, then the fallback is plain ASCII and filename* is UTF-8 encoded', () => {
    expect(contentDisposition('attachment', '校歌.mp4')).toBe(`attachment; filename="download.mp4"; filename*=UTF-8''%E6%A0%A1%E6%AD%8C.mp4`);
  });

  it('when the name mixes Chinese and ASCII, then the fallback keeps the ASCII', () => {
    expect(contentDisposition('attachment', '2025 校歌 final.mp4')).toBe(
      `attachment; filename="2025 _ final.mp4"; filename*=UTF-8''2025%20%E6%A0%A1%E6%AD%8C%20final.mp4`,
    );
  });

  it('when the name carries quotes, CR/LF, backslashes or slashes, then they are dropped', () => {
    const value = contentDisposition('attachment', 'a"b\r\nSet-Cookie: x=1\\..\\/c.mp4');

    expect(value).toBe(`attachment; filename="abSet-Cookie: x=1..c.mp4"; filename*=UTF-8''abSet-Cookie%3A%20x%3D1..c.mp4`);
  });

  it("when the name holds RFC 5987 specials ' ( ) *, then filename* percent-encodes them", () => {
    expect(contentDisposition('attachment', "it's (1)*.mp4")).toBe(`attachment; filename="it_s (1)_.mp4"; filename*=UTF-8''it%27s%20%281%29%2A.mp4`);
  });

  it('when the name holds a lone surrogate, then it is dropped instead of throwing', () => {
    expect(contentDisposition('attachment', 'a\uD800b.mp4')).toBe(`attachment; filename="ab.mp4"; filename*=UTF-8''ab.mp4`);
  });

  it('when the name is only unsafe characters, then no filename is sent', () => {
    expect(contentDisposition('attachment', '"\r\n"')).toBe('attachment');
  });

  it('when the name is very long, then it is cut to 150 characters', () => {
    const value = contentDisposition('attachment', `${'长'.repeat(400)}.mp4`);

    expect(decodeURIComponent(value.split("UTF-8''")[1] ?? '')).toHaveLength(150);
  });
});
