/**
 * The server's history (OPC 10000-11): raw values with continuation points, processed values where the
 * server offers the aggregate, and values at given times. A code the server answers for the whole read
 * becomes a typed error; codes on single values stay on them.
 */
import {
  AggregateFunction,
  BrowseDirection,
  type ClientSession,
  type DataValue,
  type HistoryData,
  HistoryReadRequest,
  type HistoryReadResult,
  type NodeId,
  ObjectIds,
  ReadAtTimeDetails,
  ReadProcessedDetails,
  ReadRawModifiedDetails,
  resolveNodeId,
  StatusCodes,
  TimestampsToReturn,
} from 'node-opcua-client';
import {
  type AggregateName,
  PlantgateError,
  type RawQuery,
  throwIfAborted,
  type Value,
} from '../core/index.ts';
import { toValue } from './values.ts';

/** plantgate's aggregates and the OPC 10000-13 standard aggregate each stands for. */
export const AGGREGATE_OF: Record<AggregateName, AggregateFunction> = {
  INTERP: AggregateFunction.Interpolative,
  AVG: AggregateFunction.Average,
  TIMEAVERAGE: AggregateFunction.TimeAverage,
  MIN: AggregateFunction.Minimum,
  MAX: AggregateFunction.Maximum,
  COUNT: AggregateFunction.Count,
  RANGE: AggregateFunction.Range,
  DELTA: AggregateFunction.Delta,
  TOTAL: AggregateFunction.Total,
  PERCENTGOOD: AggregateFunction.PercentGood,
  PERCENTBAD: AggregateFunction.PercentBad,
  VARIANCE: AggregateFunction.VarianceSample,
  STDDEV: AggregateFunction.StandardDeviationSample,
};

function failure(result: HistoryReadResult, what: string): PlantgateError {
  const code = result.statusCode;
  const unsupported =
    code.value === StatusCodes.BadHistoryOperationUnsupported.value ||
    code.value === StatusCodes.BadAggregateNotSupported.value ||
    code.value === StatusCodes.BadHistoryOperationInvalid.value;
  return new PlantgateError(
    unsupported ? 'PG_ERR_NOT_SUPPORTED' : 'PG_ERR_DEVICE_EXCEPTION',
    `${what}: the server answered ${code.name}`,
    { statusCode: code.value },
  );
}

const isBad = (result: HistoryReadResult) => result.statusCode.value >>> 30 >= 2;

async function readOnce(
  session: ClientSession,
  nodeId: NodeId,
  details: ReadRawModifiedDetails | ReadProcessedDetails | ReadAtTimeDetails,
  continuationPoint: Buffer | null,
  release = false,
): Promise<HistoryReadResult> {
  const response = await session.historyRead(
    new HistoryReadRequest({
      historyReadDetails: details,
      timestampsToReturn: TimestampsToReturn.Source,
      releaseContinuationPoints: release,
      nodesToRead: [{ nodeId, ...(continuationPoint ? { continuationPoint } : {}) }],
    }),
  );
  return response.results![0]!;
}

const valuesOf = (result: HistoryReadResult): DataValue[] =>
  (result.historyData as HistoryData | null)?.dataValues ?? [];

/** The one stored value nearest to `from` in the direction of `to` (a reverse read when to < from). */
async function nearest(
  session: ClientSession,
  nodeId: NodeId,
  from: number,
  to: number,
): Promise<Value | undefined> {
  const details = new ReadRawModifiedDetails({
    isReadModified: false,
    startTime: new Date(from),
    endTime: new Date(to),
    numValuesPerNode: 1,
    returnBounds: false,
  });
  const result = await readOnce(session, nodeId, details, null);
  if (isBad(result)) throw failure(result, 'HistoryRead raw');
  if (result.continuationPoint?.length)
    await readOnce(session, nodeId, details, result.continuationPoint, true).catch(() => undefined);
  const [first] = valuesOf(result);
  return first ? toValue(first) : undefined;
}

/**
 * Raw values, page by page; a read stopped early releases its continuation point on the server. The
 * values around the range (boundary outside) are read on their own, one each way, rather than with
 * returnBounds: servers differ in whether and how they send bounding values (OPC 10000-11 §6.4.3.2).
 */
