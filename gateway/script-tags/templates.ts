/**
 * The calculation templates shipped with the product. A script tag is one of these with its parameters
 * and input tags: users choose and parameterise, they never write code. Each template has typed
 * parameters (a JSON Schema, plus checks the schema cannot express), its inputs, its output type and
 * units, and an evaluator: a small state machine fed the latest input values.
 *
 * Quality: a bad input (or one with no value) makes the output bad; an uncertain one makes it uncertain.
 */
import { type Static, type TObject, Type } from '@sinclair/typebox';
import { type DataType, numericValue, type Status, type Value } from '../../drivers/core/index.ts';
import { OneOf } from '../../drivers/core/schema.ts';
import { UNIT_DIMENSIONS, unitConversion } from './units.ts';

export interface Evaluator {
  /** The output for the inputs in force at `now`; undefined: no output yet (or nothing new). */
  evaluate(inputs: readonly Value[], now: number, changed: boolean): Value | undefined;
}

export interface ScriptTemplate<P extends TObject = TObject> {
  name: string;
  version: number;
  description: string;
  parameters: P;
  inputs: { min: number; max: number; kind: 'number' | 'bool'; names?: string[] };
  output(params: Static<P>): { dataType: DataType; units?: string };
  /** Whether the output moves with time alone (a delay, a window, a reset): evaluated every second too. */
  clocked?: boolean;
  /** Rules the schema cannot express, as problems with their parameter. */
  check?(params: Static<P>, inputCount: number): { path: string; message: string }[];
  create(params: Static<P>): Evaluator;
}

const doc = (description: string) => ({ description });
const Units = Type.Optional(Type.String({ maxLength: 64, ...doc('Units of the output.') }));

/** The combined quality of the inputs, or the bad value that stands for them. */
function qualityOf(inputs: readonly Value[], now: number): { status: Status } | { bad: Value } {
  let status: Status = 'good';
  for (const [i, v] of inputs.entries()) {
    if (v.status === 'bad' || v.value === null)
      return {
        bad: {
          time: now,
          value: null,
          status: 'bad',
          error: `input ${i + 1} is bad${v.error ? `: ${v.error}` : ''}`,
        },
      };
    if (v.status === 'uncertain') status = 'uncertain';
  }
  return { status };
}

const latestTime = (inputs: readonly Value[]) => inputs.reduce((t, v) => Math.max(t, v.time), 0);

/** A template computing from the numbers of its inputs at once. */
function numeric(compute: (xs: number[]) => number | string): Evaluator {
  return {
    evaluate(inputs, now) {
      const q = qualityOf(inputs, now);
      if ('bad' in q) return q.bad;
      const xs = inputs.map((v) => numericValue(v.value));
      const at = xs.indexOf(null);
      if (at >= 0) return { time: now, value: null, status: 'bad', error: `input ${at + 1} is not a number` };
      const out = compute(xs as number[]);
      if (typeof out === 'string') return { time: now, value: null, status: 'bad', error: out };
      if (!Number.isFinite(out))
        return { time: now, value: null, status: 'bad', error: 'the result is not finite' };
      return { time: latestTime(inputs) || now, value: out, status: q.status };
    },
  };
}

type Sample = { time: number; value: number };

/** A template computing from each new sample of its one input and the sample before it. */
function fromConsecutive(compute: (now: Sample, before: Sample) => number): Evaluator {
  let previous: Sample | undefined;
  return {
    evaluate([x], now) {
      const q = qualityOf([x!], now);
      if ('bad' in q) return q.bad;
      const v = numericValue(x!.value);
      if (v === null) return { time: now, value: null, status: 'bad', error: 'input 1 is not a number' };
      if (previous && x!.time <= previous.time) return undefined; // nothing new
      const before = previous;
      previous = { time: x!.time, value: v };
      if (!before) return undefined;
      return { time: x!.time, value: compute(previous, before), status: q.status };
    },
  };
}

