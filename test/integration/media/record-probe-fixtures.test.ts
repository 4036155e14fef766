/**
 * Re-records test/fixtures/probe/*.json from the generated clips (ffprobe JSON, trimmed to the
 * fields normalizeProbe reads). Skipped unless RECORD_PROBE_FIXTURES=1:
 *
 *   RECORD_PROBE_FIXTURES=1 npx jest test/integration/media/record-probe-fixtures
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { resolveMediaBinaries } from '../../../src/platform/media/binaries';
import { createMediaRunner, type RawProbe } from '../../../src/platform/media/runner';
import { makeClip, type ClipKind } from '../../support/clips';

const RECORDED: ClipKind[] = ['landscape', 'portrait', 'rotated', 'hevc10-hlg', 'vfr', 'odd', 'no-audio', 'black'];
const STREAM_FIELDS = [
  'index',
  'codec_type',
  'codec_name',
  'profile',
  'width',
  'height',
  'sample_aspect_ratio',
  'pix_fmt',
  'bits_per_raw_sample',
  'color_transfer',
  'color_primaries',
  'color_space',
  'r_frame_rate',
  'avg_frame_rate',
  'duration',
  'start_time',
  'nb_frames',
  'sample_rate',
  'channels',
  'channel_layout',
  'side_data_list',
] as const;

function trim(raw: RawProbe): RawProbe {
  return {
    streams: raw.streams.map((stream) => {
      const kept: Record<string, unknown> = {};
      for (const field of STREAM_FIELDS) if (stream[field] !== undefined) kept[field] = stream[field];
      if (stream.side_data_list) kept.side_data_list = stream.side_data_list.map((d) => ({ side_data_type: d.side_data_type, rotation: d.rotation }));
      if (stream.tags?.rotate) kept.tags = { rotate: stream.tags.rotate };
      return kept as unknown as RawProbe['streams'][number];
    }),
    format: { format_name: raw.format.format_name, duration: raw.format.duration, nb_streams: raw.format.nb_streams },
  };
}

// Skipped on purpose unless RECORD_PROBE_FIXTURES=1: it rewrites the committed fixtures, it does not test anything.
const describeIfRecording = process.env.RECORD_PROBE_FIXTURES === '1' ? describe : describe.skip;

describeIfRecording('recording ffprobe fixtures', () => {
  it('when asked to record, then writes one trimmed JSON per clip kind', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'cx-probe-'));
    try {
      const runner = createMediaRunner(resolveMediaBinaries());
      for (const kind of RECORDED) {
        const raw = await runner.probe(await makeClip(kind, dir), { timeoutMs: 20_000, demuxer: kind === 'avi' ? 'avi' : 'mov' });
        const file = path.join(__dirname, '../../fixtures/probe', `${kind}.json`);
        await writeFile(file, `${JSON.stringify(trim(raw), null, 2)}\n`);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
