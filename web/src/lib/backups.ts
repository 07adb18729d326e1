// The backup board's order: what needs attention first (down, late, running), then the rest;
// by name within a status.

const ORDER = ['down', 'grace', 'running', 'new', 'up', 'paused', 'unmonitored'];

export interface BoardRow {
  name: string;
  status: string;
}

export function sortBoard<T extends BoardRow>(rows: readonly T[]): T[] {
  const rank = (status: string) => {
    const index = ORDER.indexOf(status);
    return index === -1 ? ORDER.length : index;
  };
  return [...rows].sort(
    (a, b) => rank(a.status) - rank(b.status) || a.name.localeCompare(b.name),
  );
}

/** What the pop's backup health line says besides the status: since when it fails (a failed
 * run, first) or is overdue; null when neither. */
export function backupTrouble(backup: {
  failingSince?: string | null;
  overdueSince?: string | null;
}): { kind: 'failing' | 'overdue'; since: string } | null {
  if (backup.failingSince) return { kind: 'failing', since: backup.failingSince };
  if (backup.overdueSince) return { kind: 'overdue', since: backup.overdueSince };
  return null;
}

/** A plan's schedule (the stored plan JSON: `schedule.kind` `period` or `cron`); null without one. */
export type PlanSchedule =
  | { kind: 'period'; periodSecs: number; graceSecs: number }
  | { kind: 'cron'; expression: string; timeZone: string; graceSecs: number };

export function planSchedule(plan: unknown): PlanSchedule | null {
  if (!plan || typeof plan !== 'object') return null;
  const schedule = (plan as { schedule?: unknown }).schedule;
  if (!schedule || typeof schedule !== 'object') return null;
  const s = schedule as Record<string, unknown>;
  const grace = typeof s.grace_secs === 'number' ? s.grace_secs : 0;
  if (s.kind === 'period' && typeof s.period_secs === 'number') {
    return { kind: 'period', periodSecs: s.period_secs, graceSecs: grace };
  }
  if (s.kind === 'cron' && typeof s.expression === 'string') {
    return {
      kind: 'cron',
      expression: s.expression,
      timeZone: typeof s.time_zone === 'string' ? s.time_zone : 'UTC',
      graceSecs: grace,
    };
  }
  return null;
}

/** A plan's retention rules as `keep_daily 7`-like pairs (restic's words), the used ones only. */
export function planRetention(plan: unknown): [string, number][] {
  if (!plan || typeof plan !== 'object') return [];
  const retention = (plan as { retention?: unknown }).retention;
  if (!retention || typeof retention !== 'object') return [];
  return Object.entries(retention as Record<string, unknown>).filter(
    (entry): entry is [string, number] => typeof entry[1] === 'number',
  );
}

/** A period in its largest whole unit: `2 d`, `24 h`, `90 min`, `45 s`. */
export function formatSpan(totalSeconds: number): string {
  const secs = Math.max(0, Math.round(totalSeconds));
  if (secs >= 86_400 && secs % 86_400 === 0) return `${secs / 86_400} d`;
  if (secs >= 3600 && secs % 3600 === 0) return `${secs / 3600} h`;
  if (secs >= 60 && secs % 60 === 0) return `${secs / 60} min`;
  return `${secs} s`;
}

/** Bytes in binary units with one decimal: `512 B`, `1.5 KiB`, `3.2 GiB`. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let value = Math.max(0, bytes);
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/** The last ping: the latest run's first report, else the last success; null before any. */
export function lastPing(status: {
  lastRun?: { reportedAt?: string | null } | null;
  lastSuccessAt?: string | null;
}): string | null {
  return status.lastRun?.reportedAt ?? status.lastSuccessAt ?? null;
}

/** The strip of recent runs, oldest on the left (the API gives them newest first). */
export function runStrip<T>(newestFirst: readonly T[], size = 12): T[] {
  return newestFirst.slice(0, size).reverse();
}
