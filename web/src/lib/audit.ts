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
