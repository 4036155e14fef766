import { rm, stat } from 'node:fs/promises';

/** The file exists, is a regular file, and has bytes (an empty output is a failure, never a result). */
export async function nonEmpty(file: string): Promise<boolean> {
  try {
    const info = await stat(file);
    return info.isFile() && info.size > 0;
  } catch {
    return false;
  }
}

/** Removes outputs of a failed run (missing files are fine). */
export async function removeAll(files: readonly string[]): Promise<void> {
  await Promise.all(files.map((file) => rm(file, { force: true })));
}