const linearScale: ScriptTemplate = {
  name: 'linear-scale',
  version: 1,
  description: 'a · x + b',
  parameters: Type.Object(
    { a: Type.Number(doc('Factor.')), b: Type.Number({ default: 0, ...doc('Offset.') }), units: Units },
    { additionalProperties: false },
  ),
  inputs: { min: 1, max: 1, kind: 'number', names: ['x'] },
  output: (p) => ({ dataType: 'float64', ...(p.units ? { units: p.units as string } : {}) }),
  create: (p) => numeric(([x]) => (p.a as number) * x! + (p.b as number)),
};

const nary = (
  name: string,
  description: string,
  compute: (xs: number[]) => number | string,
  min = 2,
): ScriptTemplate => ({
  name,
  version: 1,
  description,
  parameters: Type.Object({ units: Units }, { additionalProperties: false }),
  inputs: { min, max: 32, kind: 'number' },
  output: (p) => ({ dataType: 'float64', ...(p.units ? { units: p.units as string } : {}) }),
  create: () => numeric(compute),
});

const sum = nary('sum', 'x1 + x2 + … + xn', (xs) => xs.reduce((a, b) => a + b, 0));
const average = nary('average', '(x1 + … + xn) / n', (xs) => xs.reduce((a, b) => a + b, 0) / xs.length);
const minimum = nary('minimum', 'the smallest input', (xs) => Math.min(...xs));
const maximum = nary('maximum', 'the largest input', (xs) => Math.max(...xs));

const difference: ScriptTemplate = {
  ...nary('difference', 'a − b', ([a, b]) => a! - b!),
  inputs: { min: 2, max: 2, kind: 'number', names: ['a', 'b'] },
};

const ratio: ScriptTemplate = {
  name: 'ratio',
  version: 1,
  description: 'scale · a / b (bad where b is 0)',
  parameters: Type.Object(
    { scale: Type.Number({ default: 1, ...doc('100 gives a percentage.') }), units: Units },
    { additionalProperties: false },
  ),
  inputs: { min: 2, max: 2, kind: 'number', names: ['a', 'b'] },
  output: (p) => ({ dataType: 'float64', ...(p.units ? { units: p.units as string } : {}) }),
  create: (p) =>
    numeric(([a, b]) => (b === 0 ? 'division by zero (b is 0)' : ((p.scale as number) * a!) / b!)),
};

const rollingAverage: ScriptTemplate = {
  name: 'rolling-average',
  version: 1,
  description: 'the mean of the samples of the last windowSeconds',
  parameters: Type.Object(
    {
      windowSeconds: Type.Number({ exclusiveMinimum: 0, maximum: 86_400, ...doc('Width of the window.') }),
      units: Units,
    },
    { additionalProperties: false },
  ),
  inputs: { min: 1, max: 1, kind: 'number', names: ['x'] },
  output: (p) => ({ dataType: 'float64', ...(p.units ? { units: p.units as string } : {}) }),
  clocked: true,
  create(p) {
    const window = (p.windowSeconds as number) * 1000;
    const samples: { time: number; value: number; status: Status }[] = [];
    let lastTime = Number.NEGATIVE_INFINITY;
    return {
      evaluate([x], now) {
        const v = numericValue(x!.value);
        if (x!.time > lastTime && x!.status !== 'bad' && v !== null) {
          samples.push({ time: x!.time, value: v, status: x!.status });
          lastTime = x!.time;
          if (samples.length > 100_000) samples.shift();
        }
        while (samples.length && samples[0]!.time <= now - window) samples.shift();
        if (!samples.length)
          return { time: now, value: null, status: 'bad', error: 'no good sample in the window' };
        const mean = samples.reduce((a, s) => a + s.value, 0) / samples.length;
        const status: Status =
          x!.status === 'bad' || samples.some((s) => s.status !== 'good') ? 'uncertain' : 'good';
        return { time: now, value: mean, status };
      },
    };
  },
};

const rateOfChange: ScriptTemplate = {
  name: 'rate-of-change',
  version: 1,
  description: '(x − previous x) / elapsed time, per perSeconds',
  parameters: Type.Object(
    {
      perSeconds: Type.Number({ exclusiveMinimum: 0, default: 1, ...doc('60: per minute, 3600: per hour.') }),
      units: Units,
    },
    { additionalProperties: false },
  ),
  inputs: { min: 1, max: 1, kind: 'number', names: ['x'] },
  output: (p) => ({ dataType: 'float64', ...(p.units ? { units: p.units as string } : {}) }),
  create: (p) =>
    fromConsecutive(
      (x, before) => ((x.value - before.value) / (x.time - before.time)) * 1000 * (p.perSeconds as number),
    ),
};

