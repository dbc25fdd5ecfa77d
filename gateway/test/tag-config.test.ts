/**
 * tags.create, update and delete in a running gateway: a Modbus source's tags change in the config
 * file (validated whole, written atomically, the previous file kept) and the source runs with them at
 * once; OPC UA and script sources say why they cannot; configureTags and its tag patterns apply.
 */
import { existsSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OperationName } from '../api/operations.ts';
import { exportAudit } from '../audit/verify.ts';
import { eventually, type Harness, linkCaller, runAs, startHarness } from './harness.ts';

const EXTRA = `  - id: line
    driver: opcua
    settings: { endpoint: "opc.tcp://127.0.0.1:9", securityMode: None, allowInsecure: true, reconnectMinMs: 60000, reconnectMaxMs: 60000 }
    tags: [{ name: Line.Speed, nodeId: "ns=1;s=Speed" }]
  - { id: calc, driver: script }
access:
  rules:
    - { principal: "user:engineer", sources: ["*"], roles: [read, configureTags], tags: ["Boiler1.*", "Line.*"] }
    - { principal: "user:viewer", sources: [boiler], roles: [read] }
`;

let h: Harness;
const _as = linkCaller;
const run = (who: string, operation: OperationName, request: unknown, source = 'boiler') =>
  runAs(h, who, operation, request, source);
type Snapshot = { values: { tag: string; value: unknown; status: string }[] };

beforeAll(async () => {
  h = await startHarness({ extraConfig: EXTRA });
}, 30_000);
afterAll(async () => h?.stop());

describe('tag configuration', () => {
  it('given configureTags on a Modbus source, when a tag is created, then it is in the config file and read at once', async () => {
    const before = readFileSync(h.configFile, 'utf8');
    const { tag } = (await run('user:engineer', 'tags.create', {
      definition: { name: 'Boiler1.SteamTempCopy', address: 'holding:102', type: 'float32', units: '°C' },
    })) as { tag: { name: string; units: string } };
    expect(tag).toMatchObject({ name: 'Boiler1.SteamTempCopy', units: '°C' });
    const after = readFileSync(h.configFile, 'utf8');
    expect(after).toContain(
      '{ name: Boiler1.SteamTempCopy, address: holding:102, type: float32, units: °C }',
    );
    expect(readFileSync(`${h.configFile}.previous`, 'utf8')).toBe(before);
    const values = await eventually(
      () =>
        run('user:engineer', 'values.snapshot', {
          tags: ['Boiler1.SteamTempCopy', 'Boiler1.SteamTemp'],
        }) as Promise<Snapshot>,
      (s) => s.values.every((v) => v.status === 'good'),
    );
    expect(typeof values.values[0]!.value).toBe('number');
  });

  it('given a tag, when changed and then deleted, then the config file and the source follow', async () => {
    const { tag } = (await run('user:engineer', 'tags.update', {
      tag: 'Boiler1.SteamTempCopy',
      changes: { units: 'degC', description: 'copy' },
    })) as {
      tag: { units: string; description: string };
    };
    expect(tag).toMatchObject({ units: 'degC', description: 'copy' });
    expect(readFileSync(h.configFile, 'utf8')).toContain('units: degC, description: copy');
    await run('user:engineer', 'tags.delete', { tag: 'Boiler1.SteamTempCopy' });
    expect(readFileSync(h.configFile, 'utf8')).not.toContain('SteamTempCopy');
    const got = (await run('user:engineer', 'tags.get', { tags: ['Boiler1.SteamTempCopy'] })) as {
      notFound: string[];
    };
    expect(got.notFound).toEqual(['Boiler1.SteamTempCopy']);
    const details = [...exportAudit(h.gateway.config.gateway.dataDir, 0, Date.now() + 1000)].map(
      (r) => r.detail ?? '',
    );
    expect(
      details.some((d) =>
        d.startsWith(
          'tag Boiler1.SteamTempCopy changed on boiler: {"name":"Boiler1.SteamTempCopy","address":"holding:102"',
        ),
      ),
    ).toBe(true);
  });

  it('given a definition the driver refuses, when created, then it is refused by its path and the file is untouched', async () => {
    const before = readFileSync(h.configFile, 'utf8');
    await expect(
      run('user:engineer', 'tags.create', { definition: { name: 'Boiler1.Bad', address: 'bogus:1' } }),
    ).rejects.toMatchObject({ code: 'PG_ERR_CONFIG_INVALID', message: expect.stringContaining('address') });
    await expect(
      run('user:engineer', 'tags.create', {
        definition: { name: 'Boiler1.SteamTemp', address: 'holding:1' },
      }),
    ).rejects.toMatchObject({
      code: 'PG_ERR_CONFLICT',
    });
    expect(readFileSync(h.configFile, 'utf8')).toBe(before);
    expect(existsSync(h.configFile)).toBe(true);
  });

  it('given no configureTags, or a tag outside its patterns, when a tag is created, then it is refused', async () => {
    await expect(
      run('user:viewer', 'tags.create', { definition: { name: 'Boiler1.X', address: 'holding:1' } }),
    ).rejects.toMatchObject({
      code: 'PG_ERR_ACCESS_DENIED',
    });
    await expect(
      run('user:engineer', 'tags.create', { definition: { name: 'Other.X', address: 'holding:1' } }),
    ).rejects.toMatchObject({
      code: 'PG_ERR_ACCESS_DENIED',
      message: expect.stringContaining('Other.X'),
    });
  });

  it('given OPC UA and script sources, when tags are created there, then each says why it cannot', async () => {
    await expect(
      run('user:engineer', 'tags.create', { definition: { name: 'Line.X', nodeId: 'ns=1;s=X' } }, 'line'),
    ).rejects.toMatchObject({
      code: 'PG_ERR_NOT_SUPPORTED',
      message: expect.stringContaining('OPC UA tags are the server’s nodes'),
    });
    await expect(run('user:engineer', 'tags.delete', { tag: 'Boiler1.X' }, 'calc')).rejects.toMatchObject({
      code: 'PG_ERR_NOT_SUPPORTED',
      message: expect.stringContaining('scriptTags.create'),
    });
  });
});
