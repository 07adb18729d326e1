import { describe, expect, it } from 'vitest';
import { dueStatus, formatDuration, secondsSince, secondsUntil } from './time';

describe('formatDuration', () => {
  it('shows minutes and seconds under an hour', () => {
    expect(formatDuration(0)).toBe('0:00');
    expect(formatDuration(59)).toBe('0:59');
    expect(formatDuration(61)).toBe('1:01');
  });
  it('shows hours above an hour', () => {
    expect(formatDuration(3600)).toBe('1:00:00');
    expect(formatDuration(3725)).toBe('1:02:05');
  });
  it('never shows a negative duration', () => {
    expect(formatDuration(-5)).toBe('0:00');
  });
});

describe('secondsSince / secondsUntil', () => {
  const now = Date.parse('2026-12-07T10:00:30Z');
  it('counts whole seconds since an instant', () => {
    expect(secondsSince('2026-12-07T10:00:00Z', now)).toBe(30);
    expect(secondsSince('2026-12-07T10:00:29.400Z', now)).toBe(0);
    expect(secondsSince(null, now)).toBe(0);
    expect(secondsSince('not a date', now)).toBe(0);
  });
  it('clamps a clock ahead of the server at 0', () => {
    expect(secondsSince('2026-12-07T10:01:00Z', now)).toBe(0);
  });
  it('counts down in whole seconds, rounded up', () => {
    expect(secondsUntil('2026-12-07T10:00:40Z', now)).toBe(10);
    expect(secondsUntil('2026-12-07T10:00:30.200Z', now)).toBe(1);
    expect(secondsUntil('2026-12-07T10:00:00Z', now)).toBe(0);
    expect(secondsUntil(now + 2500, now)).toBe(3);
  });
});

describe('dueStatus', () => {
  const now = Date.parse('2026-12-07T10:00:00Z');
  it('is overdue at or past the due date', () => {
    expect(dueStatus('OPEN', '2026-12-07T10:00:00Z', now)).toBe('overdue');
    expect(dueStatus('PENDING', '2026-12-06T10:00:00Z', now)).toBe('overdue');
  });
  it('is due soon within the window', () => {
    expect(dueStatus('OPEN', '2026-12-07T10:30:00Z', now)).toBe('dueSoon');
    expect(dueStatus('OPEN', '2026-12-07T10:30:00Z', now, 60)).toBe('onTime');
  });
  it('is done once solved or closed', () => {
    expect(dueStatus('SOLVED', '2026-12-06T10:00:00Z', now)).toBe('done');
    expect(dueStatus('CLOSED', '2026-12-06T10:00:00Z', now)).toBe('done');
  });
});
