/**
 * A seeded 10,000-tag Modbus layout like a large PLC's: 30 % bits (coils and discrete inputs) and 70 %
 * registers (float32, uint16, int32), mostly packed, with scattered unused gaps between them.
 */
import { seededRandom } from '../drivers/core/testing.ts';
import type { ModbusPoint } from '../drivers/modbus/address.ts';

export function scatteredLayout(count = 10_000, seed = 42): ModbusPoint[] {
  const rnd = seededRandom(seed);
  const next = { coil: 0, discrete: 0, holding: 0, input: 0 };
  const points: ModbusPoint[] = [];
  for (let i = 0; i < count; i++) {
    const r = rnd();
    const table = r < 0.15 ? 'coil' : r < 0.3 ? 'discrete' : r < 0.75 ? 'holding' : 'input';
    const bits = table === 'coil' || table === 'discrete';
    const t = rnd();
    const type = bits ? 'bool' : t < 0.6 ? 'float32' : t < 0.85 ? 'uint16' : 'int32';
    const width = type === 'float32' || type === 'int32' ? 2 : 1;
    // One tag in ten has an unused gap before it: up to 12 registers, or up to 50 bits.
    if (rnd() < 0.1) next[table] += 1 + Math.floor(rnd() * (bits ? 50 : 12));
    points.push({
      table,
      address: next[table],
      unitId: 1,
      type,
      wordOrder: 'ABCD',
      count: 1,
      width,
      scale: 1,
      offset: 0,
    });
    next[table] += width;
  }
  return points;
}
