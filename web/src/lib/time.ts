// Durations and countdowns shown on the desk and the wallboard.

/** `m:ss` under an hour, `h:mm:ss` above; negative values count as 0. */
export function formatDuration(totalSeconds: number): string {
  const secs = Math.max(0, Math.floor(totalSeconds));
  const hours = Math.floor(secs / 3600);
  const minutes = Math.floor((secs % 3600) / 60);
  const seconds = secs % 60;
  const ss = String(seconds).padStart(2, '0');
  if (hours > 0) {
    return `${hours}:${String(minutes).padStart(2, '0')}:${ss}`;
  }
  return `${minutes}:${ss}`;
}

/** Whole seconds from `since` (RFC 3339) to `now` (ms), never negative; 0 when unknown. */
export function secondsSince(since: string | null | undefined, now: number): number {
  if (!since) return 0;
  const start = Date.parse(since);
  if (Number.isNaN(start)) return 0;
  return Math.max(0, Math.floor((now - start) / 1000));
}

/** Whole seconds left until `until` (RFC 3339, or ms), rounded up, never negative. */
export function secondsUntil(until: string | number | null | undefined, now: number): number {
  if (until === null || until === undefined) return 0;
  const end = typeof until === 'number' ? until : Date.parse(until);
  if (Number.isNaN(end)) return 0;
  return Math.max(0, Math.ceil((end - now) / 1000));
}

export type DueStatus = 'overdue' | 'dueSoon' | 'onTime' | 'done';

/** How a request stands against its due date: due soon within `soonSecs` (default 1 h). */
export function dueStatus(
  status: string,
  dueAt: string,
  now: number,
  soonSecs = 3600,
): DueStatus {
  if (status === 'SOLVED' || status === 'CLOSED') return 'done';
  const due = Date.parse(dueAt);
  if (Number.isNaN(due)) return 'onTime';
  if (due <= now) return 'overdue';
  if (due - now <= soonSecs * 1000) return 'dueSoon';
  return 'onTime';
}
