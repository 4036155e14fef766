/** Reading our PDFs back as a user's viewer would, with poppler-utils (pdftotext, pdftoppm). */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

async function withPdfFile<T>(bytes: Uint8Array, fn: (path: string, dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'cx-pdf-'));
  try {
    const path = join(dir, 'doc.pdf');
    await writeFile(path, bytes);
    return await fn(path, dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The text poppler extracts from the PDF, whitespace collapsed. */
export function pdfText(bytes: Uint8Array): Promise<string> {
  return withPdfFile(bytes, async (path) => {
    const { stdout } = await run('pdftotext', ['-layout', path, '-']);
    return stdout.replace(/[ \t]+/g, ' ');
  });
}

/** Page count and size (points) as pdfinfo reports them. */
export function pdfInfo(bytes: Uint8Array): Promise<{ pages: number; widthPt: number; heightPt: number }> {
  return withPdfFile(bytes, async (path) => {
    const { stdout } = await run('pdfinfo', [path]);
    const pages = Number(/Pages:\s+(\d+)/.exec(stdout)?.[1]);
    const size = /Page size:\s+([\d.]+) x ([\d.]+)/.exec(stdout);
    return { pages, widthPt: Number(size?.[1]), heightPt: Number(size?.[2]) };
  });
}

/** The first page rendered to PNG at `dpi` (for looking at, or for pixel checks). */
export function pdfPagePng(bytes: Uint8Array, dpi = 72): Promise<Buffer> {
  return withPdfFile(bytes, async (path, dir) => {
    await run('pdftoppm', ['-png', '-r', String(dpi), '-f', '1', '-l', '1', '-singlefile', path, join(dir, 'page')]);
    return readFile(join(dir, 'page.png'));
  });
}

/** The first page as 8-bit grey pixels (pdftoppm -gray, PGM), for counting inked pixels. */
export function pdfPageGrey(bytes: Uint8Array, dpi = 36): Promise<{ width: number; height: number; pixels: Buffer }> {
  return withPdfFile(bytes, async (path, dir) => {
    await run('pdftoppm', ['-gray', '-r', String(dpi), '-f', '1', '-l', '1', '-singlefile', path, join(dir, 'page')]);
    const pgm = await readFile(join(dir, 'page.pgm'));
    const header = /^P5\s+(\d+)\s+(\d+)\s+(\d+)\s/.exec(pgm.subarray(0, 64).toString('latin1'));
    if (!header) throw new Error('pdftoppm did not write a PGM');
    const width = Number(header[1]);
    const height = Number(header[2]);
    return { width, height, pixels: pgm.subarray(header[0].length) };
  });
}