export async function* readRawHistory(
  session: ClientSession,
  nodeId: NodeId,
  query: RawQuery,
  pageSize: number,
  signal: AbortSignal,
): AsyncIterable<Value[]> {
  const outside = query.boundary === 'outside';
  if (outside) {
    const before = await nearest(session, nodeId, query.start - 1, 1);
    if (before) yield [before];
  }
  // The end time of a raw read is exclusive; plantgate's range includes its end.
  const details = new ReadRawModifiedDetails({
    isReadModified: false,
    startTime: new Date(query.start),
    endTime: new Date(query.end + 1),
    numValuesPerNode: Math.min(pageSize, query.maxValues),
    returnBounds: false,
  });
  let point: Buffer | null = null;
  let delivered = 0;
  do {
    throwIfAborted(signal);
    const result = await readOnce(session, nodeId, details, point);
    if (isBad(result)) throw failure(result, 'HistoryRead raw');
    const values = valuesOf(result).map((dv) => toValue(dv));
    point = result.continuationPoint?.length ? result.continuationPoint : null;
    delivered += values.length;
    if (values.length) yield values;
    if (point && (delivered >= query.maxValues || signal.aborted)) {
      await readOnce(session, nodeId, details, point, true).catch(() => undefined);
      return;
    }
  } while (point);
  if (outside) {
    const after = await nearest(session, nodeId, query.end + 1, 8.64e15);
    if (after) yield [after];
  }
}

/** The standard aggregates the server lists under Server.ServerCapabilities.AggregateFunctions. */
export async function serverAggregates(session: ClientSession): Promise<Set<number>> {
  const [result] = await session.browse([
    {
      nodeId: resolveNodeId(ObjectIds.Server_ServerCapabilities_AggregateFunctions),
      browseDirection: BrowseDirection.Forward,
      referenceTypeId: resolveNodeId('HierarchicalReferences'),
      includeSubtypes: true,
      resultMask: 0x3f,
    },
  ]);
  const ids = new Set<number>();
  for (const r of result?.references ?? []) if (r.nodeId.namespace === 0) ids.add(Number(r.nodeId.value));
  return ids;
}

export async function readProcessedHistory(
  session: ClientSession,
  nodeId: NodeId,
  query: { start: number; end: number; intervalMs: number },
  fn: AggregateName,
  signal: AbortSignal,
): Promise<Value[]> {
  const details = new ReadProcessedDetails({
    startTime: new Date(query.start),
    endTime: new Date(query.end),
    processingInterval: query.intervalMs,
    aggregateType: [resolveNodeId(AGGREGATE_OF[fn])],
    // The structure's own defaults (0 % good, 0 % bad) are invalid inputs (OPC 10000-13 §4.2.1.2).
    aggregateConfiguration: { useServerCapabilitiesDefaults: true },
  });
  const out: Value[] = [];
  let point: Buffer | null = null;
  do {
    throwIfAborted(signal);
    const result = await readOnce(session, nodeId, details, point);
    if (isBad(result)) throw failure(result, `HistoryRead processed ${fn}`);
    for (const dv of valuesOf(result)) out.push(toValue(dv));
    point = result.continuationPoint?.length ? result.continuationPoint : null;
  } while (point);
  return out;
}

/** Values at the given times (OPC 10000-11 §6.4.5); undefined when the server does not offer ReadAtTime. */
export async function readAtTimesHistory(
  session: ClientSession,
  nodeId: NodeId,
  times: readonly number[],
  signal: AbortSignal,
): Promise<Value[] | undefined> {
  const details = new ReadAtTimeDetails({ reqTimes: times.map((t) => new Date(t)), useSimpleBounds: true });
  const out: Value[] = [];
  let point: Buffer | null = null;
  do {
    throwIfAborted(signal);
    const result = await readOnce(session, nodeId, details, point);
    if (isBad(result)) {
      const error = failure(result, 'HistoryRead at times');
      if (error.code === 'PG_ERR_NOT_SUPPORTED') return undefined;
      throw error;
    }
    for (const dv of valuesOf(result)) out.push(toValue(dv));
    point = result.continuationPoint?.length ? result.continuationPoint : null;
  } while (point);
  return out.length === times.length ? out : undefined;
}
