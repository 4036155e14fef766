import { sniffVideoHead } from '../../../../src/platform/media/sniff';
import { parseProgressLine } from '../../../../src/platform/media/runner';
import { capabilitiesFromFilterList } from '../../../../src/platform/media/binaries';

const box = (type: string, size = 24): Buffer => {
  const b = Buffer.alloc(32);
  b.writeUInt32BE(size, 0);
  b.write(type, 4, 'latin1');
  return b;
};

describe('sniffVideoHead', () => {
  it.each(['ftyp', 'moov', 'mdat', 'free', 'wide', 'skip'])('when an ISO-BMFF file starts with a %s box, then it is accepted', (type) => {
    expect(sniffVideoHead(box(type))).toEqual({ ok: true, container: 'isobmff' });
  });
  it('when the file starts with the EBML magic, then it is Matroska/WebM', () => {
    expect(sniffVideoHead(Buffer.from([0x1a, 0x45, 0xdf, 0xa3, 0x9f, 0x42, 0x86, 0x81]))).toEqual({ ok: true, container: 'matroska' });
  });
  it('when the file is empty, then it is unreadable with a Chinese message', () => {
    expect(sniffVideoHead(Buffer.alloc(0))).toMatchObject({ ok: false, code: 'unreadable', message: expect.stringContaining('0 字节') });
  });
  it('when the file is AVI, then it is refused by policy', () => {
    const avi = Buffer.concat([Buffer.from('RIFF'), Buffer.alloc(4), Buffer.from('AVI LIST')]);
    expect(sniffVideoHead(avi)).toMatchObject({ ok: false, code: 'not_video', message: expect.stringContaining('AVI') });
  });
  it.each([
    ['an HLS playlist', '#EXTM3U\n#EXTINF:10,\nfile:///etc/passwd\n', 'HLS'],
    ['an HLS playlist with a BOM', '\uFEFF#EXTM3U\n', 'HLS'],
    ['an ffconcat script', 'ffconcat version 1.0\nfile /etc/passwd\n', 'ffconcat'],
    ['HTML', '<!DOCTYPE html><html><script>alert(1)</script>', 'HTML'],
    ['SVG', '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', 'SVG'],
    ['XML', '<?xml version="1.0"?><x/>', 'XML'],
    ['a shell script', '#!/bin/sh\nrm -rf /\n', 'shebang'],
    ['plain text', '这不是视频 hello', 'text'],
    ['a box type that is not allowed', '\0\0\0\x18junkjunkjunkjunk', 'unknown'],
  ])('when the file is %s, then it is not a video', (_label, content, detail) => {
    const result = sniffVideoHead(Buffer.from(content, 'utf8'));
    expect(result).toMatchObject({ ok: false, code: 'not_video', message: '文件不是视频，请上传手机或相机拍摄的视频文件（MP4/MOV）' });
    expect(result.ok ? '' : result.detail).toContain(detail);
  });
  it('when an ftyp box claims a size below 8, then it is refused', () => {
    expect(sniffVideoHead(box('ftyp', 5)).ok).toBe(false);
  });
});

describe('parseProgressLine', () => {
  it('when ffmpeg reports out_time, then it becomes seconds', () => {
    expect(parseProgressLine('out_time=00:01:02.500000')).toBeCloseTo(62.5);
    expect(parseProgressLine('out_time=-577014:32:22.77')).toBe(0);
    expect(parseProgressLine('progress=end')).toBe(Infinity);
    expect(parseProgressLine('frame=12')).toBeNull();
  });
});

describe('capabilitiesFromFilterList', () => {
  it('when the listing has zscale and tonemap, then HDR tone-mapping is available', () => {
    const listing = ' .SC zscale            V->V       Apply resizing\n .S. tonemap           V->V       Conversion\n T.. thumbnail         V->V       Select\n ... ebur128           A->N       EBU R128 scanner.\n';
    const caps = capabilitiesFromFilterList(listing);
    expect(caps).toMatchObject({ zscale: true, tonemap: true, hdrTonemap: true });
    expect(caps.filters.has('ebur128')).toBe(true);
    expect(capabilitiesFromFilterList(listing.replace('zscale', 'yscale')).hdrTonemap).toBe(false);
  });
});
