/**
 * Aggregates, computed once in the gateway core from raw values (DESIGN.md, "Typed operations").
 *
 * Buckets are [start, end) and stamped at their start; the last bucket ends at the request's end.
 * Count-based functions (AVG, MIN, MAX, COUNT, RANGE, DELTA, VARIANCE, STDDEV) use the good numeric
 * samples inside the bucket. Time-based ones (INTERP, TIMEAVERAGE, TOTAL, PERCENTGOOD, PERCENTBAD)
 * treat the signal as held (stepped tags) or as straight lines between good samples (others), taking
 * the value at the bucket's start from the sample before it. Quality: a bucket that skipped non-good
 * samples (or, time-based, a span without good data) is `uncertain`; one with no good sample is `bad`.
 * VARIANCE and STDDEV are of the sample (n − 1) and need two good samples. TOTAL is the integral in
 * value × seconds. PERCENTGOOD and PERCENTBAD share the bucket's time: no data counts as bad, an
 * uncertain sample as neither.
 */
import {
  AGGREGATE_NAMES,
  type AggregateName,
  numericValue,
  type Status,
  type Value,
} from '../../drivers/core/index.ts';

/** The aggregates the core computes: the same names a driver may compute itself (drivers/core). */
export const AGGREGATES = AGGREGATE_NAMES;
export type Aggregate = AggregateName;

export interface Bucket {
  start: number;
  end: number;
}

export function buckets(start: number, end: number, interval: number): Bucket[] {
  const list: Bucket[] = [];
  for (let t = start; t < end; t += interval) list.push({ start: t, end: Math.min(t + interval, end) });
  return list;
}

const isGoodNumber = (s: Value) => s.status === 'good' && numericValue(s.value) !== null;

