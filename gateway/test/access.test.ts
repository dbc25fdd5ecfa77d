/** Role rules enforced on a running gateway, for callers arriving over the link, and reloaded without a restart. */
import { readFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallContext } from '../api/call-context.ts';
import { exportAudit, verifyAudit } from '../audit/verify.ts';
import { eventually, type Harness, startHarness } from './harness.ts';

const RULES = `access:
  rules:
    - { principal: "user:alice", sources: [boiler], roles: [read], tags: ["Boiler1.Steam*"] }
    - { principal: "group:operators", sources: [boiler], roles: [writeValues], tags: [Boiler1.PressureSetpoint] }
    - { principal: "group:operators", sources: [boiler], roles: [read] }
`;

let h: Harness;
const errors: string[] = [];
const as = (subject: string, groups: string[] = []): CallContext => ({
  requestId: 'test',
  origin: 'link',
  principal: { subject, groups },
  app: 'test-app',
});
const run = (
  ctx: CallContext,
  operation: Parameters<Harness['gateway']['engine']['execute']>[1],
  request: unknown,
  source: string | undefined = 'boiler',
) => h.gateway.engine.execute(ctx, operation, source, request) as Promise<Record<string, unknown>>;

beforeAll(async () => {
  h = await startHarness({
    extraConfig: RULES,
    log: { debug() {}, info() {}, warn() {}, error: (message) => errors.push(message) },
  });
  await eventually(
    () => run(as('user:x', ['operators']), 'values.snapshot', { tags: ['Boiler1.SteamPressure'] }),
    (a) => (a.values as { status: string }[])[0]!.status === 'good',
  );
}, 30_000);
afterAll(async () => h?.stop());

