/**
 * The one place that names the Chinese typeface used in documents (PDFs) and burned into video
 * (ffmpeg drawtext). The default is Noto Serif SC from the npm package @expo-google-fonts/noto-serif-sc,
 * so a machine with only Node and npm renders Chinese; CJK_FONT_PATH / CJK_FONT_BOLD_PATH point at
 * another TrueType/OpenType file (e.g. a licensed 方正 face) without code changes.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import subsetFont from 'subset-font';

export type FontWeight = 'regular' | 'bold';

const requireFromHere = createRequire(__filename);

const PACKAGED: Record<FontWeight, string> = {
  regular: '@expo-google-fonts/noto-serif-sc/400Regular/NotoSerifSC_400Regular.ttf',
  bold: '@expo-google-fonts/noto-serif-sc/700Bold/NotoSerifSC_700Bold.ttf',
};

/** Absolute path of the CJK font file for this weight (an environment override wins). */
export function cjkFontPath(weight: FontWeight = 'regular', env: NodeJS.ProcessEnv = process.env): string {
  const override = weight === 'bold' ? env.CJK_FONT_BOLD_PATH || env.CJK_FONT_PATH : env.CJK_FONT_PATH;
  return override || requireFromHere.resolve(PACKAGED[weight]);
}

const fontBytes = new Map<string, Promise<Buffer>>();

function loadFont(path: string): Promise<Buffer> {
  let bytes = fontBytes.get(path);
  if (!bytes) {
    bytes = readFile(path);
    bytes.catch(() => fontBytes.delete(path));
    fontBytes.set(path, bytes);
  }
  return bytes;
}

/**
 * A TrueType subset of the CJK font holding just the glyphs of `text` (plus ASCII digits and
 * punctuation), ready to embed in a PDF. A full face is ~15 MB; a certificate's subset ~10–20 KB.
 * (pdf-lib's own subsetter drops most CJK glyphs of this face, so harfbuzz's hb-subset does it.)
 */
export async function cjkFontSubset(text: string, weight: FontWeight = 'regular'): Promise<Buffer> {
  const full = await loadFont(cjkFontPath(weight));
  const ascii = ' 0123456789-/:.,()（），。：、·';
  return subsetFont(full, text + ascii, { targetFormat: 'truetype' });
}
