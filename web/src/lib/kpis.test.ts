import { describe, expect, it } from 'vitest';
import { abandonmentRate, DEFAULT_THRESHOLDS, formatPercent, kpiLevel, utcDay } from './kpis';

describe('kpiLevel', () => {
  it('colours a value where higher is worse at the warn and alert edges', () => {
    expect(kpiLevel('asa', 19.9)).toBe('ok');
    expect(kpiLevel('asa', 20)).toBe('warn');
    expect(kpiLevel('asa', 60)).toBe('alert');
    expect(kpiLevel('abandonmentRate', 4)).toBe('ok');
    expect(kpiLevel('abandonmentRate', 12)).toBe('alert');
    expect(kpiLevel('occupancy', 90)).toBe('warn');
    expect(kpiLevel('aht', 601)).toBe('alert');
  });
  it('colours a value where lower is worse (service level)', () => {
    expect(kpiLevel('serviceLevel', 100)).toBe('ok');
    expect(kpiLevel('serviceLevel', 80)).toBe('ok');
    expect(kpiLevel('serviceLevel', 79)).toBe('warn');
    expect(kpiLevel('serviceLevel', 59)).toBe('alert');
  });
  it('has no colour without a value, and takes other thresholds', () => {
    expect(kpiLevel('asa', null)).toBe('none');
    expect(kpiLevel('serviceLevel', undefined)).toBe('none');
    const strict = { ...DEFAULT_THRESHOLDS, asa: { warn: 5, alert: 10, higherIsWorse: true } };
    expect(kpiLevel('asa', 6, strict)).toBe('warn');
  });
});

describe('formatPercent and abandonmentRate', () => {
  it('rounds, and says nothing before any call', () => {
    expect(formatPercent(99.6)).toBe('100 %');
    expect(formatPercent(null)).toBe('—');
    expect(abandonmentRate(0, 0)).toBeNull();
    expect(abandonmentRate(4, 1)).toBe(25);
  });
});

describe('utcDay', () => {
  it('is the UTC day holding the instant', () => {
    expect(utcDay(Date.parse('2026-03-29T23:30:00+02:00'))).toEqual({
      from: '2026-03-29T00:00:00.000Z',
      until: '2026-03-30T00:00:00.000Z',
    });
  });
});
