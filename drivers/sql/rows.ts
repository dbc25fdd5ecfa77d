/**
 * Rows into values: a sample row is [t, v, x, q] — time, numeric value, text value, quality — as the
 * statements select them; the client hands times over as Date, number or numeric string.
 */
import type { Status, Tag, TagValueData, Value } from '../core/index.ts';
import type { TimeStorage } from './dialect.ts';
import type { QualityCodes } from './mapping.ts';

export type Row = unknown[];

export function timeOf(t: unknown, storage: TimeStorage): number {
  if (t instanceof Date) return t.getTime();
  const n = typeof t === 'number' ? t : Number(t);
  return storage === 'epochSeconds' ? n * 1000 : n;
}

/** Quality as plantgate reads it; the same rule as the SQL of `goodQualitySql`. */
export function qualityStatus(q: unknown, codes: QualityCodes): { status: Status; statusCode?: number } {
  if (q === null || q === undefined) return { status: 'good' };
  if (codes === 'text') {
    const text = String(q).toLowerCase();
    return { status: text === 'good' ? 'good' : text === 'uncertain' ? 'uncertain' : 'bad' };
  }
  const n = Number(q);
  if (!Number.isFinite(n)) return { status: 'bad' };
  if (codes === 'opcda') {
    const bits = n & 0xc0;
    return { status: bits === 0xc0 ? 'good' : bits === 0x40 ? 'uncertain' : 'bad' };
  }
  const severity = n < 0 ? 2 : Math.floor(n / 2 ** 30) & 3;
  const status: Status = severity === 0 ? 'good' : severity === 1 ? 'uncertain' : 'bad';
  const code = n < 0 ? n >>> 0 : n;
  return code === 0 ? { status } : { status, statusCode: code };
}

/** A stored number or text as a value of the tag's type. */
export function storedValue(v: unknown, x: unknown, tag: Tag): TagValueData {
  if (v !== null && v !== undefined) {
    const type = tag.dataType;
    if (type === 'bool') return Number(v) !== 0;
    if (type === 'string') return String(v);
    if (type === 'int64' || type === 'uint64') {
      const text = typeof v === 'bigint' ? v.toString() : String(v);
      return /^-?\d+$/.test(text) ? text : Number(text);
    }
    return typeof v === 'number' ? v : Number(v);
  }
  if (x !== null && x !== undefined) return String(x);
  return null;
}

export function rowValue(
  row: Row,
  offset: number,
  tag: Tag,
  storage: TimeStorage,
  codes: QualityCodes,
): Value {
  const quality = qualityStatus(row[offset + 3], codes);
  const value: Value = {
    time: timeOf(row[offset], storage),
    value: storedValue(row[offset + 1], row[offset + 2], tag),
    status: quality.status,
  };
  if (quality.statusCode !== undefined) value.statusCode = quality.statusCode;
  return value;
}
