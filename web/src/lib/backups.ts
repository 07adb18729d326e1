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
