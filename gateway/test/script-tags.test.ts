/**
 * Script tags in a running gateway, computed from a live Modbus source: made from templates through
 * scriptTags.*, with the role and input-read checks, cycles refused, results in local history, every
 * change audited, and the definitions kept across a restart.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallContext } from '../api/call-context.ts';
import type { OperationName } from '../api/operations.ts';
import { exportAudit } from '../audit/verify.ts';
import { loadGatewayConfig } from '../config/load.ts';
import { LocalApiClient } from '../local-api/client.ts';
import { readLocalToken } from '../local-api/token.ts';
import { startGateway } from '../runtime.ts';
import { eventually, type Harness, linkCaller, runAs, startHarness } from './harness.ts';

const EXTRA = `  - { id: calc, driver: script }
access:
  rules:
    - { principal: "user:engineer", sources: [calc], roles: [read, configureScriptTags] }
    - { principal: "user:engineer", sources: [boiler], roles: [read], tags: ["Boiler1.Steam*"] }
    - { principal: "user:viewer", sources: [calc, boiler], roles: [read] }
`;

let h: Harness;
const as = linkCaller;
const run = (ctx: CallContext, operation: OperationName, request: unknown, source = 'calc') =>
  runAs(h, ctx.principal.subject, operation, request, source);
const engineer = as('user:engineer');
type Snapshot = { values: { tag: string; value: unknown; status: string }[] };

beforeAll(async () => {
  h = await startHarness({ extraConfig: EXTRA });
  await eventually(
    () => run(engineer, 'values.snapshot', { tags: ['Boiler1.SteamPressure'] }, 'boiler'),
    (a) => (a as Snapshot).values[0]!.status === 'good',
  );
}, 30_000);
afterAll(async () => h?.stop());

describe('script tags in the gateway', () => {
  it('given the templates, when listed, then each comes with its parameters schema, inputs and output', async () => {
    const { templates } = (await run(as('user:viewer'), 'scriptTags.templates', {})) as {
      templates: { name: string; version: number; parameters: { properties: object } }[];
    };
    expect(templates.length).toBe(14);
    expect(templates.find((t) => t.name === 'linear-scale')).toMatchObject({
      version: 1,
      parameters: { properties: { a: {}, b: {} } },
    });
  });

  it('given a template and a readable input, when created, then the script tag is computed from the live value', async () => {
    const { tag } = (await run(engineer, 'scriptTags.create', {
      name: 'Boiler1.SteamPressurePsi',
      template: 'unit-conversion',
      parameters: { from: 'bar', to: 'psi' },
      inputs: [{ source: 'boiler', tag: 'Boiler1.SteamPressure' }],
    })) as { tag: { name: string; units: string; properties: Record<string, unknown> } };
    expect(tag).toMatchObject({
      name: 'Boiler1.SteamPressurePsi',
      units: 'psi',
      properties: { template: 'unit-conversion', createdBy: 'user:engineer' },
    });
    const both = await eventually(
      async () => ({
        psi: (await run(engineer, 'values.snapshot', { tags: ['Boiler1.SteamPressurePsi'] })) as Snapshot,
        bar: (await run(
          engineer,
          'values.snapshot',
          { tags: ['Boiler1.SteamPressure'] },
          'boiler',
        )) as Snapshot,
      }),
      (v) => v.psi.values[0]!.status === 'good',
    );
    expect(both.psi.values[0]!.value as number).toBeCloseTo(
      (both.bar.values[0]!.value as number) * 14.5037738,
      0,
    );
    const search = (await run(as('user:viewer'), 'tags.search', { name: '*Psi' })) as {
      tags: { name: string }[];
    };
    expect(search.tags.map((t) => t.name)).toEqual(['Boiler1.SteamPressurePsi']);
  });

  it('given results over time, when raw values are read, then they come from local history', async () => {
    const raw = await eventually(
      () => run(engineer, 'values.raw', { tags: ['Boiler1.SteamPressurePsi'], start: '*-1m', end: '*' }),
      (a) => (a as { tags: { values: unknown[] }[] }).tags[0]!.values.length > 0,
      15_000,
    );
    expect((raw as { tags: { values: { status: string }[] }[] }).tags[0]!.values[0]!.status).toBe('good');
  });

  it('given an input the creator may not read, when created, then it is refused and nothing is made', async () => {
    await expect(
      run(engineer, 'scriptTags.create', {
        name: 'Sneaky',
        template: 'linear-scale',
        parameters: { a: 1 },
        inputs: [{ source: 'boiler', tag: 'Boiler1.PressureSetpoint' }],
      }),
    ).rejects.toMatchObject({
      code: 'PG_ERR_ACCESS_DENIED',
      message: expect.stringContaining('Boiler1.PressureSetpoint'),
    });
    await expect(
      run(as('user:viewer'), 'scriptTags.create', {
        name: 'X',
        template: 'sum',
        inputs: [{ source: 'boiler', tag: 'Boiler1.SteamTemp' }],
      }),
    ).rejects.toMatchObject({ code: 'PG_ERR_ACCESS_DENIED' });
    const search = (await run(engineer, 'tags.search', { name: 'Sneaky' })) as { total: number };
    expect(search.total).toBe(0);
  });

  it('given bad parameters, an unknown template or the wrong number of inputs, when created, then each is refused by name', async () => {
    const steam = [{ source: 'boiler', tag: 'Boiler1.SteamTemp' }];
    await expect(
      run(engineer, 'scriptTags.create', { name: 'A', template: 'linear-scale', inputs: steam }),
    ).rejects.toMatchObject({
      code: 'PG_ERR_BAD_REQUEST',
      message: expect.stringContaining('parameters.a: is required'),
    });
    await expect(
      run(engineer, 'scriptTags.create', { name: 'A', template: 'eval', inputs: steam }),
    ).rejects.toMatchObject({
      message: expect.stringContaining('no template eval'),
    });
    await expect(
      run(engineer, 'scriptTags.create', { name: 'A', template: 'difference', inputs: steam }),
    ).rejects.toMatchObject({
      message: expect.stringContaining('difference takes 2 input(s) (a, b), not 1'),
    });
    await expect(
      run(engineer, 'scriptTags.create', {
        name: 'A',
        template: 'unit-conversion',
        parameters: { from: 'bar', to: 'kg' },
        inputs: steam,
      }),
    ).rejects.toMatchObject({ message: expect.stringContaining('bar (pressure) cannot become kg (mass)') });
    await expect(
      run(engineer, 'scriptTags.create', {
        name: 'A',
        template: 'linear-scale',
        parameters: { a: 'x * 2; process.exit()' },
        inputs: steam,
      }),
    ).rejects.toMatchObject({ code: 'PG_ERR_BAD_REQUEST' });
  });

  it('given script tags on script tags, when one would depend on itself, then the change is refused', async () => {
    const make = (name: string, input: { source: string; tag: string }) =>
      run(engineer, 'scriptTags.create', {
        name,
        template: 'linear-scale',
        parameters: { a: 2 },
        inputs: [input],
      });
    await make('Chain.A', { source: 'boiler', tag: 'Boiler1.SteamTemp' });
    await make('Chain.B', { source: 'calc', tag: 'Chain.A' });
    await make('Chain.C', { source: 'calc', tag: 'Chain.B' });
    await expect(
      run(engineer, 'scriptTags.update', { tag: 'Chain.A', inputs: [{ source: 'calc', tag: 'Chain.C' }] }),
    ).rejects.toMatchObject({
      code: 'PG_ERR_BAD_REQUEST',
      message: expect.stringMatching(
        /depend on itself: calc\/Chain.A → calc\/Chain.C → calc\/Chain.B → calc\/Chain.A/,
      ),
    });
    await expect(run(engineer, 'scriptTags.delete', { tag: 'Chain.B' })).rejects.toMatchObject({
      code: 'PG_ERR_CONFLICT',
    });
    const values = await eventually(
      () => run(engineer, 'values.snapshot', { tags: ['Chain.A', 'Chain.C'] }) as Promise<Snapshot>,
      (s) => s.values.every((v) => v.status === 'good'),
    );
    expect(values.values[1]!.value as number).toBeCloseTo((values.values[0]!.value as number) * 4, 3);
  });

  it('given changes, when audited, then each names who changed what, before and after', async () => {
    await run(engineer, 'scriptTags.update', { tag: 'Chain.C', parameters: { a: 3 } });
    await run(engineer, 'scriptTags.delete', { tag: 'Chain.C' });
    const records = [...exportAudit(h.gateway.config.gateway.dataDir, 0, Date.now() + 1000)].filter((r) =>
      r.operation?.startsWith('scriptTags.'),
    );
    const details = records
      .filter((r) => r.outcome === 'ok' && r.principal === 'user:engineer')
      .map((r) => r.detail ?? '');
    expect(
      details.some((d) => d.startsWith('script tag created: Boiler1.SteamPressurePsi = unit-conversion v1')),
    ).toBe(true);
    expect(
      details.some(
        (d) =>
          d.includes('changed from Chain.C = linear-scale v1 {"a":2') &&
          d.includes('to Chain.C = linear-scale v1 {"a":3'),
      ),
    ).toBe(true);
    expect(details.some((d) => d.startsWith('script tag deleted: Chain.C'))).toBe(true);
    expect(records.some((r) => r.outcome === 'PG_ERR_ACCESS_DENIED' && r.principal === 'user:viewer')).toBe(
      true,
    );
  });

  it('given a restart, when the gateway is back, then the script tags are there and computing', async () => {
    await h.gateway.stop();
    const config = await loadGatewayConfig(h.configFile);
    h.gateway = await startGateway(config, { debug() {}, info() {}, warn() {}, error() {} });
    h.client = new LocalApiClient(h.gateway.port, readLocalToken(config.gateway.dataDir));
    const values = await eventually(
      () =>
        run(engineer, 'values.snapshot', {
          tags: ['Boiler1.SteamPressurePsi', 'Chain.B'],
        }) as Promise<Snapshot>,
      (s) => s.values.every((v) => v.status === 'good'),
    );
    expect(values.values).toHaveLength(2);
  });
});
