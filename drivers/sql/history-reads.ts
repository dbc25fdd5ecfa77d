/**
 * Reading history through generated statements: raw samples streamed in batches, count-based
 * aggregates and plot values pushed down into SQL, values in force at given times.
 */
import type {
  AggregateName,
  PlotQuery,
  ProcessedQuery,
  RawQuery,
  Status,
  Tag,
  Value,
} from '../core/index.ts';
import type { SqlClient } from './clients/client.ts';
import { type Mapping, seriesOf } from './mapping.ts';
import { rowValue } from './rows.ts';
import {
  bucketAggregatesStatement,
  firstAfterStatement,
  lastBeforeStatement,
  latestStatement,
  plotStatement,
  rangeStatement,
} from './statements.ts';

/** Rows per batch of a streamed read: large enough that round trips do not count, small enough to hold. */
export const STREAM_BATCH_ROWS = 10_000;

/** The aggregates SQL computes exactly as the core defines them; the others are left to the core. */
export const PUSHED_DOWN: ReadonlySet<AggregateName> = new Set([
  'AVG',
  'MIN',
  'MAX',
  'COUNT',
  'RANGE',
  'VARIANCE',
  'STDDEV',
]);

export class HistoryReads {
  private readonly m: Mapping;
  private readonly client: () => SqlClient;

  constructor(m: Mapping, client: () => SqlClient) {
    this.m = m;
    this.client = client;
  }

  private toValues(rows: readonly unknown[][], tag: Tag, offset = 0): Value[] {
    const out = new Array<Value>(rows.length);
    for (let i = 0; i < rows.length; i++)
      out[i] = rowValue(rows[i]!, offset, tag, this.m.timeStorage, this.m.qualityCodes);
    return out;
  }

  /** A row of `latestStatement` (k first) as a value. */
  toValue(row: readonly unknown[], tag: Tag): Value {
    return rowValue(row as unknown[], 1, tag, this.m.timeStorage, this.m.qualityCodes);
  }

  async *readRaw(tag: Tag, query: RawQuery, signal: AbortSignal): AsyncIterable<Value[]> {
    const series = seriesOf(this.m, tag);
    const client = this.client();
    if (query.boundary === 'outside') {
      const before = await client.query(lastBeforeStatement(this.m, series, query.start), signal);
      if (before.length) yield this.toValues(before, tag);
    }
    const range = rangeStatement(this.m, series, query.start, query.end, query.maxValues);
    for await (const rows of client.stream(range, signal, STREAM_BATCH_ROWS)) yield this.toValues(rows, tag);
    if (query.boundary === 'outside') {
      const after = await client.query(firstAfterStatement(this.m, series, query.end), signal);
      if (after.length) yield this.toValues(after, tag);
    }
  }

  async readProcessed(
    tag: Tag,
    query: ProcessedQuery,
    signal: AbortSignal,
  ): Promise<Map<AggregateName, Value[]>> {
    const pushed = query.functions.filter((fn) => PUSHED_DOWN.has(fn));
    const series = seriesOf(this.m, tag);
    const out = new Map<AggregateName, Value[]>();
    if (pushed.length === 0 || !series.value) return out;
    const statement = bucketAggregatesStatement(this.m, series, query.start, query.end, query.intervalMs);
    const rows = await this.client().query(statement, signal);
    const byBucket = new Map<number, unknown[]>();
    for (const row of rows) byBucket.set(Number(row[0]), row);
    for (const fn of pushed) out.set(fn, []);
    const count = Math.ceil((query.end - query.start) / query.intervalMs);
    for (let b = 0; b < count; b++) {
      const time = query.start + b * query.intervalMs;
      const row = byBucket.get(b);
      const n = row ? Number(row[1]) : 0;
      const good = row ? Number(row[2]) : 0;
      const status: Status = good === 0 ? 'bad' : good < n ? 'uncertain' : 'good';
      const num = (i: number) => (row && row[i] !== null && row[i] !== undefined ? Number(row[i]) : null);
      for (const fn of pushed) {
        let value: number | null;
        let s = status;
        if (fn === 'COUNT') value = good;
        else if (good === 0) value = null;
        else if (fn === 'AVG') value = num(3);
        else if (fn === 'MIN') value = num(4);
        else if (fn === 'MAX') value = num(5);
        else if (fn === 'RANGE') value = num(5)! - num(4)!;
        else {
          value = good < 2 ? null : num(fn === 'VARIANCE' ? 6 : 7);
          if (good < 2) s = 'bad';
        }
        out.get(fn)!.push({ time, value, status: s });
      }
    }
    return out;
  }

  async readPlot(tag: Tag, query: PlotQuery, signal: AbortSignal): Promise<Value[]> {
    const series = seriesOf(this.m, tag);
    const interval = (query.end - query.start) / query.intervals;
    const rows = await this.client().query(
      plotStatement(this.m, series, query.start, query.end, interval),
      signal,
    );
    return this.toValues(rows, tag);
  }

  /** The sample in force at each time (held, never interpolated), stamped with that time. */
  async readAtTimes(tag: Tag, times: readonly number[], signal: AbortSignal): Promise<Value[]> {
    const series = seriesOf(this.m, tag);
    const statement = latestStatement(
      this.m,
      times.map((atOrBefore) => ({ series, atOrBefore })),
    );
    const rows = await this.client().query(statement, signal);
    const byIndex = new Map<number, unknown[]>();
    for (const row of rows) byIndex.set(Number(row[0]), row);
    return times.map((time, k) => {
      const row = byIndex.get(k);
      if (!row) return { time, value: null, status: 'bad', error: 'no value at or before this time' };
      return { ...rowValue(row, 1, tag, this.m.timeStorage, this.m.qualityCodes), time };
    });
  }
}
