/**
 * Times in requests: ISO 8601 (UTC when no offset is given) or relative to now: `*`, `*-1h`, `*-7d`,
 * `*+30m`, `*-1.5h`. Durations: a number with ms, s, m, h, d or w (`10s`, `5m`, `1h`).
 */
import { gatewayError } from '../errors.ts';

const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};
const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)$/;
const RELATIVE = /^\*(?:([+-])(\d+(?:\.\d+)?)(ms|s|m|h|d|w))?$/;
const ISO = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

export function parseDuration(text: string, field = 'interval'): number {
  const match = DURATION.exec(text.trim());
  const ms = match ? Number(match[1]) * UNIT_MS[match[2]!]! : Number.NaN;
  if (!(ms > 0))
    throw gatewayError(
      'PG_ERR_BAD_TIME',
      `${field} "${text}" is not a duration such as 500ms, 10s, 5m, 1h or 1d`,
    );
  return ms;
}

export function parseTime(text: string, now: number, field = 'time'): number {
  const trimmed = text.trim();
  const relative = RELATIVE.exec(trimmed);
  if (relative) {
    if (!relative[1]) return now;
    const offset = Number(relative[2]) * UNIT_MS[relative[3]!]!;
    return Math.round(relative[1] === '-' ? now - offset : now + offset);
  }
  if (ISO.test(trimmed)) {
    const hasZone = /(Z|[+-]\d{2}:?\d{2})$/.test(trimmed) && trimmed.includes('T');
    const ms = Date.parse(hasZone || !trimmed.includes('T') ? trimmed : `${trimmed}Z`);
    if (Number.isFinite(ms)) return ms;
  }
  throw gatewayError(
    'PG_ERR_BAD_TIME',
    `${field} "${text}" is neither ISO 8601 nor a relative time such as * or *-1h`,
  );
}

export const isoTime = (ms: number) => new Date(ms).toISOString();
