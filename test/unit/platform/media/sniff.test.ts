import { SNIFF_MESSAGES, sniffVideoHead } from '../../../../src/platform/media/sniff';
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
    expect(sniffVideoHead(box(type))).toEqual({ ok: true, container: 'isobmff', demuxer: 'mov' });
  });
  it('when the file starts with the EBML magic, then it is Matroska/WebM', () => {
    expect(sniffVideoHead(Buffer.from([0x1a, 0x45, 0xdf, 0xa3, 0x9f, 0x42, 0x86, 0x81]))).toEqual({ ok: true, container: 'matroska', demuxer: 'matroska' });
  });
  it('when the file is empty, then it is unreadable with a Chinese message', () => {
    expect(sniffVideoHead(Buffer.alloc(0))).toMatchObject({ ok: false, code: 'unreadable', message: expect.stringContaining('0 字节') });
  });
  const packets = (size: number, offset: number, count: number): Buffer => {
    const b = Buffer.alloc(size * count, 0xff);
    for (let i = 0; i < count; i += 1) b[offset + i * size] = 0x47;
    return b;
  };
  it.each([
    ['AVI', Buffer.concat([Buffer.from('RIFF'), Buffer.alloc(4), Buffer.from('AVI LIST')]), 'avi', 'avi'],
    ['MPEG-TS (188-byte packets, AVCHD .MTS)', packets(188, 0, 8), 'mpegts', 'mpegts'],
    ['M2TS (192-byte packets with a 4-byte timecode)', packets(192, 4, 8), 'm2ts', 'mpegts'],
    ['MPEG-PS (.MPG/.VOB)', Buffer.from([0, 0, 1, 0xba, 0x44, 0, 4, 0]), 'mpegps', 'mpeg'],
    ['raw DV', Buffer.from([0x1f, 0x07, 0x00, 0xbf, 0xf8, 0x78, 0x78, 0x78]), 'dv', 'dv'],
    ['MXF', Buffer.from('060e2b34020501010d01020101020400', 'hex'), 'mxf', 'mxf'],
  ])('when the file is %s, then it is accepted with exactly one demuxer', (_label, head, container, demuxer) => {
    expect(sniffVideoHead(head)).toEqual({ ok: true, container, demuxer });
  });
  it('when a text file merely starts with "G", then it is not a transport stream', () => {
    expect(sniffVideoHead(Buffer.from('Good morning, this is not a video at all\n'.repeat(20))).ok).toBe(false);
  });
  it.each([
    ['WMV/ASF', Buffer.from('3026b2758e66cf11a6d900aa0062ce6c', 'hex'), 'WMV', 'MP4'],
    ['FLV', Buffer.from('FLV\x01\x05\0\0\0\x09', 'latin1'), 'FLV', 'MP4'],
    ['RealMedia', Buffer.from('.RMF\0\0\0\x12', 'latin1'), 'RMVB', 'MP4'],
    ['an MP3', Buffer.from('ID3\x04\0\0\0\0\0\0', 'latin1'), '音频', '画面'],
    ['a JPEG', Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0x10, 0x4a, 0x46]), '图片', '视频'],
    ['a raw H.264 stream', Buffer.from([0, 0, 0, 1, 0x67, 0x64, 0, 0x28]), '没有封装', 'MP4'],
    ['a ZIP of the camera folder', Buffer.from('PK\x03\x04\x14\0\0\0', 'latin1'), '压缩包', '解压'],
    ['the AVCHD playlist 00000.MPL instead of the clip', Buffer.from('MPLS0100\0\0\0\x3a', 'latin1'), '播放列表', '.MTS'],
    ['the AVCHD clip info 00000.CPI', Buffer.from('HDMV0200\0\0\0\x3a', 'latin1'), 'STREAM', '.MTS'],
  ])('when the file is %s (a format still refused), then the message names it and how to go on, and never says 「不是视频」', (_label, head, named, how) => {
    const result = sniffVideoHead(head);
    expect(result).toMatchObject({ ok: false, code: 'not_video' });
    const message = result.ok ? '' : result.message;
    expect(message).toContain(named);
    expect(message).toContain(how);
    expect(message).not.toContain('不是视频');
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
    expect(result).toMatchObject({ ok: false, code: 'not_video', message: SNIFF_MESSAGES.notVideo });
    expect(SNIFF_MESSAGES.notVideo).toContain('MTS/M2TS');
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
    const listing =
      ' .SC zscale            V->V       Apply resizing\n .S. tonemap           V->V       Conversion\n T.. thumbnail         V->V       Select\n ... ebur128           A->N       EBU R128 scanner.\n';
    const caps = capabilitiesFromFilterList(listing);
    expect(caps).toMatchObject({ zscale: true, tonemap: true, hdrTonemap: true });
    expect(caps.filters.has('ebur128')).toBe(true);
    expect(capabilitiesFromFilterList(listing.replace('zscale', 'yscale')).hdrTonemap).toBe(false);
  });
});