describe('role rules on a running gateway', () => {
  it('given allowed and denied calls, when made, then each has its audit record with the outcome', async () => {
    await run(as('user:alice'), 'values.snapshot', { tags: ['Boiler1.SteamTemp'] });
    await expect(
      run(as('user:mallory'), 'values.raw', { tags: ['Boiler1.Tag'], start: '*-1h', end: '*' }),
    ).rejects.toMatchObject({
      code: 'PG_ERR_ACCESS_DENIED',
    });
    await expect(run(as('user:alice'), 'values.snapshot', { tags: [] })).rejects.toMatchObject({
      code: 'PG_ERR_BAD_REQUEST',
    });
    const records = [...exportAudit(h.gateway.config.gateway.dataDir, 0, Date.now() + 1000)];
    const mine = (principal: string) => records.filter((r) => r.principal === principal);
    expect(mine('user:alice').at(-2)).toMatchObject({
      kind: 'operation',
      origin: 'link',
      app: 'test-app',
      source: 'boiler',
      operation: 'values.snapshot',
      tagCount: 1,
      tags: ['Boiler1.SteamTemp'],
      outcome: 'ok',
      values: 1,
    });
    expect(mine('user:alice').at(-1)).toMatchObject({
      operation: 'values.snapshot',
      outcome: 'PG_ERR_BAD_REQUEST',
    });
    expect(mine('user:mallory').at(-1)).toMatchObject({
      operation: 'values.raw',
      outcome: 'PG_ERR_ACCESS_DENIED',
      range: { start: '*-1h', end: '*' },
    });
    expect(verifyAudit(h.gateway.config.gateway.dataDir).ok).toBe(true);
  });

  it('given a rule narrowed to tags, when searching, then only those tags are found and counted', async () => {
    const answer = await run(as('user:alice'), 'tags.search', { name: '*' });
    expect((answer.tags as { name: string }[]).map((t) => t.name)).toEqual([
      'Boiler1.SteamPressure',
      'Boiler1.SteamTemp',
    ]);
    expect(answer.total).toBe(2);
  });

  it('given a tag outside the grant, when asked for by name, then it reads as unknown', async () => {
    const snapshot = await run(as('user:alice'), 'values.snapshot', {
      tags: ['Boiler1.SteamTemp', 'Boiler1.Running'],
    });
    expect(
      (snapshot.values as { tag: string; status: string; error?: string }[]).map((v) => [v.tag, v.status]),
    ).toEqual([
      ['Boiler1.SteamTemp', 'good'],
      ['Boiler1.Running', 'bad'],
    ]);
    expect(await run(as('user:alice'), 'tags.get', { tags: ['Boiler1.Running'] })).toEqual({
      tags: [],
      notFound: ['Boiler1.Running'],
    });
    const raw = await run(as('user:alice'), 'values.raw', {
      tags: ['Boiler1.Running'],
      start: '*-1h',
      end: '*',
    });
    expect(raw.tags).toEqual([
      {
        tag: 'Boiler1.Running',
        values: [],
        error: { code: 'PG_ERR_TAG_NOT_FOUND', message: expect.any(String) },
      },
    ]);
  });

  it('given no rule for the operation or the source, when called, then PG_ERR_ACCESS_DENIED', async () => {
    await expect(
      run(as('user:alice'), 'values.write', { values: [{ tag: 'Boiler1.SteamTemp', value: 1 }] }),
    ).rejects.toMatchObject({
      code: 'PG_ERR_ACCESS_DENIED',
    });
    await expect(
      run(as('user:alice'), 'values.snapshot', { tags: ['Nothing'] }, 'dead'),
    ).rejects.toMatchObject({ code: 'PG_ERR_ACCESS_DENIED' });
    await expect(run(as('user:mallory'), 'health', {}, undefined)).rejects.toMatchObject({
      code: 'PG_ERR_ACCESS_DENIED',
    });
    await expect(
      h.gateway.engine.subscribe(
        as('user:mallory'),
        'boiler',
        { tags: ['Boiler1.Tag'] },
        new AbortController().signal,
      ),
    ).rejects.toMatchObject({
      code: 'PG_ERR_ACCESS_DENIED',
    });
    // Unknown sources are not revealed to a caller without rules.
    await expect(run(as('user:mallory'), 'values.snapshot', { tags: ['x'] }, 'nosuch')).rejects.toMatchObject(
      { code: 'PG_ERR_ACCESS_DENIED' },
    );
  });

  it('given write rights on one tag, when writing two, then one is written and the other refused on its own', async () => {
    const answer = await run(as('user:y', ['operators']), 'values.write', {
      values: [
        { tag: 'Boiler1.PressureSetpoint', value: 11 },
        { tag: 'Boiler1.Running', value: false },
      ],
    });
    expect(answer.results).toEqual([
      { tag: 'Boiler1.PressureSetpoint', ok: true },
      {
        tag: 'Boiler1.Running',
        ok: false,
        error: { code: 'PG_ERR_ACCESS_DENIED', message: expect.any(String) },
      },
    ]);
  });

  it('given the rules change in the file, when the gateway runs, then they apply without a restart; a broken file changes nothing', async () => {
    await expect(run(as('user:bob'), 'values.snapshot', { tags: ['Boiler1.Tag'] })).rejects.toMatchObject({
      code: 'PG_ERR_ACCESS_DENIED',
    });
    const original = readFileSync(h.configFile, 'utf8');
    writeFileSync(
      h.configFile,
      `${original}    - { principal: "user:bob", sources: ["*"], roles: [read] }\n`,
    );
    await eventually(
      () =>
        run(as('user:bob'), 'values.snapshot', { tags: ['Boiler1.Tag'] }).catch((e) => ({ error: e.code })),
      (a) => !('error' in a),
    );
    writeFileSync(h.configFile, `${original}    - { principal: "user:bob", sources: ["*"], roles: [fly] }\n`);
    await eventually(
      async () => errors.length,
      (n) => n > 0,
    );
    expect(errors[0]).toMatch(/config change refused/);
    expect(await run(as('user:bob'), 'values.snapshot', { tags: ['Boiler1.Tag'] })).toMatchObject({
      values: [{ value: 'BLR1' }],
    });
  });
});
