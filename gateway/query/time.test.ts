import { describe, expect, it } from 'vitest';
import { parseDuration, parseTime } from './time.ts';

const now = Date.parse('2026-06-01T12:00:00Z');

describe('request times', () => {
  it('given relative times, when parsed, then they count from now', () => {
    expect(parseTime('*', now)).toBe(now);
    expect(parseTime('*-1h', now)).toBe(now - 3_600_000);
    expect(parseTime('*-7d', now)).toBe(now - 7 * 86_400_000);
    expect(parseTime('*+30m', now)).toBe(now + 1_800_000);
    expect(parseTime('*-1.5h', now)).toBe(now - 5_400_000);
  });

  it('given ISO 8601 without an offset, when parsed, then it is UTC (never the machine zone)', () => {
    expect(parseTime('2026-01-02T03:04:05', now)).toBe(Date.UTC(2026, 0, 2, 3, 4, 5));
    expect(parseTime('2026-01-02T03:04:05+02:00', now)).toBe(Date.UTC(2026, 0, 2, 1, 4, 5));
    expect(parseTime('2026-01-02', now)).toBe(Date.UTC(2026, 0, 2));
  });

  it('given nonsense, when parsed, then PG_ERR_BAD_TIME names the field and the text', () => {
    expect(() => parseTime('yesterday', now, 'start')).toThrow(/start "yesterday"/);
    expect(() => parseTime('*-1y', now)).toThrowError(expect.objectContaining({ code: 'PG_ERR_BAD_TIME' }));
    expect(() => parseTime('2026-13-45T00:00:00Z', now)).toThrowError(
      expect.objectContaining({ code: 'PG_ERR_BAD_TIME' }),
    );
    expect(() => parseDuration('0s')).toThrowError(expect.objectContaining({ code: 'PG_ERR_BAD_TIME' }));
    expect(parseDuration('1.5m')).toBe(90_000);
  });
});
