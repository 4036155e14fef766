import { readFileSync } from 'node:fs';
import path from 'node:path';
import { assertGuardedFfmpegArgs } from '../../../../src/platform/media/input-guard';
import { planLoudness } from '../../../../src/platform/media/loudness';
import {
  PACK_LOUDNESS,
  buildPackArgs,
  filterPath,
  fitVideoKbps,
  layoutCard,
  packFrameRate,
  planPackPicture,
  textEms,
  wrapEms,
  type PackTexts,
} from '../../../../src/platform/media/pack-args';
import { normalizeProbe, type ProbeResult } from '../../../../src/platform/media/probe';
import type { RawProbe } from '../../../../src/platform/media/runner';

const fixtures = path.join(__dirname, '../../../fixtures/probe');
const probeOf = (name: string): ProbeResult => normalizeProbe(JSON.parse(readFileSync(path.join(fixtures, `${name}.json`), 'utf8')) as RawProbe);
const caps = { hdrTonemap: true };
const MB = 1024 * 1024;

describe('packFrameRate', () => {
  const at = (fps: number, fpsFraction = `${fps}/1`) => packFrameRate({ ...probeOf('landscape'), fps, fpsFraction });
  it('when the source is 25 or 30 fps, then the pack keeps it', () => {
    expect(at(25).fps).toBe('25');
    expect(at(30).fps).toBe('30');
    expect(at(30000 / 1001, '30000/1001').fps).toBe('30000/1001');
  });
  it('when the source is 50 or 60 fps, then the pack is halved to 25 or 30', () => {
    expect(at(50).fps).toBe('25');
    expect(at(60).fps).toBe('30');
    expect(at(60000 / 1001, '60000/1001').fps).toBe('30000/1001');
  });
});

describe('planPackPicture', () => {
  it('when the source is landscape, then the official-account video keeps its size (never upscaled) and the vertical one sits on a blurred fill inside the title-safe width', () => {
    const plan = planPackPicture(probeOf('landscape'), { maxBytes: 200 * MB, caps });
    expect(plan.oa).toEqual({ width: 320, height: 240 });
    expect(plan.vertical).toEqual({ mode: 'blur', fgWidth: 972, fgHeight: 730 });
  });
  it('when the source is a portrait phone clip (also one with a rotation flag), then the vertical version fills the frame', () => {
    expect(planPackPicture(probeOf('portrait'), { maxBytes: 200 * MB, caps }).vertical.mode).toBe('fill');
    expect(planPackPicture(probeOf('rotated'), { maxBytes: 200 * MB, caps }).vertical.mode).toBe('fill');
  });
  it('when a 4K source is packed, then the official-account video is fitted inside 1920×1080', () => {
    const plan = planPackPicture({ ...probeOf('landscape'), displayWidth: 3840, displayHeight: 2160 }, { maxBytes: 200 * MB, caps });
    expect(plan.oa).toEqual({ width: 1920, height: 1080 });
  });
});

describe('fitVideoKbps', () => {
  it('when the video is short, then the bitrate is capped; when long, it is fitted so that the file stays under the limit', () => {
    expect(fitVideoKbps(60, 200 * MB)).toBe(8000);
    const kbps = fitVideoKbps(600, 200 * MB)!;
    expect(((kbps + 192) * 1000 * 600) / 8).toBeLessThan(200 * MB);
    expect(kbps).toBeGreaterThan(2000);
  });
  it('when not even the minimum bitrate fits, then there is no plan', () => {
    expect(fitVideoKbps(900, 20 * MB)).toBeNull();
  });
});

