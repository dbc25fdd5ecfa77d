/**
 * The OPC UA driver's own behaviour against the simulator process: security policies and identities,
 * the tag model from the server, browsing, operation limits, writes, deadbands and polling.
 */
import { X509Certificate } from 'node:crypto';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { generate } from 'selfsigned';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RecordingHost } from '../../core/testing.ts';
import { opcuaDriver } from '../index.ts';
import type { LazyOpcuaDriver as OpcuaDriver } from '../lazy-driver.ts';
import {
  line,
  type OpcuaPeer,
  settingsFor,
  sourceConfig,
  startPeer,
  startTrusted,
  startWithPki,
} from './peer.ts';

let peer: OpcuaPeer;
let pkiDir: string;
const started: OpcuaDriver[] = [];

async function run(config: Parameters<typeof startWithPki>[0]) {
  const result = await startWithPki(config, pkiDir);
  started.push(result.driver);
  return result;
}

beforeAll(async () => {
  peer = await startPeer({
    limits: 'maxNodesPerRead=4,maxMonitoredItemsPerCall=3,maxNodesPerBrowse=2,maxNodesPerWrite=2',
  });
  const first = await startTrusted(peer, sourceConfig(settingsFor(peer), [line('Speed')]));
  pkiDir = first.host.pkiDir;
  await first.driver.stop();
}, 60_000);

afterAll(async () => {
  for (const d of started) await d.stop();
  await peer?.stop();
});