const RESETS = ['never', 'hour', 'day'] as const;

const totalizer: ScriptTemplate = {
  name: 'totalizer',
  version: 1,
  description:
    'the time integral of x (held between samples), per timeUnitSeconds; reset by input 2 rising or each hour/day (UTC)',
  parameters: Type.Object(
    {
      timeUnitSeconds: Type.Number({
        exclusiveMinimum: 0,
        default: 3600,
        ...doc('3600 for a flow per hour gives the amount.'),
      }),
      resetEvery: OneOf(RESETS, {
        default: 'never',
        ...doc('Start again from 0 at each full hour or day (UTC).'),
      }),
      units: Units,
    },
    { additionalProperties: false },
  ),
  inputs: { min: 1, max: 2, kind: 'number', names: ['x', 'reset'] },
  output: (p) => ({ dataType: 'float64', ...(p.units ? { units: p.units as string } : {}) }),
  clocked: true,
  create(p) {
    const unit = (p.timeUnitSeconds as number) * 1000;
    const period = p.resetEvery === 'hour' ? 3_600_000 : p.resetEvery === 'day' ? 86_400_000 : 0;
    let total = 0;
    let held: { time: number; value: number } | undefined;
    let lastReset = false;
    let uncertain = false;
    return {
      evaluate(inputs, now) {
        const [x, reset] = inputs;
        const resetOn = reset ? numericValue(reset.value) !== 0 && reset.value !== null : false;
        if (held) {
          let from = held.time;
          if (period && Math.floor(now / period) > Math.floor(from / period)) {
            total = 0;
            from = Math.floor(now / period) * period;
          }
          if (now > from) total += (held.value * (now - from)) / unit;
        }
        if (resetOn && !lastReset) total = 0;
        lastReset = resetOn;
        const v = numericValue(x!.value);
        if (x!.status === 'bad' || v === null) {
          held = undefined; // a bad stretch adds nothing
          uncertain = true;
          return {
            time: now,
            value: total,
            status: 'uncertain',
            error: 'input 1 is bad: nothing added meanwhile',
          };
        }
        held = { time: now, value: v };
        if (x!.status === 'uncertain') uncertain = true;
        return { time: now, value: total, status: uncertain || x!.status !== 'good' ? 'uncertain' : 'good' };
      },
    };
  },
};

const thresholdAlarm: ScriptTemplate = {
  name: 'threshold-alarm',
  version: 1,
  description: 'true once x has been past limit for delaySeconds; false again once back by deadband',
  parameters: Type.Object(
    {
      limit: Type.Number(doc('The alarm limit.')),
      direction: OneOf(['high', 'low'], { default: 'high', ...doc('high: above the limit; low: below.') }),
      deadband: Type.Number({ minimum: 0, default: 0, ...doc('How far back past the limit clears it.') }),
      delaySeconds: Type.Number({
        minimum: 0,
        maximum: 86_400,
        default: 0,
        ...doc('How long past the limit before it is an alarm.'),
      }),
    },
    { additionalProperties: false },
  ),
  inputs: { min: 1, max: 1, kind: 'number', names: ['x'] },
  output: () => ({ dataType: 'bool' }),
  clocked: true,
  create(p) {
    const high = p.direction === 'high';
    const limit = p.limit as number;
    const clearAt = high ? limit - (p.deadband as number) : limit + (p.deadband as number);
    const delay = (p.delaySeconds as number) * 1000;
    let active = false;
    let pastSince: number | undefined;
    return {
      evaluate([x], now) {
        const q = qualityOf([x!], now);
        if ('bad' in q) return q.bad;
        const v = numericValue(x!.value);
        if (v === null) return { time: now, value: null, status: 'bad', error: 'input 1 is not a number' };
        const past = high ? v > limit : v < limit;
        const cleared = high ? v < clearAt : v > clearAt;
        if (past) pastSince ??= x!.time;
        else pastSince = undefined;
        if (!active && pastSince !== undefined && now - pastSince >= delay) active = true;
        else if (active && cleared) active = false;
        return { time: now, value: active, status: q.status };
      },
    };
  },
};

