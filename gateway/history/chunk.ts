/**
 * A chunk: consecutive samples of one tag stored as one row. Writing a row per tag per flush instead
 * of a row per sample keeps the number of B-tree pages a flush touches to one per tag, which is what
 * bounds disk writes (and flash wear) when thousands of tags change every second.
 */
import {
  STATUS_CODE,
  STATUS_NAME,
  type Status,
  type TagValueData,
  type Value,
} from '../../drivers/core/index.ts';

interface ChunkData {
  /** Times as offsets from the chunk's first time, in ms. */
  t: number[];
  v: TagValueData[];
  /** Status per sample; absent when every sample is good. */
  s?: number[];
  /** Protocol status code per sample (null where none); absent when no sample has one. */
  c?: (number | null)[];
  /** Error text per sample (null where none); absent when no sample has one. */
  e?: (string | null)[];
}

/** Samples as the chunk encoder reads them (ValueColumns has this shape). */
export interface SampleColumns {
  timeAt(i: number): number;
  valueAt(i: number): TagValueData;
  statusAt(i: number): Status;
  statusCodeAt(i: number): number | undefined;
  errorAt(i: number): string | undefined;
}

export function encodeChunk(
  length: number,
  samples: SampleColumns,
): { t0: number; t1: number; data: string } {
  const t0 = samples.timeAt(0);
  const data: ChunkData = { t: new Array(length), v: new Array(length) };
  let statuses = false;
  let codes = false;
  let errors = false;
  for (let i = 0; i < length; i++) {
    data.t[i] = samples.timeAt(i) - t0;
    data.v[i] = samples.valueAt(i);
    statuses ||= samples.statusAt(i) !== 'good';
    codes ||= samples.statusCodeAt(i) !== undefined;
    errors ||= samples.errorAt(i) !== undefined;
  }
  const each = <T>(read: (i: number) => T) => Array.from({ length }, (_, i) => read(i));
  if (statuses) data.s = each((i) => STATUS_CODE[samples.statusAt(i)]);
  if (codes) data.c = each((i) => samples.statusCodeAt(i) ?? null);
  if (errors) data.e = each((i) => samples.errorAt(i) ?? null);
  return { t0, t1: samples.timeAt(length - 1), data: JSON.stringify(data) };
}

export function decodeChunk(t0: number, text: string): Value[] {
  const data = JSON.parse(text) as ChunkData;
  return data.t.map((dt, i) => {
    const value: Value = {
      time: t0 + dt,
      value: data.v[i] ?? null,
      status: data.s ? (STATUS_NAME[data.s[i]!] ?? 'bad') : 'good',
    };
    const code = data.c?.[i];
    if (code !== undefined && code !== null) value.statusCode = code;
    const error = data.e?.[i];
    if (error !== undefined && error !== null) value.error = error;
    return value;
  });
}
