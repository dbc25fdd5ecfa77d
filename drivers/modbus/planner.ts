/**
 * The read planner: turns a poll group's points into as few requests as the device allows. Points are
 * sorted per unit and table; neighbours merge when the unused span between them is at most the gap
 * limit and the block stays within the per-request maximum (125 registers or 2000 bits, MODBUS
 * Application Protocol §6.1-6.4, or a device's lower cap). Some devices answer exception 2 (illegal data
 * address) for a read that crosses an unmapped hole; such holes are remembered and never bridged again.
 */
import { isBitTable, type ModbusPoint, pointSpan, type Table } from './address.ts';

export interface PlanLimits {
  maxRegistersPerRead: number;
  maxBitsPerRead: number;
  maxRegisterGap: number;
  maxBitGap: number;
}

export interface PlannedPoint {
  /** Index of the point in the caller's list. */
  index: number;
  point: ModbusPoint;
}

export interface ReadBlock {
  unitId: number;
  table: Table;
  start: number;
  count: number;
  points: PlannedPoint[];
  /** Addresses inside the block where it reads through a hole: the start of each point after a gap. */
  bridgedGaps: number[];
}

/** Holes that must not be read through: `unit:table:address-after-the-hole`. */
export type NoBridgeSet = Set<string>;

export const gapKey = (unitId: number, table: Table, addressAfterGap: number) =>
  `${unitId}:${table}:${addressAfterGap}`;

export function planReads(
  points: readonly ModbusPoint[],
  limits: PlanLimits,
  noBridge: NoBridgeSet = new Set(),
): ReadBlock[] {
  const groups = new Map<string, PlannedPoint[]>();
  points.forEach((point, index) => {
    const key = `${point.unitId}:${point.table}`;
    const list = groups.get(key) ?? [];
    groups.set(key, list);
    list.push({ index, point });
  });

  const blocks: ReadBlock[] = [];
  for (const list of groups.values()) {
    list.sort((a, b) => a.point.address - b.point.address || pointSpan(b.point) - pointSpan(a.point));
    const { unitId, table } = list[0]!.point;
    const bits = isBitTable(table);
    const maxCount = bits ? limits.maxBitsPerRead : limits.maxRegistersPerRead;
    const maxGap = bits ? limits.maxBitGap : limits.maxRegisterGap;
    let current: ReadBlock | undefined;
    for (const planned of list) {
      const { address } = planned.point;
      const end = address + pointSpan(planned.point);
      if (current) {
        const currentEnd = current.start + current.count;
        const gap = address - currentEnd;
        const mergedCount = Math.max(currentEnd, end) - current.start;
        const bridgeable = gap <= 0 || (gap <= maxGap && !noBridge.has(gapKey(unitId, table, address)));
        if (bridgeable && mergedCount <= maxCount) {
          if (gap > 0) current.bridgedGaps.push(address);
          current.count = mergedCount;
          current.points.push(planned);
          continue;
        }
      }
      current = { unitId, table, start: address, count: end - address, points: [planned], bridgedGaps: [] };
      blocks.push(current);
    }
  }
  return blocks;
}
