/**
 * A long job's progress, written to its row as a hint for the page that polls it: capped at 99
 * (100 belongs to the finished state), only when it rose, at most every `everyMs`, one write at a
 * time, outside any transaction, a failed write ignored. Await `flushed()` before the final write,
 * so a late progress write can never land after it.
 */
export function progressWriter(write: (percent: number) => Promise<unknown>, everyMs = 2000) {
  let lastSaved = 0;
  let lastAt = 0;
  let saving: Promise<unknown> = Promise.resolve();
  return {
    report(percent: number): void {
      const p = Math.min(99, Math.floor(percent));
      if (p <= lastSaved || Date.now() - lastAt <= everyMs) return;
      lastSaved = p;
      lastAt = Date.now();
      saving = saving.then(() => write(p).catch(() => undefined));
    },
    flushed: (): Promise<unknown> => saving,
  };
}