const counterDelta: ScriptTemplate = {
  name: 'counter-delta',
  version: 1,
  description: 'the increase of a counter since its previous sample, across a rollover at rolloverAt',
  parameters: Type.Object(
    {
      rolloverAt: Type.Number({
        exclusiveMinimum: 0,
        default: 4_294_967_296,
        ...doc('The value the counter wraps at (65536 for 16 bits).'),
      }),
      units: Units,
    },
    { additionalProperties: false },
  ),
  inputs: { min: 1, max: 1, kind: 'number', names: ['counter'] },
  output: (p) => ({ dataType: 'float64', ...(p.units ? { units: p.units as string } : {}) }),
  create: (p) =>
    fromConsecutive((x, before) =>
      x.value >= before.value ? x.value - before.value : x.value + (p.rolloverAt as number) - before.value,
    ),
};

const unitConversionTemplate: ScriptTemplate = {
  name: 'unit-conversion',
  version: 1,
  description: 'x in the units from, as the units to (of the same quantity)',
  parameters: Type.Object(
    {
      from: OneOf(Object.keys(UNIT_DIMENSIONS), doc('Units of the input.')),
      to: OneOf(Object.keys(UNIT_DIMENSIONS), doc('Units of the output.')),
    },
    { additionalProperties: false },
  ),
  inputs: { min: 1, max: 1, kind: 'number', names: ['x'] },
  output: (p) => ({ dataType: 'float64', units: p.to as string }),
  check: (p) =>
    UNIT_DIMENSIONS[p.from as string] === UNIT_DIMENSIONS[p.to as string]
      ? []
      : [
          {
            path: 'parameters/to',
            message: `${p.from} (${UNIT_DIMENSIONS[p.from as string]}) cannot become ${p.to} (${UNIT_DIMENSIONS[p.to as string]})`,
          },
        ],
  create(p) {
    const convert = unitConversion(p.from as string, p.to as string);
    return numeric(([x]) => convert(x!));
  },
};

const booleanLogic: ScriptTemplate = {
  name: 'boolean-logic',
  version: 1,
  description: 'and, or, xor of the inputs, or not of one (a number is true when not 0)',
  parameters: Type.Object(
    { operator: OneOf(['and', 'or', 'xor', 'not'], doc('The operation.')) },
    { additionalProperties: false },
  ),
  inputs: { min: 1, max: 32, kind: 'bool' },
  output: () => ({ dataType: 'bool' }),
  check: (p, n) =>
    p.operator === 'not'
      ? n === 1
        ? []
        : [{ path: 'inputs', message: 'not takes exactly one input' }]
      : n >= 2
        ? []
        : [{ path: 'inputs', message: `${p.operator} takes 2 to 32 inputs` }],
  create(p) {
    return {
      evaluate(inputs, now) {
        const q = qualityOf(inputs, now);
        if ('bad' in q) return q.bad;
        const bits = inputs.map((v) => numericValue(v.value));
        const at = bits.indexOf(null);
        if (at >= 0)
          return { time: now, value: null, status: 'bad', error: `input ${at + 1} is not a bool or number` };
        const on = bits.map((b) => b !== 0);
        const value =
          p.operator === 'and'
            ? on.every(Boolean)
            : p.operator === 'or'
              ? on.some(Boolean)
              : p.operator === 'xor'
                ? on.filter(Boolean).length % 2 === 1
                : !on[0];
        return { time: latestTime(inputs) || now, value, status: q.status };
      },
    };
  },
};

export const TEMPLATES: readonly ScriptTemplate[] = [
  linearScale,
  sum,
  difference,
  ratio,
  average,
  minimum,
  maximum,
  rollingAverage,
  rateOfChange,
  totalizer,
  thresholdAlarm,
  counterDelta,
  unitConversionTemplate,
  booleanLogic,
];

export function findTemplate(name: string, version?: number): ScriptTemplate | undefined {
  return TEMPLATES.find((t) => t.name === name && (version === undefined || t.version === version));
}
