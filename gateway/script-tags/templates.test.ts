/** Every shipped template against reference values, and how input quality reaches the output. */
import { describe, expect, it } from 'vitest';
import type { Status, Value } from '../../drivers/core/index.ts';
import { validate } from '../api/validator.ts';
import { findTemplate, TEMPLATES } from './templates.ts';

const good = (value: number | boolean, time = 1000): Value => ({ time, value, status: 'good' });
const with_ = (status: Status, value: number | null, time = 1000): Value => ({ time, value, status });

function evaluator(name: string, params: Record<string, unknown> = {}) {
  const t = findTemplate(name)!;
  const filled = structuredClone(params);
  expect(validate(t.parameters, filled), `${name} parameters`).toEqual([]);
  return t.create(filled as never);
}

const run = (name: string, params: Record<string, unknown>, inputs: Value[], now = 1000) =>
  evaluator(name, params).evaluate(inputs, now, true);

describe('script tag templates', () => {
  it('given the shipped list, when read, then every template has a name, version, schema, inputs and output', () => {
    expect(TEMPLATES.map((t) => t.name)).toEqual([
      'linear-scale',
      'sum',
      'difference',
      'ratio',
      'average',
      'minimum',
      'maximum',
      'rolling-average',
      'rate-of-change',
      'totalizer',
      'threshold-alarm',
      'counter-delta',
      'unit-conversion',
      'boolean-logic',
    ]);
    for (const t of TEMPLATES) {
      expect(t.version).toBeGreaterThanOrEqual(1);
      expect(t.parameters.type).toBe('object');
      expect(t.inputs.min).toBeLessThanOrEqual(t.inputs.max);
    }
  });

  it('given arithmetic templates, when evaluated, then they give the reference values', () => {
    expect(run('linear-scale', { a: 0.1, b: -40 }, [good(655)])!.value).toBeCloseTo(25.5, 10);
    expect(run('sum', {}, [good(1.5), good(2), good(-0.5)])!.value).toBe(3);
    expect(run('difference', {}, [good(10), good(4)])!.value).toBe(6);
    expect(run('ratio', { scale: 100 }, [good(1), good(4)])!.value).toBe(25);
    expect(run('average', {}, [good(1), good(2), good(6)])!.value).toBe(3);
    expect(run('minimum', {}, [good(3), good(-2), good(7)])!.value).toBe(-2);
    expect(run('maximum', {}, [good(3), good(-2), good(7)])!.value).toBe(7);
    expect(run('ratio', {}, [good(1), good(0)])).toMatchObject({
      status: 'bad',
      error: expect.stringContaining('division by zero'),
    });
  });

  it('given unit conversion, when evaluated, then known equivalences hold and other quantities are refused', () => {
    expect(run('unit-conversion', { from: 'degC', to: 'degF' }, [good(100)])!.value).toBeCloseTo(212, 9);
    expect(run('unit-conversion', { from: 'degF', to: 'K' }, [good(32)])!.value).toBeCloseTo(273.15, 9);
    expect(run('unit-conversion', { from: 'bar', to: 'psi' }, [good(1)])!.value).toBeCloseTo(14.5037738, 6);
    expect(run('unit-conversion', { from: 'l/s', to: 'm3/h' }, [good(1)])!.value).toBeCloseTo(3.6, 12);
    expect(run('unit-conversion', { from: 'kWh', to: 'MJ' }, [good(1)])!.value).toBeCloseTo(3.6, 12);
    const t = findTemplate('unit-conversion')!;
    expect(t.check!({ from: 'bar', to: 'kg' } as never, 1)).toEqual([
      { path: 'parameters/to', message: 'bar (pressure) cannot become kg (mass)' },
    ]);
  });

  it('given boolean logic, when evaluated, then and, or, xor and not follow their tables', () => {
    const cases: [string, boolean[], boolean][] = [
      ['and', [true, true], true],
      ['and', [true, false], false],
      ['or', [false, false], false],
      ['or', [false, true], true],
      ['xor', [true, true, true], true],
      ['xor', [true, true], false],
      ['not', [true], false],
    ];
    for (const [operator, inputs, expected] of cases)
      expect(
        run(
          'boolean-logic',
          { operator },
          inputs.map((b) => good(b)),
        )!.value,
        `${operator} ${inputs}`,
      ).toBe(expected);
    expect(run('boolean-logic', { operator: 'and' }, [good(2), good(1)])!.value).toBe(true);
    const t = findTemplate('boolean-logic')!;
    expect(t.check!({ operator: 'not' } as never, 2)).toHaveLength(1);
    expect(t.check!({ operator: 'or' } as never, 1)).toHaveLength(1);
  });

  it('given a rolling average, when samples arrive and time passes, then it is the mean of the window', () => {
    const e = evaluator('rolling-average', { windowSeconds: 10 });
    expect(e.evaluate([good(2, 0)], 0, true)!.value).toBe(2);
    expect(e.evaluate([good(4, 5000)], 5000, true)!.value).toBe(3);
    expect(e.evaluate([good(9, 9000)], 9000, true)!.value).toBe(5);
    // At 12 s the sample of 0 s has left the window.
    expect(e.evaluate([good(9, 9000)], 12_000, false)!.value).toBe(6.5);
    expect(e.evaluate([good(9, 9000)], 30_000, false)).toMatchObject({ status: 'bad' });
  });

  it('given a rate of change and a counter, when samples arrive, then they give the change per time and across a rollover', () => {
    const rate = evaluator('rate-of-change', { perSeconds: 60 });
    expect(rate.evaluate([good(10, 0)], 0, true)).toBeUndefined();
    expect(rate.evaluate([good(13, 30_000)], 30_000, true)!.value).toBe(6);
    const counter = evaluator('counter-delta', { rolloverAt: 65536 });
    expect(counter.evaluate([good(65530, 0)], 0, true)).toBeUndefined();
    expect(counter.evaluate([good(65535, 1000)], 1000, true)!.value).toBe(5);
    expect(counter.evaluate([good(4, 2000)], 2000, true)!.value).toBe(5);
  });

  it('given a totalizer, when a flow is held and reset, then it integrates per time unit and starts again', () => {
    const e = evaluator('totalizer', { timeUnitSeconds: 3600 });
    expect(e.evaluate([good(100, 0), good(false, 0)], 0, true)!.value).toBe(0);
    // 100 per hour for half an hour.
    expect(e.evaluate([good(100, 0), good(false, 0)], 1_800_000, false)!.value).toBeCloseTo(50, 9);
    expect(e.evaluate([good(200, 1_800_000), good(false, 0)], 1_800_000, true)!.value).toBeCloseTo(50, 9);
    expect(e.evaluate([good(200, 1_800_000), good(false, 0)], 3_600_000, false)!.value).toBeCloseTo(150, 9);
    expect(e.evaluate([good(200, 1_800_000), good(true, 3_600_000)], 3_600_000, true)!.value).toBe(0);
    const hourly = evaluator('totalizer', { timeUnitSeconds: 3600, resetEvery: 'hour' });
    hourly.evaluate([good(60, 3_000_000)], 3_000_000, true);
    // 10 minutes past the hour, only those 10 minutes count.
    expect(hourly.evaluate([good(60, 3_000_000)], 4_200_000, false)!.value).toBeCloseTo(10, 9);
  });

  it('given a threshold alarm with deadband and delay, when the input crosses, then it trips late and clears past the deadband', () => {
    const e = evaluator('threshold-alarm', { limit: 80, deadband: 5, delaySeconds: 10 });
    expect(e.evaluate([good(85, 0)], 0, true)!.value).toBe(false);
    expect(e.evaluate([good(85, 0)], 9_000, false)!.value).toBe(false);
    expect(e.evaluate([good(85, 0)], 10_000, false)!.value).toBe(true);
    expect(e.evaluate([good(78, 11_000)], 11_000, true)!.value).toBe(true); // inside the deadband
    expect(e.evaluate([good(74, 12_000)], 12_000, true)!.value).toBe(false);
    const low = evaluator('threshold-alarm', { limit: 10, direction: 'low' });
    expect(low.evaluate([good(9, 0)], 0, true)!.value).toBe(true);
  });

  it('given bad or uncertain inputs, when evaluated, then the output is bad or uncertain and says which input', () => {
    for (const name of ['sum', 'average', 'minimum', 'maximum', 'difference']) {
      expect(run(name, {}, [good(1), with_('bad', null)]), name).toMatchObject({
        status: 'bad',
        value: null,
        error: expect.stringContaining('input 2 is bad'),
      });
      expect(run(name, {}, [with_('uncertain', 1), good(2)]), name).toMatchObject({ status: 'uncertain' });
    }
    expect(run('linear-scale', { a: 2 }, [with_('good', null)])).toMatchObject({ status: 'bad' });
    expect(run('boolean-logic', { operator: 'or' }, [with_('uncertain', 1), good(false)])).toMatchObject({
      status: 'uncertain',
      value: true,
    });
    expect(run('threshold-alarm', { limit: 1 }, [with_('bad', null)])).toMatchObject({ status: 'bad' });
    const total = evaluator('totalizer', {});
    total.evaluate([good(10, 0)], 0, true);
    expect(total.evaluate([with_('bad', null, 1000)], 1000, true)).toMatchObject({ status: 'uncertain' });
  });
});
