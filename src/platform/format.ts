/** How durations and sizes read on pages and in spreadsheets (one place, so they agree). */

/** 125.4 → "2:05" (seconds rounded first: 59.6 s is "1:00", never "0:60"). */
export function formatDuration(seconds: number): string {
  const total = Math.round(seconds);
  return `${Math.floor(total / 60)}:${String(total % 60).padStart(2, '0')}`;
}

/** 1.5 MB, 2.31 GB, 12 KB. */
export function formatBytes(n: number): string {
  if (n >= 1024 ** 3) return `${(n / 1024 ** 3).toFixed(2)} GB`;
  if (n >= 1024 ** 2) return `${(n / 1024 ** 2).toFixed(1)} MB`;
  return `${Math.max(1, Math.round(n / 1024))} KB`;
}

/** The calendar day in Beijing (YYYY-MM-DD) of an instant: the day a person in Lüliang would name. */
export const beijingDay = (d: Date): string => new Date(d.getTime() + 8 * 3600_000).toISOString().slice(0, 10);

const dateTimeFormat = new Intl.DateTimeFormat('zh-CN', {
  timeZone: 'Asia/Shanghai',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  hour12: false,
});

/** 2026/12/05 18:00 (Beijing time), for sentences written outside a page (messages, emails). */
export function formatDateTime(d: Date | string): string {
  return dateTimeFormat.format(new Date(d));
}