describe('opcua security', () => {
  for (const securityPolicy of ['Basic256Sha256', 'Aes128_Sha256_RsaOaep', 'Aes256_Sha256_RsaPss'] as const) {
    for (const securityMode of ['Sign', 'SignAndEncrypt'] as const) {
      it(`given ${securityMode} with ${securityPolicy}, when started, then the session opens and values arrive`, async () => {
        const { driver, host } = await run(
          sourceConfig(settingsFor(peer, { securityMode, securityPolicy }), [line('Speed')]),
        );
        await host.waitFor((l) => l.get('Line1.Speed')?.status === 'good', 10_000, 'a good speed');
        expect(driver.health().details).toMatchObject({ securityMode, securityPolicy, connected: true });
        await driver.stop();
      });
    }
  }

  it('given securityMode None without allowInsecure, when the config is checked, then it is refused with the reason', () => {
    const config = sourceConfig(settingsFor(peer, { securityMode: 'None', user: undefined }), [
      line('Speed'),
    ]);
    expect(opcuaDriver.check!(config)).toEqual([
      expect.objectContaining({
        path: 'settings/securityMode',
        message: expect.stringContaining('allowInsecure'),
      }),
    ]);
    const withPassword = sourceConfig(settingsFor(peer, { securityMode: 'None', allowInsecure: true }), [
      line('Speed'),
    ]);
    expect(opcuaDriver.check!(withPassword).map((p) => p.path)).toEqual(['settings/user']);
  });

  it('given securityMode None with allowInsecure and no password, when started, then it connects anonymously', async () => {
    const settings = settingsFor(peer, { securityMode: 'None', allowInsecure: true });
    delete (settings as { user?: unknown }).user;
    const { driver, host } = await run(sourceConfig(settings, [line('Speed')]));
    await host.waitFor((l) => l.get('Line1.Speed')?.status === 'good', 10_000, 'a good speed');
    expect(driver.health().details).toMatchObject({ securityMode: 'None', securityPolicy: 'None' });
    await driver.stop();
  });

  it('given a wrong password, when started, then the start fails saying the identity was refused', async () => {
    const host = new RecordingHost();
    host.pkiDir = pkiDir;
    const driver = opcuaDriver.create(
      sourceConfig(settingsFor(peer, { user: { username: 'operator', password: 'wrong' } }), [
        line('Speed'),
      ]) as never,
      host,
    );
    await expect(driver.start(new AbortController().signal)).rejects.toMatchObject({
      code: 'PG_ERR_SOURCE_UNAVAILABLE',
      message: expect.stringMatching(/refused the session's identity/),
    });
  });

  it('given an X.509 user certificate the server trusts, when started, then the session opens with it', async () => {
    const dir = path.join(peer.pkiDir, 'gateway-user');
    mkdirSync(dir, { recursive: true });
    const pems = await generate([{ name: 'commonName', value: 'plantgate-user' }], {
      keySize: 2048,
      algorithm: 'sha256',
      extensions: [
        { name: 'basicConstraints', cA: false },
        {
          name: 'keyUsage',
          digitalSignature: true,
          nonRepudiation: true,
          keyEncipherment: true,
          dataEncipherment: true,
        },
        { name: 'extKeyUsage', clientAuth: true },
      ],
    } as never);
    const certificateFile = path.join(dir, 'user.pem');
    const privateKeyFile = path.join(dir, 'user.key');
    writeFileSync(certificateFile, pems.cert);
    writeFileSync(privateKeyFile, pems.private, { mode: 0o644 });
    const userTrusted = path.join(peer.pkiDir, 'user', 'trusted', 'certs');
    mkdirSync(userTrusted, { recursive: true });
    writeFileSync(path.join(userTrusted, 'plantgate-user.pem'), pems.cert);
    const settings = settingsFor(peer, { certificate: { certificateFile, privateKeyFile } });
    delete (settings as { user?: unknown }).user;

    const host = new RecordingHost();
    host.pkiDir = pkiDir;
    const loose = opcuaDriver.create(sourceConfig(settings, [line('Speed')]) as never, host);
    await expect(loose.start(new AbortController().signal)).rejects.toThrow(
      /readable by other users; chmod 600/,
    );

    chmodSync(privateKeyFile, 0o600);
    let lastError = '';
    for (let i = 0; i < 40; i++) {
      try {
        const { driver, host: h } = await run(sourceConfig(settings, [line('Speed')]));
        await h.waitFor((l) => l.get('Line1.Speed')?.status === 'good', 10_000, 'a good speed');
        await driver.stop();
        expect(new X509Certificate(pems.cert).subject).toContain('plantgate-user');
        return;
      } catch (error) {
        // The server's user store picks the new file up through a folder watcher.
        lastError = (error as Error).message;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    }
    throw new Error(`the X.509 identity was never accepted: ${lastError}`);
  });
});

describe('opcua tags from the server', () => {
  it('given listed nodes, when started, then types, units, ranges, descriptions and enumeration states come from the server', async () => {
    const names = [
      'Speed',
      'SealTemperature',
      'GoodCount',
      'TotalCount',
      'BatchId',
      'Enabled',
      'RecipeStep',
      'LastStop',
      'LaneWidths',
      'State',
      'JamAlarm',
    ];
    const { driver } = await run(
      sourceConfig(
        settingsFor(peer),
        names.map((n) => line(n)),
      ),
    );
    const byName = new Map(driver.listTags().map((t) => [t.name.replace('Line1.', ''), t]));
    expect(Object.fromEntries(names.map((n) => [n, byName.get(n)!.dataType]))).toEqual({
      Speed: 'float64',
      SealTemperature: 'float32',
      GoodCount: 'uint32',
      TotalCount: 'uint64',
      BatchId: 'string',
      Enabled: 'bool',
      RecipeStep: 'int16',
      LastStop: 'datetime',
      LaneWidths: 'float64[]',
      State: 'uint32',
      JamAlarm: 'bool',
    });
    expect(byName.get('Speed')).toMatchObject({
      units: '1/min',
      description: 'Filler speed',
      properties: { nodeId: 'ns=1;s=Line1.Speed', historizing: true, euLow: 0, euHigh: 600 },
      stepped: false,
      writable: false,
    });
    expect(byName.get('SealTemperature')!.units).toBe('°C');
    expect(byName.get('State')!.states).toEqual(
      ['Stopped', 'Starting', 'Running', 'Blocked', 'Starved', 'Fault'].map((name, value) => ({
        value,
        name,
      })),
    );
    expect(byName.get('State')!.stepped).toBe(true);
    expect(byName.get('JamAlarm')!.properties).toMatchObject({ trueState: 'Active', falseState: 'Normal' });
    expect(byName.get('GoodCount')!.properties.historizing).toBe(true);
    expect(byName.get('BatchId')!.properties.historizing).toBe(false);
    // Requests were split to the server's limits (4 nodes a read, 3 items a call, 2 nodes a browse).
    expect(driver.health().details).toMatchObject({
      monitoredItems: names.length,
      operationLimits: { maxNodesPerRead: 4, maxMonitoredItemsPerCall: 3, maxNodesPerBrowse: 2 },
    });
    await driver.stop();
  });

  it('given a browse root, depth and name filter, when started, then the matching variables are tags named by their browse path', async () => {
    const { driver, host } = await run(
      sourceConfig(settingsFor(peer), [line('Speed')], {
        root: 'ns=1;s=PackagingLine',
        depth: 2,
        nameFilter: '*Alarm',
      }),
    );
    const tags = driver.listTags().map((t) => [t.id, t.name, t.dataType]);
    expect(tags).toEqual([
      ['Line1.Speed', 'Line1.Speed', 'float64'],
      ['ns=1;s=Line1.JamAlarm', 'PackagingLine.JamAlarm', 'bool'],
      ['ns=1;s=Line1.LowFilmAlarm', 'PackagingLine.LowFilmAlarm', 'bool'],
    ]);
    await host.waitFor((l) => l.get('ns=1;s=Line1.JamAlarm')?.status === 'good', 10_000, 'a browsed value');
    await driver.stop();
  });

  it('given a browse with maxTags, when the server has more, then the catalogue stops at maxTags', async () => {
    const { driver } = await run(
      sourceConfig(settingsFor(peer), [], { root: 'ns=1;s=PackagingLine', depth: 3, maxTags: 5 }),
    );
    expect(driver.listTags()).toHaveLength(5);
    await driver.stop();
  });
});

describe('opcua writes', () => {
  it('given values of the wrong shape, when written, then each fails on its own with the reason and the good ones land', async () => {
    const tags = [
      line('SpeedSetpoint', { writable: true }),
      line('TotalCount', { writable: true }),
      line('Enabled', { writable: true }),
      line('LaneWidths', { writable: true }),
      line('LastStop', { writable: true }),
    ];
    const { driver, host } = await run(sourceConfig(settingsFor(peer), tags));
    const tag = (name: string) => driver.listTags().find((t) => t.name === `Line1.${name}`)!;
    const results = await driver.writeValues(
      [
        { tag: tag('SpeedSetpoint'), value: 'fast' },
        { tag: tag('SpeedSetpoint'), value: 350 },
        { tag: tag('Enabled'), value: 1 },
        { tag: tag('LaneWidths'), value: [80, 'wide'] },
        { tag: tag('LastStop'), value: 'yesterday' },
        { tag: tag('SpeedSetpoint'), value: 360, time: Date.now() },
      ],
      new AbortController().signal,
    );
    expect(results.map((r) => (r.ok ? 'ok' : `${r.code}: ${r.message}`))).toEqual([
      'PG_ERR_BAD_VALUE: Line1.SpeedSetpoint: expected a finite number, got "fast"',
      'ok',
      'PG_ERR_BAD_VALUE: Line1.Enabled: expected true or false, got 1',
      'PG_ERR_BAD_VALUE: Line1.LaneWidths: [1]: expected a finite number, got "wide"',
      'PG_ERR_TAG_NOT_WRITABLE: Line1.LastStop is not writable',
      'PG_ERR_NOT_SUPPORTED: history writes are not supported; omit time',
    ]);
    await host.waitFor((l) => l.get('Line1.SpeedSetpoint')?.value === 350, 10_000, 'the written setpoint');
    // The server lets nobody write TotalCount: writable in the config does not override the server.
    expect(tag('TotalCount').writable).toBe(false);
    expect(
      await driver.writeValues([{ tag: tag('TotalCount'), value: '1' }], new AbortController().signal),
    ).toEqual([{ ok: false, code: 'PG_ERR_TAG_NOT_WRITABLE', message: 'Line1.TotalCount is not writable' }]);
    await driver.stop();
  });
});

describe('opcua snapshots', () => {
  it('given an absolute deadband wider than the changes, when the value moves, then no change is reported after the first', async () => {
    const settings = settingsFor(peer);
    const { driver, host } = await run(
      sourceConfig(settings, [
        line('SealTemperature', { deadband: { type: 'absolute', value: 1000 } }),
        line('Speed'),
      ]),
    );
    await host.waitFor((l) => l.has('Line1.SealTemperature') && l.has('Line1.Speed'), 10_000, 'first values');
    const before = host.updates.flat().filter((v) => v.tag === 'Line1.SealTemperature').length;
    await new Promise((resolve) => setTimeout(resolve, 2500));
    const temperature = host.updates.flat().filter((v) => v.tag === 'Line1.SealTemperature').length;
    const speed = host.updates.flat().filter((v) => v.tag === 'Line1.Speed').length;
    expect(temperature).toBe(before);
    expect(speed).toBeGreaterThan(1);
    await driver.stop();
  });

  it('given a percent deadband on a variable without EURange, when started, then that item is refused with its code and the others run', async () => {
    const { driver, host } = await run(
      sourceConfig(settingsFor(peer), [
        line('GoodCount', { deadband: { type: 'percent', value: 5 } }),
        line('Speed'),
      ]),
    );
    await host.waitFor(
      (l) => l.get('Line1.GoodCount')?.status === 'bad' && l.get('Line1.Speed')?.status === 'good',
      10_000,
      'refused item',
    );
    expect(host.latest.get('Line1.GoodCount')!.error).toMatch(/refused to monitor it: Bad/);
    expect(driver.health()).toMatchObject({ state: 'degraded', details: { refusedItems: 1 } });
    await driver.stop();
  });

  it('given a percent deadband on an analog item, when started, then the server accepts it (EURange 0 to 600)', async () => {
    const { driver, host } = await run(
      sourceConfig(settingsFor(peer), [line('Speed', { deadband: { type: 'percent', value: 1 } })]),
    );
    await host.waitFor((l) => l.get('Line1.Speed')?.status === 'good', 10_000, 'a good speed');
    expect(driver.health().details).toMatchObject({ refusedItems: 0, monitoredItems: 1 });
    await driver.stop();
  });

  it('given certificates that end within certificateWarningDays, when health is read, then it is degraded and says when', async () => {
    const { driver } = await run(
      sourceConfig(settingsFor(peer, { certificateWarningDays: 365 }), [line('Speed')]),
    );
    expect(driver.health().state).toBe('running');
    await driver.stop();
    const { driver: warned } = await run(
      sourceConfig({ ...settingsFor(peer), certificateWarningDays: 365 * 20 } as never, [line('Speed')]),
    );
    const health = warned.health();
    expect(health.state).toBe('degraded');
    expect(health.message).toMatch(
      /the gateway's certificate expires on \d{4}-\d\d-\d\dT.*; the server's certificate expires on/,
    );
    await warned.stop();
  });

  it('given mode poll, when running, then values are read every pollIntervalMs in reads split to the limit', async () => {
    const names = ['Speed', 'SealTemperature', 'GoodCount', 'RejectCount', 'BatchId', 'Enabled'];
    const { driver, host } = await run(
      sourceConfig(
        settingsFor(peer, { mode: 'poll', pollIntervalMs: 300 }),
        names.map((n) => line(n)),
      ),
    );
    await host.nextUpdates(3, 10_000);
    const last = host.updates.at(-1)!;
    expect(last.map((v) => v.tag).sort()).toEqual(names.map((n) => `Line1.${n}`).sort());
    expect(last.every((v) => v.status === 'good')).toBe(true);
    expect(driver.health().details).toMatchObject({ mode: 'poll', monitoredItems: 0 });
    await driver.stop();
  });
});
