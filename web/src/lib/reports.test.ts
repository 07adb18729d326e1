import { describe, expect, it } from 'vitest';
import {
  chartBars,
  csvCell,
  instantToWallTime,
  kpiCsv,
  todayRange,
  wallTimeToInstant,
  zoneOffsetMs,
  type ReportBucket,
} from './reports';

describe('wall times in a time zone', () => {
  it('reads a wall time in the zone, DST included', () => {
    expect(wallTimeToInstant('2026-01-15T00:00', 'Europe/Paris')).toBe('2026-01-14T23:00:00.000Z');
    expect(wallTimeToInstant('2026-07-15T00:00', 'Europe/Paris')).toBe('2026-07-14T22:00:00.000Z');
    expect(wallTimeToInstant('2026-07-15T08:30', 'UTC')).toBe('2026-07-15T08:30:00.000Z');
    expect(wallTimeToInstant('2026-03-29T12:00', 'America/New_York')).toBe('2026-03-29T16:00:00.000Z');
    expect(zoneOffsetMs(Date.parse('2026-01-01T12:00:00Z'), 'Asia/Kolkata')).toBe(5.5 * 3600 * 1000);
  });
  it('refuses what is not a date or not a zone', () => {
    expect(() => wallTimeToInstant('yesterday', 'UTC')).toThrow(RangeError);
    expect(() => wallTimeToInstant('2026-01-01T00:00', 'Mars/Olympus')).toThrow(RangeError);
  });
  it('writes an instant back as a wall time, and today runs midnight to midnight', () => {
    expect(instantToWallTime(Date.parse('2026-12-31T23:30:00Z'), 'Europe/Paris')).toBe('2027-01-01T00:30');
    expect(todayRange(Date.parse('2026-12-31T23:30:00Z'), 'Europe/Paris')).toEqual({
      from: '2027-01-01T00:00',
      until: '2027-01-02T00:00',
    });
  });
});

describe('kpiCsv', () => {
  it('neutralises formulas and quotes as the server exports do', () => {
    expect(csvCell('=HYPERLINK("x")')).toBe(`"'=HYPERLINK(""x"")"`);
    expect(csvCell('+33')).toBe("'+33");
    expect(csvCell('@sum')).toBe("'@sum");
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell(12.5)).toBe('12.5');
    expect(csvCell(null)).toBe('');
  });
  it('has a header and one line per bucket', () => {
    const bucket: ReportBucket = {
      start: '2026-01-01T00:00:00Z',
      end: '2026-01-02T00:00:00Z',
      offered: 4,
      answered: 3,
      abandoned: 1,
      abandonedShort: 0,
      asaSecs: 7.5,
      ahtSecs: null,
      serviceLevel: 100,
      abandonmentRate: 25,
      occupancy: null,
      requestsOpened: 2,
      requestsSolved: 1,
      requestsSolvedWithinDue: 1,
    };
    const lines = kpiCsv([bucket]).split('\r\n');
    expect(lines[0]).toBe(
      'start,end,offered,answered,abandoned,abandoned_short,asa_secs,aht_secs,service_level,abandonment_rate,occupancy,requests_opened,requests_solved,requests_solved_within_due',
    );
    expect(lines[1]).toBe('2026-01-01T00:00:00Z,2026-01-02T00:00:00Z,4,3,1,0,7.5,,100,25,,2,1,1');
    expect(lines[2]).toBe('');
  });
});

describe('chartBars', () => {
  it('stacks answered, abandoned and the rest up to the offered calls, scaled to the highest', () => {
    const { max, bars } = chartBars(
      [
        { offered: 10, answered: 6, abandoned: 2 },
        { offered: 5, answered: 5, abandoned: 0 },
      ],
      200,
      100,
    );
    expect(max).toBe(10);
    expect(bars).toHaveLength(2);
    expect(bars[0]).toMatchObject({ answered: 60, abandoned: 20, other: 20 });
    expect(bars[1]).toMatchObject({ answered: 50, abandoned: 0, other: 0 });
    const [first, second] = bars;
    expect(second?.x ?? 0).toBeGreaterThan((first?.x ?? 0) + (first?.width ?? 0));
    expect(chartBars([], 200, 100)).toEqual({ max: 1, bars: [] });
  });
});