describe('text layout', () => {
  it('when a line is wider than the card, then it is wrapped by character', () => {
    expect(textEms('吕梁颂 ab')).toBeCloseTo(3 + 0.55 * 3);
    expect(wrapEms('学习党的二十大精神唱响青春主旋律', 6)).toEqual(['学习党的二十', '大精神唱响青', '春主旋律']);
  });
  it('when blocks are laid out, then lines are centred vertically in order and the title is larger', () => {
    const lines = layoutCard(
      [
        { text: '活动', scale: 0.8 },
        { text: '《吕梁颂》', scale: 1.7, bold: true, accent: true },
      ],
      1080,
      1920,
    );
    expect(lines).toHaveLength(2);
    expect(lines[1]!.fontSize).toBeGreaterThan(lines[0]!.fontSize);
    expect(lines[1]!.y).toBeGreaterThan(lines[0]!.y);
    expect(lines[1]!.bold).toBe(true);
  });
  it('when a path has a character with a meaning in a filter graph, then it is refused', () => {
    expect(filterPath('/tmp/pack-p1-ab/oa-open-0.txt')).toBe('/tmp/pack-p1-ab/oa-open-0.txt');
    for (const bad of ["/tmp/a'b.txt", '/tmp/a:b.txt', '/tmp/a,b.txt', '/tmp/a;b', '/tmp/a[b]', 'relative.txt']) expect(() => filterPath(bad)).toThrow();
  });
});

describe('buildPackArgs', () => {
  const line = (file: string) => [{ text: 'x', fontSize: 40, y: 10, bold: false, colour: 'white', file }];
  const texts: PackTexts = {
    oaOpening: line('/w/oa-open-0.txt'),
    oaClosing: line('/w/oa-close-0.txt'),
    verticalOpening: line('/w/v-open-0.txt'),
    verticalClosing: line('/w/v-close-0.txt'),
    coverWide: line('/w/cover-wide-0.txt'),
    coverSquare: line('/w/cover-square-0.txt'),
  };
  const probe = probeOf('landscape');
  const plan = planPackPicture(probe, { maxBytes: 200 * MB, caps });
  const loudness = planLoudness(
    { measuredI: -20, measuredTP: -8, measuredLRA: 3, measuredThresh: -30, offset: 0, source: 'loudnorm' },
    { ...PACK_LOUDNESS, truePeakHeadroomDb: 1 },
  );
  const args = buildPackArgs(probe, {
    inputPath: '/w/source',
    outputs: { oa: '/w/oa.mp4', vertical: '/w/v.mp4', coverWide: '/w/cw.jpg', coverSquare: '/w/cs.jpg' },
    plan,
    loudness,
    texts,
    fonts: { regular: '/fonts/r.ttf', bold: '/fonts/b.ttf' },
  });
  const graph = args[args.indexOf('-filter_complex') + 1]!;
  it('when the pack is built, then the source is read once, through the input guard, and four outputs come out of one run', () => {
    expect(() => assertGuardedFfmpegArgs(args)).not.toThrow();
    expect(args.filter((a) => a === '-i')).toHaveLength(1);
    expect(args.filter((a) => a.startsWith('file:/w/'))).toEqual(['file:/w/source', 'file:/w/oa.mp4', 'file:/w/v.mp4', 'file:/w/cw.jpg', 'file:/w/cs.jpg']);
    expect((graph.match(/split=3/g) ?? []).length).toBe(1);
  });
  it('when the cards are drawn, then text comes from files with expansion off and the font from fontfile=', () => {
    expect(graph).toContain('drawtext=fontfile=/fonts/r.ttf:textfile=/w/oa-open-0.txt:expansion=none');
    expect((graph.match(/concat=n=3:v=1:a=1/g) ?? []).length).toBe(2);
    expect(graph).toContain('loudnorm=I=-16:TP=-1');
  });
  it('when the videos are encoded, then they are H.264 High with a fitted bitrate, AAC 48 kHz stereo and faststart', () => {
    for (const opt of ['-profile:v', '-b:v', '-maxrate', '-ar', '-movflags']) expect(args.filter((a) => a === opt)).toHaveLength(2);
    expect(args[args.indexOf('-b:v') + 1]).toBe(`${plan.videoKbps}k`);
    expect(args[args.indexOf('-movflags') + 1]).toBe('+faststart');
  });
});
