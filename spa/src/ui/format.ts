/** How numbers and times read in the app. */

const UNITS = ['bytes', 'KB', 'MB', 'GB', 'TB'];

/** 1536 -> "1.5 KB"; 1 -> "1 byte". Binary multiples, as file managers show them. */
export function formatBytes(bytes: number): string {
  if (bytes === 1) return '1 byte';
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  const digits = unit === 0 || value >= 100 ? 0 : 1;
  return `${value.toFixed(digits)} ${UNITS[unit]}`;
}

const timeOfDay = new Intl.DateTimeFormat(undefined, { hour: 'numeric', minute: '2-digit' });
const dayThisYear = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric' });
const fullDate = new Intl.DateTimeFormat(undefined, { year: 'numeric', month: 'short', day: 'numeric' });
const fullDateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'full', timeStyle: 'short' });

/** A compact time for lists: "14:05" today, "Mar 3" this year, "Mar 3, 2024" before. */
export function formatWhen(ms: number, nowMs = Date.now()): string {
  const date = new Date(ms);
  const now = new Date(nowMs);
  if (date.toDateString() === now.toDateString()) return timeOfDay.format(date);
  if (date.getFullYear() === now.getFullYear()) return dayThisYear.format(date);
  return fullDate.format(date);
}

/** The full time, for tooltips and the message view. */
export function formatFullTime(ms: number): string {
  return fullDateTime.format(new Date(ms));
}

/** "3 s ago", "2 min ago", for heartbeat ages. */
export function formatAge(ms: number): string {
  if (ms < 1_000) return 'just now';
  if (ms < 60_000) return `${Math.round(ms / 1_000)} s ago`;
  if (ms < 3_600_000) return `${Math.round(ms / 60_000)} min ago`;
  return `${Math.round(ms / 3_600_000)} h ago`;
}

/** "1 file", "3 files". */
export function plural(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`;
}
