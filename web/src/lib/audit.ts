// Pure helpers of the audit screen.

/** The aggregate types `history` and `stateAt` know. */
export const AGGREGATE_TYPES = ['customer', 'worker', 'call', 'request', 'backup_run'] as const;

/** The aggregate named by the page's query string (`?type=customer&id=…`). */
export function auditTarget(search: string): { type: string; id: string } {
  const params = new URLSearchParams(search);
  const type = params.get('type') ?? '';
  return {
    type: (AGGREGATE_TYPES as readonly string[]).includes(type) ? type : 'customer',
    id: params.get('id') ?? '',
  };
}

/** Who did it and in which correlation, from an event's metadata (`—` when absent). */
export function metadataOf(metadata: unknown): { actor: string; correlation: string } {
  const record = typeof metadata === 'object' && metadata !== null ? (metadata as Record<string, unknown>) : {};
  const text = (value: unknown) => (typeof value === 'string' && value ? value : '—');
  return { actor: text(record.actor), correlation: text(record.correlation_id) };
}

/** `datetime-local` text of an instant in the browser's time zone, to the second. */
export function localInput(at: Date): string {
  const pad = (value: number) => String(value).padStart(2, '0');
  return `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())}T${pad(at.getHours())}:${pad(at.getMinutes())}:${pad(at.getSeconds())}`;
}

/** A rebuild's progress bar value (0–100): a finished rebuild without error is full. */
export function rebuildPercent(rebuild: { running: boolean; fraction?: number | null; error?: string | null }): number {
  if (!rebuild.running && !rebuild.error) return 100;
  return Math.max(0, Math.min(100, Math.round((rebuild.fraction ?? 0) * 100)));
}
