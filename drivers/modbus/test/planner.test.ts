import { describe, expect, it } from 'vitest';
import type { ModbusPoint } from '../address.ts';
import { gapKey, type PlanLimits, planReads } from '../planner.ts';
import { point } from './points.ts';

const limits: PlanLimits = {
  maxRegistersPerRead: 125,
  maxBitsPerRead: 2000,
  maxRegisterGap: 10,
  maxBitGap: 64,
};
const p = (address: string, type?: 'float32' | 'uint16' | 'bool', unitId = 1): ModbusPoint =>
  point({ name: address, address, ...(type ? { type } : {}), unitId });
const shape = (blocks: ReturnType<typeof planReads>) => blocks.map((b) => [b.table, b.start, b.count]);

describe('read planner', () => {
  it('given contiguous and near points, when planned, then they merge across gaps up to the limit', () => {
    const blocks = planReads(
      [p('holding:0', 'float32'), p('holding:2', 'float32'), p('holding:14'), p('holding:30')],
      limits,
    );
    // 0-3 contiguous; 14 is 10 away (gap 10 = limit) → merged; 30 is 15 away → new block.
    expect(shape(blocks)).toEqual([
      ['holding', 0, 15],
      ['holding', 30, 1],
    ]);
    expect(blocks[0]!.bridgedGaps).toEqual([14]);
  });

  it('given unsorted points in several tables and units, when planned, then each table and unit is planned apart', () => {
    const blocks = planReads(
      [p('coil:5'), p('holding:3'), p('coil:1'), p('input:3'), p('holding:3', undefined, 2)],
      limits,
    );
    expect(shape(blocks)).toEqual([
      ['coil', 1, 5],
      ['holding', 3, 1],
      ['input', 3, 1],
      ['holding', 3, 1],
    ]);
    expect(blocks.map((b) => b.unitId)).toEqual([1, 1, 1, 2]);
  });

  it('given more registers than one request may carry, when planned, then no block exceeds the device cap', () => {
    const points = Array.from({ length: 300 }, (_, i) => p(`holding:${i * 2}`, 'float32'));
    const blocks = planReads(points, { ...limits, maxRegistersPerRead: 100 });
    expect(blocks.every((b) => b.count <= 100)).toBe(true);
    expect(blocks).toHaveLength(6);
    const bits = planReads(
      Array.from({ length: 5000 }, (_, i) => p(`coil:${i}`)),
      limits,
    );
    expect(bits.map((b) => b.count)).toEqual([2000, 2000, 1000]);
  });

  it('given a multi-register value, when it would straddle the cap, then it starts a new block and is never split', () => {
    const blocks = planReads([p('holding:0'), p('holding:123', 'float32')], {
      ...limits,
      maxRegistersPerRead: 124,
    });
    expect(shape(blocks)).toEqual([
      ['holding', 0, 1],
      ['holding', 123, 2],
    ]);
  });

  it('given bits of one register and the register itself, when planned, then they share one read', () => {
    const blocks = planReads([p('holding:7.0'), p('holding:7.9'), p('holding:7')], limits);
    expect(shape(blocks)).toEqual([['holding', 7, 1]]);
    expect(blocks[0]!.points).toHaveLength(3);
  });

  it('given a remembered hole, when planned again, then that hole is not bridged but others are', () => {
    const points = [p('holding:0'), p('holding:5'), p('holding:10')];
    expect(planReads(points, limits)).toHaveLength(1);
    const blocks = planReads(points, limits, new Set([gapKey(1, 'holding', 5)]));
    expect(shape(blocks)).toEqual([
      ['holding', 0, 1],
      ['holding', 5, 6],
    ]);
  });
});
