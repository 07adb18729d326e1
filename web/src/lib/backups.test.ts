import { describe, expect, it } from 'vitest';
import {
  backupTrouble,
  formatBytes,
  formatSpan,
  lastPing,
  planRetention,
  planSchedule,
  runStrip,
  sortBoard,
} from './backups';

describe('sortBoard', () => {
  it('puts what needs attention first, then by name', () => {
    const rows = [
      { name: 'b', status: 'up' },
      { name: 'z', status: 'down' },
      { name: 'a', status: 'up' },
      { name: 'c', status: 'unmonitored' },
      { name: 'd', status: 'grace' },
      { name: 'e', status: 'something new' },
    ];
    expect(sortBoard(rows).map((row) => row.name)).toEqual(['z', 'd', 'a', 'b', 'c', 'e']);
  });
});

describe('backupTrouble', () => {
  it('names a failure first, then an overdue run, else nothing', () => {
    expect(backupTrouble({ failingSince: 'f', overdueSince: 'o' })).toEqual({ kind: 'failing', since: 'f' });
    expect(backupTrouble({ failingSince: null, overdueSince: 'o' })).toEqual({ kind: 'overdue', since: 'o' });
    expect(backupTrouble({})).toBeNull();
  });
});

describe('planSchedule and planRetention', () => {
  it('reads a period or a cron schedule from the stored plan', () => {
    expect(
      planSchedule({ schedule: { kind: 'period', period_secs: 86400, grace_secs: 3600 }, paused: false }),
    ).toEqual({ kind: 'period', periodSecs: 86400, graceSecs: 3600 });
    expect(
      planSchedule({ schedule: { kind: 'cron', expression: '0 2 * * *', time_zone: 'Europe/Paris', grace_secs: 60 } }),
    ).toEqual({ kind: 'cron', expression: '0 2 * * *', timeZone: 'Europe/Paris', graceSecs: 60 });
    expect(planSchedule(null)).toBeNull();
    expect(planSchedule({ schedule: { kind: 'weird' } })).toBeNull();
  });
  it('lists the retention rules in use', () => {
    expect(planRetention({ retention: { keep_last: 3, keep_daily: null, keep_weekly: 4 } })).toEqual([
      ['keep_last', 3],
      ['keep_weekly', 4],
    ]);
    expect(planRetention({})).toEqual([]);
  });
});

describe('formatSpan, formatBytes, lastPing, runStrip', () => {
  it('writes periods and sizes shortly', () => {
    expect(formatSpan(86400)).toBe('1 d');
    expect(formatSpan(90000)).toBe('25 h');
    expect(formatSpan(5400)).toBe('90 min');
    expect(formatSpan(45)).toBe('45 s');
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(3 * 1024 ** 3)).toBe('3.0 GiB');
  });
  it('takes the latest report as the last ping, and shows runs oldest first', () => {
    expect(lastPing({ lastRun: { reportedAt: 'r' }, lastSuccessAt: 's' })).toBe('r');
    expect(lastPing({ lastRun: null, lastSuccessAt: 's' })).toBe('s');
    expect(lastPing({})).toBeNull();
    expect(runStrip([3, 2, 1], 2)).toEqual([2, 3]);
  });
});