/** Index of the first sample with time >= t (samples sorted by time). */
function lowerBound(samples: readonly Value[], t: number): number {
  let lo = 0;
  let hi = samples.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (samples[mid]!.time < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

interface Segment {
  from: number;
  to: number;
  /** null: no data in this span. */
  status: Status | null;
  v0: number | null;
  v1: number | null;
}

/** The value at `t` from the samples around it: held, or on the line to the next good sample. */
export function valueAt(samples: readonly Value[], t: number, stepped: boolean): Value | undefined {
  const i = lowerBound(samples, t);
  const at = samples[i];
  if (at && at.time === t) return { ...at, time: t };
  const before = samples[i - 1];
  if (!before) return undefined;
  const after = samples[i];
  const v0 = numericValue(before.value);
  const v1 = after ? numericValue(after.value) : null;
  if (stepped || !after || !isGoodNumber(before) || !isGoodNumber(after) || v0 === null || v1 === null) {
    return { ...before, time: t };
  }
  const value = v0 + ((v1 - v0) * (t - before.time)) / (after.time - before.time);
  return { time: t, value, status: 'good' };
}

function segmentsOf(samples: readonly Value[], bucket: Bucket, stepped: boolean): Segment[] {
  const segments: Segment[] = [];
  const first = lowerBound(samples, bucket.start);
  const startValue = valueAt(samples, bucket.start, stepped);
  // Points where the signal changes inside the bucket: its start (if known) and every sample after it.
  const points: Value[] = [];
  if (startValue) points.push(startValue);
  for (let i = first; i < samples.length && samples[i]!.time < bucket.end; i++) {
    if (samples[i]!.time > bucket.start) points.push(samples[i]!);
  }
  const firstKnown = points[0]?.time ?? bucket.end;
  if (firstKnown > bucket.start)
    segments.push({ from: bucket.start, to: firstKnown, status: null, v0: null, v1: null });
  points.forEach((left, k) => {
    const to = points[k + 1]?.time ?? bucket.end;
    if (to <= left.time) return;
    const v0 = numericValue(left.value);
    let v1 = v0;
    if (!stepped && v0 !== null && isGoodNumber(left)) {
      const right = points[k + 1] ?? valueAt(samples, bucket.end, false);
      const rightValue = right && isGoodNumber(right) ? numericValue(right.value) : null;
      if (rightValue !== null) v1 = rightValue;
    }
    const status = left.status === 'good' && v0 === null ? 'bad' : left.status;
    segments.push({ from: left.time, to, status, v0, v1 });
  });
  return segments;
}

type Computed = { value: number | null; status: Status };

function countBased(fn: Aggregate, inBucket: readonly Value[]): Computed {
  const good = inBucket.filter(isGoodNumber).map((s) => numericValue(s.value)!);
  const status: Status = good.length === 0 ? 'bad' : good.length < inBucket.length ? 'uncertain' : 'good';
  if (good.length === 0) return { value: fn === 'COUNT' ? 0 : null, status };
  let sum = 0;
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (const v of good) {
    sum += v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  switch (fn) {
    case 'COUNT':
      return { value: good.length, status };
    case 'AVG':
      return { value: sum / good.length, status };
    case 'MIN':
      return { value: min, status };
    case 'MAX':
      return { value: max, status };
    case 'RANGE':
      return { value: max - min, status };
    case 'DELTA':
      return { value: good[good.length - 1]! - good[0]!, status };
    case 'VARIANCE':
    case 'STDDEV': {
      if (good.length < 2) return { value: null, status: 'bad' };
      const mean = sum / good.length;
      const variance = good.reduce((a, v) => a + (v - mean) ** 2, 0) / (good.length - 1);
      return { value: fn === 'VARIANCE' ? variance : Math.sqrt(variance), status };
    }
    default:
      throw new Error(`${fn} is not count-based`);
  }
}

function timeBased(fn: Aggregate, segments: readonly Segment[], bucket: Bucket): Computed {
  const span = bucket.end - bucket.start;
  let goodTime = 0;
  let badTime = 0;
  let otherTime = 0;
  let integral = 0;
  for (const s of segments) {
    const dt = s.to - s.from;
    if (s.status === 'good' && s.v0 !== null) {
      goodTime += dt;
      integral += ((s.v0 + (s.v1 ?? s.v0)) / 2) * dt;
    } else if (s.status === 'bad' || s.status === null) badTime += dt;
    else otherTime += dt;
  }
  if (fn === 'PERCENTGOOD') return { value: (100 * goodTime) / span, status: 'good' };
  if (fn === 'PERCENTBAD') return { value: (100 * badTime) / span, status: 'good' };
  const status: Status = goodTime === 0 ? 'bad' : badTime + otherTime > 0 ? 'uncertain' : 'good';
  if (goodTime === 0) return { value: null, status };
  if (fn === 'TIMEAVERAGE') return { value: integral / goodTime, status };
  return { value: integral / 1000, status }; // TOTAL, value × seconds
}

/**
 * Computes each function over each bucket. `samples` are sorted by time and should include the last
 * sample before the first bucket and the first after the last (raw read with boundary `outside`).
 */
export function computeAggregates(
  samples: readonly Value[],
  bucketList: readonly Bucket[],
  functions: readonly Aggregate[],
  stepped: boolean,
): Record<string, Value[]> {
  const result: Record<string, Value[]> = {};
  for (const fn of functions) result[fn] = [];
  for (const bucket of bucketList) {
    const inBucket = samples.slice(lowerBound(samples, bucket.start), lowerBound(samples, bucket.end));
    let segments: Segment[] | undefined;
    for (const fn of functions) {
      let out: Value;
      if (fn === 'INTERP') {
        const v = valueAt(samples, bucket.start, stepped);
        out = v
          ? { ...v, time: bucket.start }
          : { time: bucket.start, value: null, status: 'bad', error: 'no value at or before this time' };
      } else if (fn === 'TIMEAVERAGE' || fn === 'TOTAL' || fn === 'PERCENTGOOD' || fn === 'PERCENTBAD') {
        segments ??= segmentsOf(samples, bucket, stepped);
        const c = timeBased(fn, segments, bucket);
        out = { time: bucket.start, value: c.value, status: c.status };
      } else {
        const c = countBased(fn, inBucket);
        out = { time: bucket.start, value: c.value, status: c.status };
      }
      result[fn]!.push(out);
    }
  }
  return result;
}

/**
 * Plot values: per bucket the first, last, minimum, maximum and first non-good sample, each once and in
 * time order — enough to draw the trend at that width without losing a spike or an outage.
 */
export function plotValues(samples: readonly Value[], bucketList: readonly Bucket[]): Value[] {
  const out: Value[] = [];
  for (const bucket of bucketList) {
    const from = lowerBound(samples, bucket.start);
    const to = lowerBound(samples, bucket.end);
    if (to <= from) continue;
    const picked = new Set<number>([from, to - 1]);
    let min = -1;
    let max = -1;
    let firstBad = -1;
    for (let i = from; i < to; i++) {
      const s = samples[i]!;
      const v = isGoodNumber(s) ? numericValue(s.value)! : null;
      if (v !== null) {
        if (min < 0 || v < numericValue(samples[min]!.value)!) min = i;
        if (max < 0 || v > numericValue(samples[max]!.value)!) max = i;
      } else if (firstBad < 0 && s.status !== 'good') firstBad = i;
    }
    for (const i of [min, max, firstBad]) if (i >= 0) picked.add(i);
    for (const i of [...picked].sort((a, b) => a - b)) out.push(samples[i]!);
  }
  return out;
}
