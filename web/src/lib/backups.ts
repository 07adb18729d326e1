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
