// The wallboard's alerts feed: request alerts (due soon, overdue) and backup alerts (overdue,
// failed, recovered) from the `alerts` subscription, newest first, each once.

export interface FeedAlert {
  position: number;
  kind: string;
  at: string;
  customerId: string | null;
  requestId: string | null;
  /** What the alert is about: the request's message or the customer's name, when known. */
  subject: string | null;
}

/** How many alerts the feed keeps. */
export const FEED_LIMIT = 50;
/** How far back in the log the feed starts on opening (events, not alerts). */
export const FEED_LOOKBACK = 1000;

/** Adds an alert (from a log position: a repeat after a reconnection is dropped), newest first. */
export function pushAlert(feed: readonly FeedAlert[], alert: FeedAlert, limit = FEED_LIMIT): FeedAlert[] {
  if (feed.some((item) => item.position === alert.position)) return [...feed];
  return [...feed, alert].sort((a, b) => b.position - a.position).slice(0, limit);
}

/** Where the feed starts reading the log: `FEED_LOOKBACK` events back from the head (0: all). */
export function feedStart(head: number, lookback = FEED_LOOKBACK): number {
  return Math.max(0, head - lookback);
}

/** The colour of an alert. */
export function alertLevel(kind: string): 'ok' | 'warn' | 'alert' {
  if (kind === 'OVERDUE' || kind === 'BACKUP_FAILED') return 'alert';
  if (kind === 'BACKUP_RECOVERED') return 'ok';
  return 'warn';
}
