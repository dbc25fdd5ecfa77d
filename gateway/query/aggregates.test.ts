/** Aggregates against hand-computed cases. Times in seconds for readability (× 1000 below). */
import { describe, expect, it } from 'vitest';
import type { Status, Value } from '../../drivers/core/index.ts';
import { AGGREGATES, type Aggregate, buckets, computeAggregates, plotValues } from './aggregates.ts';

const s = (t: number, value: number | null, status: Status = 'good'): Value => ({
  time: t * 1000,
  value,
  status,
});
const run = (
  samples: Value[],
  start: number,
  end: number,
  interval: number,
  fns: Aggregate[],
  stepped = false,
) => computeAggregates(samples, buckets(start * 1000, end * 1000, interval * 1000), fns, stepped);
const values = (r: Record<string, Value[]>, fn: string) => r[fn]!.map((v) => v.value);
const statuses = (r: Record<string, Value[]>, fn: string) => r[fn]!.map((v) => v.status);

describe('aggregates', () => {
  // A ramp 0..10 over 10 s, one good sample a second.
  const ramp = Array.from({ length: 11 }, (_, i) => s(i, i));

  it('given a ramp, when count-based functions run over two buckets, then they match the hand computation', () => {
    const r = run(ramp, 0, 10, 5, ['AVG', 'MIN', 'MAX', 'COUNT', 'RANGE', 'DELTA', 'VARIANCE', 'STDDEV']);
    // Buckets [0,5) holds 0..4 and [5,10) holds 5..9 (the sample at 10 belongs to the next bucket).
    expect(values(r, 'AVG')).toEqual([2, 7]);
    expect(values(r, 'MIN')).toEqual([0, 5]);
    expect(values(r, 'MAX')).toEqual([4, 9]);
    expect(values(r, 'COUNT')).toEqual([5, 5]);
    expect(values(r, 'RANGE')).toEqual([4, 4]);
    expect(values(r, 'DELTA')).toEqual([4, 4]);
    expect(values(r, 'VARIANCE')).toEqual([2.5, 2.5]); // sample variance of 0..4
    expect(values(r, 'STDDEV')[0]).toBeCloseTo(Math.sqrt(2.5), 12);
    expect(r.AVG!.map((v) => v.time)).toEqual([0, 5000]);
    expect(statuses(r, 'AVG')).toEqual(['good', 'good']);
  });

  it('given a ramp, when time-weighted functions run linearly, then they integrate the line', () => {
    const r = run(ramp, 0, 10, 5, ['TIMEAVERAGE', 'TOTAL', 'INTERP', 'PERCENTGOOD', 'PERCENTBAD']);
    expect(values(r, 'TIMEAVERAGE')).toEqual([2.5, 7.5]);
    expect(values(r, 'TOTAL')).toEqual([12.5, 37.5]); // value × seconds
    expect(values(r, 'INTERP')).toEqual([0, 5]);
    expect(values(r, 'PERCENTGOOD')).toEqual([100, 100]);
    expect(values(r, 'PERCENTBAD')).toEqual([0, 0]);
  });

  it('given sparse samples, when interpolated, then linear uses the line and stepped holds the last value', () => {
    const sparse = [s(0, 0), s(10, 10)];
    const linear = run(sparse, 2, 8, 3, ['INTERP', 'TIMEAVERAGE']);
    expect(values(linear, 'INTERP')).toEqual([2, 5]);
    expect(values(linear, 'TIMEAVERAGE')).toEqual([3.5, 6.5]);
    const stepped = run(sparse, 2, 8, 3, ['INTERP', 'TIMEAVERAGE'], true);
    expect(values(stepped, 'INTERP')).toEqual([0, 0]);
    expect(values(stepped, 'TIMEAVERAGE')).toEqual([0, 0]);
  });

  it('given a step change inside a bucket, when time-averaged stepped, then each value weighs by its duration', () => {
    // 10 for 2 s, then 40 for 8 s.
    const r = run([s(0, 10), s(2, 40)], 0, 10, 10, ['TIMEAVERAGE', 'TOTAL', 'AVG'], true);
    expect(values(r, 'TIMEAVERAGE')).toEqual([34]);
    expect(values(r, 'TOTAL')).toEqual([340]);
    expect(values(r, 'AVG')).toEqual([25]);
  });

  it('given bad samples in a bucket, when aggregated, then they are skipped and the bucket is uncertain', () => {
    const withBad = [s(0, 1), s(1, null, 'bad'), s(2, 3), s(3, 100, 'uncertain')];
    const r = run(
      withBad,
      0,
      4,
      4,
      ['AVG', 'COUNT', 'MAX', 'TIMEAVERAGE', 'PERCENTGOOD', 'PERCENTBAD'],
      true,
    );
    expect(values(r, 'AVG')).toEqual([2]);
    expect(values(r, 'COUNT')).toEqual([2]);
    expect(values(r, 'MAX')).toEqual([3]);
    expect(statuses(r, 'AVG')).toEqual(['uncertain']);
    // Good for [0,1) and [2,3): 2 of 4 s; bad for [1,2); uncertain [3,4) counts as neither.
    expect(values(r, 'TIMEAVERAGE')).toEqual([2]);
    expect(statuses(r, 'TIMEAVERAGE')).toEqual(['uncertain']);
    expect(values(r, 'PERCENTGOOD')).toEqual([50]);
    expect(values(r, 'PERCENTBAD')).toEqual([25]);
  });

  it('given a bucket with no good sample, when aggregated, then it is bad (COUNT says 0)', () => {
    const r = run(
      [s(0, 1), s(5, null, 'bad'), s(6, null, 'bad')],
      5,
      10,
      5,
      ['AVG', 'COUNT', 'TIMEAVERAGE', 'VARIANCE'],
      true,
    );
    expect(values(r, 'AVG')).toEqual([null]);
    expect(values(r, 'COUNT')).toEqual([0]);
    expect(r.AVG![0]!.status).toBe('bad');
    expect(r.TIMEAVERAGE![0]!.status).toBe('bad');
    expect(r.VARIANCE![0]!.status).toBe('bad');
  });

  it('given a gap with no data at all, when aggregated, then empty buckets are bad and the gap counts as bad time', () => {
    const r = run(
      [s(0, 2), s(1, 2), s(25, 4)],
      0,
      30,
      10,
      ['COUNT', 'AVG', 'PERCENTBAD', 'TIMEAVERAGE'],
      true,
    );
    expect(values(r, 'COUNT')).toEqual([2, 0, 1]);
    expect(statuses(r, 'AVG')).toEqual(['good', 'bad', 'good']);
    // Stepped: the value 2 holds through the empty bucket, which is therefore good time.
    expect(values(r, 'TIMEAVERAGE')).toEqual([2, 2, 3]);
  });

  it('given no sample before the range, when time-weighted, then the leading span has no data and the bucket is uncertain', () => {
    const r = run([s(5, 10)], 0, 10, 10, ['TIMEAVERAGE', 'PERCENTGOOD', 'PERCENTBAD', 'INTERP'], true);
    expect(values(r, 'TIMEAVERAGE')).toEqual([10]);
    expect(statuses(r, 'TIMEAVERAGE')).toEqual(['uncertain']);
    expect(values(r, 'PERCENTGOOD')).toEqual([50]);
    expect(values(r, 'PERCENTBAD')).toEqual([50]);
    expect(r.INTERP![0]).toMatchObject({ value: null, status: 'bad' });
  });

  it('given boundaries exactly on sample times, when bucketed, then a sample at a bucket end belongs to the next bucket', () => {
    const r = run([s(0, 1), s(5, 2), s(10, 3)], 0, 10, 5, ['COUNT', 'AVG']);
    expect(values(r, 'COUNT')).toEqual([1, 1]);
    expect(values(r, 'AVG')).toEqual([1, 2]);
  });

  it('given a range that is not a multiple of the interval, when bucketed, then the last bucket ends at the range end', () => {
    expect(buckets(0, 25_000, 10_000)).toEqual([
      { start: 0, end: 10_000 },
      { start: 10_000, end: 20_000 },
      { start: 20_000, end: 25_000 },
    ]);
  });

  it('given every function, when run on one bucket, then each answers stamped at the bucket start', () => {
    const r = run(ramp, 0, 10, 10, [...AGGREGATES]);
    for (const fn of AGGREGATES) expect(r[fn]![0]!.time).toBe(0);
    expect(values(r, 'DELTA')).toEqual([9]);
  });

  it('given a spike and an outage, when plotted, then each bucket keeps first, last, min, max and the first non-good sample', () => {
    const samples = [s(0, 5), s(1, 99), s(2, 5), s(3, null, 'bad'), s(4, -7), s(5, 5), s(6, 6)];
    const plot = plotValues(samples, buckets(0, 10_000, 5000));
    expect(plot.map((v) => v.time / 1000)).toEqual([0, 1, 3, 4, 5, 6]);
  });
});
