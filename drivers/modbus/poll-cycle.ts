/** One poll cycle of a group: read every block of its plan and decode each point, value by value. */
import { badValue, StatusCodes, type Value } from '../core/index.ts';
import type { ModbusPoint } from './address.ts';
import { decodeBits, decodeRegisters } from './codec.ts';
import { type ModbusConnection, ModbusRequestError } from './connection.ts';
import { gapKey, type NoBridgeSet, type PlanLimits, planReads, type ReadBlock } from './planner.ts';
import type { UnitHealth } from './unit-health.ts';

export interface CycleContext {
  connection: ModbusConnection;
  limits: PlanLimits;
  noBridge: NoBridgeSet;
  units: UnitHealth;
  signal: AbortSignal;
}

export interface CycleResult {
  /** One value per point index that was due in this cycle. */
  values: Map<number, Value>;
  /** The plan changed (a hole was found): the caller re-plans before the next cycle. */
  replanned: boolean;
  requests: number;
}

type ReadAnswer = { registers: number[] } | { bits: boolean[] };

async function readBlock(ctx: CycleContext, block: ReadBlock): Promise<ReadAnswer> {
  const { unitId, table, start, count } = block;
  return ctx.connection.request(
    async (t) =>
      table === 'coil' || table === 'discrete'
        ? { bits: await t.readBits(unitId, table, start, count) }
        : { registers: await t.readRegisters(unitId, table, start, count) },
    ctx.signal,
  );
}

function decodePoint(point: ModbusPoint, block: ReadBlock, answer: ReadAnswer, time: number): Value {
  const offset = point.address - block.start;
  try {
    const value =
      'bits' in answer
        ? decodeBits(point, answer.bits, offset)
        : decodeRegisters(point, answer.registers, offset);
    return { time, value, status: 'good' };
  } catch (error) {
    return badValue(time, StatusCodes.BadDecodingError, (error as Error).message);
  }
}

async function runBlock(ctx: CycleContext, block: ReadBlock, result: CycleResult): Promise<void> {
  const now = Date.now();
  if (ctx.units.isDemoted(block.unitId, now)) {
    const until = new Date(ctx.units.demotedUntil(block.unitId)!).toISOString();
    for (const { index } of block.points) {
      result.values.set(
        index,
        badValue(now, StatusCodes.BadOutOfService, `unit ${block.unitId} set aside until ${until}`),
      );
    }
    return;
  }
  result.requests++;
  try {
    const answer = await readBlock(ctx, block);
    ctx.units.answeredBy(block.unitId);
    const time = Date.now();
    for (const { index, point } of block.points)
      result.values.set(index, decodePoint(point, block, answer, time));
  } catch (error) {
    if (!(error instanceof ModbusRequestError)) throw error;
    if (error.kind === 'exception') ctx.units.answeredBy(block.unitId);
    // Only a unit that stays silent on a working link is set aside; a dropped link is the connection's matter.
    else if (error.kind === 'timeout') ctx.units.failedBy(block.unitId);
    if (error.kind === 'exception' && error.statusCode === 2 && block.bridgedGaps.length > 0) {
      // The block reads through a hole the device does not map: never bridge those holes again, and
      // read this block's points in the smaller blocks now rather than losing a cycle.
      for (const address of block.bridgedGaps) ctx.noBridge.add(gapKey(block.unitId, block.table, address));
      result.replanned = true;
      const points = block.points.map((p) => p.point);
      for (const sub of planReads(points, ctx.limits, ctx.noBridge)) {
        const remapped = { ...sub, points: sub.points.map((p) => block.points[p.index]!) };
        await runBlock(ctx, remapped, result);
      }
      return;
    }
    const time = Date.now();
    for (const { index } of block.points)
      result.values.set(index, badValue(time, error.statusCode, error.message));
  }
}

export async function runPollCycle(ctx: CycleContext, plan: readonly ReadBlock[]): Promise<CycleResult> {
  const result: CycleResult = { values: new Map(), replanned: false, requests: 0 };
  for (const block of plan) {
    if (ctx.signal.aborted) break;
    await runBlock(ctx, block, result);
  }
  ctx.units.endCycle(Date.now());
  return result;
}
