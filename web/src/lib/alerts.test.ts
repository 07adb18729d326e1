import { describe, expect, it } from 'vitest';
import { alertLevel, feedStart, pushAlert, type FeedAlert } from './alerts';

const alert = (position: number, kind = 'BACKUP_FAILED'): FeedAlert => ({
  position,
  kind,
  at: '2026-01-01T00:00:00Z',
  customerId: 'c',
  requestId: null,
  subject: null,
});

describe('pushAlert', () => {
  it('keeps the newest first, each position once, at most the limit', () => {
    let feed: FeedAlert[] = [];
    feed = pushAlert(feed, alert(3));
    feed = pushAlert(feed, alert(7));
    feed = pushAlert(feed, alert(5));
    feed = pushAlert(feed, alert(7));
    expect(feed.map((item) => item.position)).toEqual([7, 5, 3]);
    expect(pushAlert(feed, alert(9), 2).map((item) => item.position)).toEqual([9, 7]);
  });
});

describe('feedStart and alertLevel', () => {
  it('starts a bounded way back, never before the log', () => {
    expect(feedStart(5000)).toBe(4000);
    expect(feedStart(12)).toBe(0);
  });
  it('colours failures and overdue requests red, recoveries green', () => {
    expect(alertLevel('BACKUP_FAILED')).toBe('alert');
    expect(alertLevel('OVERDUE')).toBe('alert');
    expect(alertLevel('DUE_SOON')).toBe('warn');
    expect(alertLevel('BACKUP_OVERDUE')).toBe('warn');
    expect(alertLevel('BACKUP_RECOVERED')).toBe('ok');
  });
});
