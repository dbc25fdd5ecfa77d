/** values.snapshot, raw, plot, processed and atTimes. */
import { badValue, hasCapability, StatusCodes, type Value } from '../../drivers/core/index.ts';
import type { TagGrant } from '../access/policy.ts';
import { LIMITS, type OperationRequest, type TagHistory, type WireTagValue } from '../api/operations.ts';
import { gatewayError } from '../errors.ts';
import type { HistoryStore } from '../history/store.ts';
import type { Source } from '../sources/source.ts';
import { type Aggregate, buckets, computeAggregates, plotValues, valueAt } from './aggregates.ts';
import { notFound, readRawSamples, resolveTags, runningDriver } from './resolve.ts';
import { parseDuration, parseTime } from './time.ts';
import { toWire } from './wire.ts';

export interface ReadEnv {
  source: Source;
  /** The tags the caller may read. */
  grant: TagGrant;
  history: HistoryStore;
  signal: AbortSignal;
  now: number;
}

function range(request: { start: string; end: string }, now: number): { start: number; end: number } {
  const start = parseTime(request.start, now, 'start');
  const end = parseTime(request.end, now, 'end');
  if (end <= start)
    throw gatewayError('PG_ERR_BAD_TIME', `end (${request.end}) must be after start (${request.start})`);
  return { start, end };
}

export async function readSnapshot(env: ReadEnv, request: OperationRequest<'values.snapshot'>) {
  const driver = runningDriver(env.source);
  const resolved = await resolveTags(env.source, request.tags, env.signal, env.grant);
  const known = resolved.filter((r) => r.tag).map((r) => r.tag!);
  if (!hasCapability(driver, 'snapshotRead'))
    throw gatewayError('PG_ERR_NOT_SUPPORTED', 'the driver has no snapshot read');
  const read = known.length ? await driver.readSnapshot(known, env.signal) : [];
  let k = 0;
  const values: WireTagValue[] = resolved.map((r) => {
    if (!r.tag)
      return {
        tag: r.ref,
        ...toWire(badValue(env.now, StatusCodes.BadNodeIdUnknown, notFound(r.ref).message)),
      };
    return { tag: r.ref, ...toWire(read[k++]!) };
  });
  return { values };
}

/** Reads each tag's samples; a tag that fails gets its own error and never fails the others. */
async function perTag(
  env: ReadEnv,
  refs: readonly string[],
  read: (
    tag: NonNullable<Awaited<ReturnType<typeof resolveTags>>[number]['tag']>,
  ) => Promise<Omit<TagHistory, 'tag'>[]>,
): Promise<{ tags: TagHistory[] }> {
  const resolved = await resolveTags(env.source, refs, env.signal, env.grant);
  const tags: TagHistory[] = [];
  for (const r of resolved) {
    if (!r.tag) {
      tags.push({ tag: r.ref, values: [], error: notFound(r.ref) });
      continue;
    }
    for (const part of await read(r.tag)) tags.push({ tag: r.ref, ...part });
  }
  return { tags };
}

export function readRaw(env: ReadEnv, request: OperationRequest<'values.raw'>) {
  const { start, end } = range(request, env.now);
  return perTag(env, request.tags, async (tag) => {
    // One extra value tells whether the range holds more than maxValues.
    const query = { start, end, maxValues: request.maxValues + 1, boundary: request.boundary };
    const samples = await readRawSamples(env.source, env.history, tag, query, env.signal);
    const outside = request.boundary === 'outside';
    const before = outside && samples[0] && samples[0].time < start ? 1 : 0;
    const inside = samples.slice(before).filter((s) => s.time <= end);
    const truncated = inside.length > request.maxValues;
    const kept = samples.slice(0, before + Math.min(inside.length, request.maxValues));
    if (outside && !truncated) {
      const after = samples.find((s) => s.time > end);
      if (after) kept.push(after);
    }
    return [{ values: kept.map(toWire), ...(truncated ? { truncated: true } : {}) }];
  });
}

async function samplesForBuckets(
  env: ReadEnv,
  tag: Parameters<typeof readRawSamples>[2],
  start: number,
  end: number,
): Promise<Value[]> {
  const samples = await readRawSamples(
    env.source,
    env.history,
    tag,
    { start, end, maxValues: LIMITS.aggregateSamples + 1, boundary: 'outside' },
    env.signal,
  );
  if (samples.length > LIMITS.aggregateSamples) {
    throw gatewayError(
      'PG_ERR_LIMIT_EXCEEDED',
      `more than ${LIMITS.aggregateSamples} values in the range of ${tag.name}; ask for a shorter range`,
    );
  }
  return samples;
}

export function readPlot(env: ReadEnv, request: OperationRequest<'values.plot'>) {
  const { start, end } = range(request, env.now);
  const list = buckets(start, end, (end - start) / request.intervals);
  const driver = runningDriver(env.source);
  return perTag(env, request.tags, async (tag) => {
    const native = hasCapability(driver, 'plotHistoryRead')
      ? await driver.readPlot(tag, { start, end, intervals: request.intervals }, env.signal)
      : undefined;
    if (native) return [{ values: native.map(toWire) }];
    const samples = await samplesForBuckets(env, tag, start, end);
    return [{ values: plotValues(samples, list).map(toWire) }];
  });
}

export function readProcessed(env: ReadEnv, request: OperationRequest<'values.processed'>) {
  const { start, end } = range(request, env.now);
  const interval = parseDuration(request.interval);
  const count = Math.ceil((end - start) / interval);
  if (count > LIMITS.buckets) {
    throw gatewayError(
      'PG_ERR_LIMIT_EXCEEDED',
      `${count} buckets asked; at most ${LIMITS.buckets} (widen interval or shorten the range)`,
    );
  }
  const list = buckets(start, end, interval);
  const driver = runningDriver(env.source);
  const functions = request.functions as Aggregate[];
  return perTag(env, request.tags, async (tag) => {
    // A source that computes an aggregate itself answers it; the core computes the rest from raw values.
    const native = hasCapability(driver, 'processedHistoryRead')
      ? await driver.readProcessed(tag, { start, end, intervalMs: interval, functions }, env.signal)
      : new Map<Aggregate, Value[]>();
    const rest = functions.filter((fn) => !native.has(fn));
    const computed = rest.length
      ? computeAggregates(await samplesForBuckets(env, tag, start, end), list, rest, tag.stepped)
      : {};
    return functions.map((fn) => ({ function: fn, values: (native.get(fn) ?? computed[fn]!).map(toWire) }));
  });
}

export function readAtTimes(env: ReadEnv, request: OperationRequest<'values.atTimes'>) {
  const times = request.times.map((t, i) => parseTime(t, env.now, `times[${i}]`));
  const first = Math.min(...times);
  const last = Math.max(...times);
  const driver = runningDriver(env.source);
  return perTag(env, request.tags, async (tag) => {
    const native = hasCapability(driver, 'atTimesRead')
      ? await driver.readAtTimes(tag, times, env.signal)
      : undefined;
    if (native) return [{ values: native.map(toWire) }];
    const samples = await samplesForBuckets(env, tag, first, last);
    const values = times.map((t) => {
      // The value in force at t: the sample at or before it, held (never interpolated).
      const v = valueAt(samples, t, true);
      return toWire(v ?? { time: t, value: null, status: 'bad', error: 'no value at or before this time' });
    });
    return [{ values }];
  });
}
