/** Units the unit-conversion template knows: each as a factor and offset to its quantity's base unit. */

interface Unit {
  dimension: string;
  /** base = value · factor + offset */
  factor: number;
  offset?: number;
}

const UNITS: Record<string, Unit> = {
  degC: { dimension: 'temperature', factor: 1 },
  degF: { dimension: 'temperature', factor: 5 / 9, offset: (-32 * 5) / 9 },
  K: { dimension: 'temperature', factor: 1, offset: -273.15 },
  Pa: { dimension: 'pressure', factor: 1 },
  kPa: { dimension: 'pressure', factor: 1000 },
  MPa: { dimension: 'pressure', factor: 1e6 },
  mbar: { dimension: 'pressure', factor: 100 },
  bar: { dimension: 'pressure', factor: 1e5 },
  psi: { dimension: 'pressure', factor: 6894.757293168 },
  'm3/h': { dimension: 'volume flow', factor: 1 },
  'l/s': { dimension: 'volume flow', factor: 3.6 },
  'l/min': { dimension: 'volume flow', factor: 0.06 },
  gpm: { dimension: 'volume flow', factor: 0.227124707 },
  m: { dimension: 'length', factor: 1 },
  mm: { dimension: 'length', factor: 0.001 },
  ft: { dimension: 'length', factor: 0.3048 },
  in: { dimension: 'length', factor: 0.0254 },
  kg: { dimension: 'mass', factor: 1 },
  t: { dimension: 'mass', factor: 1000 },
  lb: { dimension: 'mass', factor: 0.45359237 },
  kWh: { dimension: 'energy', factor: 3.6e6 },
  MJ: { dimension: 'energy', factor: 1e6 },
  kJ: { dimension: 'energy', factor: 1000 },
  kW: { dimension: 'power', factor: 1000 },
  hp: { dimension: 'power', factor: 745.69987158227 },
  W: { dimension: 'power', factor: 1 },
};

export const UNIT_DIMENSIONS: Record<string, string> = Object.fromEntries(
  Object.entries(UNITS).map(([name, u]) => [name, u.dimension]),
);

/** value in `from` → value in `to`; both must measure the same quantity. */
export function unitConversion(from: string, to: string): (value: number) => number {
  const a = UNITS[from]!;
  const b = UNITS[to]!;
  if (a.dimension !== b.dimension) throw new Error(`${from} and ${to} measure different quantities`);
  return (value) => (value * a.factor + (a.offset ?? 0) - (b.offset ?? 0)) / b.factor;
}
