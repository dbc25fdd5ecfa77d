/**
 * Read plan for a 10,000-tag layout with scattered gaps: requests per poll cycle from the planner,
 * against the optimum for each gap limit (a dynamic programme over the sorted points) and against one
 * request per tag.
 */
import { isBitTable, type ModbusPoint, pointSpan } from '../drivers/modbus/address.ts';
import { planReads } from '../drivers/modbus/index.ts';
import { scatteredLayout } from './layout.ts';

/** Fewest blocks for sorted points of one table: a block may bridge gaps up to maxGap and span up to maxCount. */
function optimumBlocks(sorted: ModbusPoint[], maxGap: number, maxCount: number): number {
  const best = new Array<number>(sorted.length + 1).fill(Number.POSITIVE_INFINITY);
  best[0] = 0;
  for (let i = 1; i <= sorted.length; i++) {
    // Block of points j..i-1: grow it leftwards while it stays legal.
    let end = sorted[i - 1]!.address + pointSpan(sorted[i - 1]!);
    for (let j = i - 1; j >= 0; j--) {
      const p = sorted[j]!;
      end = Math.max(end, p.address + pointSpan(p));
      if (end - p.address > maxCount) break;
      if (j < i - 1) {
        const gap = sorted[j + 1]!.address - (p.address + pointSpan(p));
        if (gap > maxGap) break;
      }
      best[i] = Math.min(best[i]!, best[j]! + 1);
    }
  }
  return best[sorted.length]!;
}

export function runPlanBenchmark() {
  const points = scatteredLayout();
  // Register and bit gap limits; (16, 64) are the driver's defaults.
  const gaps: [number, number][] = [
    [0, 0],
    [4, 16],
    [8, 32],
    [16, 64],
    [32, 128],
  ];
  const rows = gaps.map(([registerGap, bitGap]) => {
    const limits = {
      maxRegistersPerRead: 125,
      maxBitsPerRead: 2000,
      maxRegisterGap: registerGap,
      maxBitGap: bitGap,
    };
    const started = performance.now();
    const planned = planReads(points, limits).length;
    const planMs = performance.now() - started;
    let optimum = 0;
    for (const table of ['coil', 'discrete', 'holding', 'input'] as const) {
      const sorted = points.filter((p) => p.table === table).sort((a, b) => a.address - b.address);
      optimum += isBitTable(table)
        ? optimumBlocks(sorted, bitGap, 2000)
        : optimumBlocks(sorted, registerGap, 125);
    }
    return {
      maxRegisterGap: registerGap,
      maxBitGap: bitGap,
      tags: points.length,
      requestsPlanned: planned,
      requestsOptimum: optimum,
      requestsOnePerTag: points.length,
      fewerThanOnePerTag: Number((points.length / planned).toFixed(1)),
      planMs: Number(planMs.toFixed(2)),
    };
  });
  return { name: 'modbus read plan, 10,000 tags, scattered gaps', rows };
}
