import { mkdtempSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Type } from '@sinclair/typebox';
import { describe, expect, it } from 'vitest';
import {
  type Driver,
  type DriverFactory,
  type DriverHost,
  type Logger,
  silentLogger,
} from '../../drivers/core/index.ts';
import { parseGatewayConfig } from '../config/load.ts';
import { HistoryStore } from '../history/store.ts';
import { Source } from '../sources/source.ts';
import { Sealer } from './sealer.ts';
import { checkSecretFields } from './settings.ts';

const dir = () => mkdtempSync(path.join(os.tmpdir(), 'plantgate-secrets-'));
const setting = { driver: 'opcua', source: 'line3', field: 'user.password' };
const CANARY = 'canary-7Qx!pw-3141';

describe('sealed secrets', () => {
  it('given a secret, when sealed and opened for the same setting on the same machine, then it round-trips', () => {
    const where = dir();
    const sealer = Sealer.open(where, 'os=a|hw=b');
    const sealed = sealer.seal(CANARY, setting);
    expect(sealed).toMatch(/^enc:v1:[A-Za-z0-9_-]+$/);
    expect(sealed).not.toContain(CANARY);
    expect(Sealer.open(where, 'os=a|hw=b').unseal(sealed, setting)).toBe(CANARY);
    expect(statSync(path.join(where, 'keys', 'master-key')).mode & 0o777).toBe(0o600);
  });

  it('given a sealed value moved to another setting, source or driver, when opened, then the error names the setting, not the value', () => {
    const sealer = Sealer.open(dir(), 'os=a|hw=b');
    const sealed = sealer.seal(CANARY, setting);
    for (const other of [
      { ...setting, field: 'user.username' },
      { ...setting, source: 'line4' },
      { ...setting, driver: 'sql' },
    ]) {
      let error: { code?: string; message: string } | undefined;
      try {
        sealer.unseal(sealed, other);
      } catch (e) {
        error = e as { code?: string; message: string };
      }
      expect(error).toMatchObject({
        code: 'PG_ERR_SECRET_UNSEALABLE',
        message: expect.stringContaining(`source "${other.source}" settings.${other.field}`),
      });
      expect(error!.message).not.toContain(CANARY);
    }
    // A character in the middle: the last ones of base64 may carry only padding bits.
    const middle = Math.floor(sealed.length / 2);
    const tampered = `${sealed.slice(0, middle)}${sealed[middle] === 'A' ? 'B' : 'A'}${sealed.slice(middle + 1)}`;
    expect(() => sealer.unseal(tampered, setting)).toThrow(/does not open here/);
    expect(() => sealer.unseal('hunter2', setting)).toThrow(/is not a sealed value/);
  });

  it('given the data folder copied to a machine with another identity, when opened, then the master key refuses with a clear reason', () => {
    const where = dir();
    Sealer.open(where, 'os=a|hw=b').seal(CANARY, setting);
    expect(() => Sealer.open(where, 'os=c|hw=b')).toThrowError(
      expect.objectContaining({
        code: 'PG_ERR_SECRET_UNSEALABLE',
        message: expect.stringMatching(/made on another machine/),
      }),
    );
  });

  const fake = (log: string[] = []): { factory: DriverFactory; got: string[] } => {
    const got: string[] = [];
    const factory: DriverFactory = {
      name: 'fake',
      settingsSchema: Type.Object({}),
      tagSchema: Type.Object({}),
      secretFields: ['user.password'],
      create(config, host: DriverHost): Driver {
        const password = (config.settings as { user: { password: string } }).user.password;
        got.push(password);
        // A careless driver: it repeats the secret in a log line, a value error and its health.
        host.log.error(`login failed for password ${password}`, { password });
        host.update([{ tag: 'x', time: 1, value: null, status: 'bad', error: `auth ${password} refused` }]);
        log.push('created');
        return {
          start: async () => undefined,
          stop: async () => undefined,
          health: () => ({
            state: 'degraded',
            message: `bad password ${password}`,
            details: { tried: password },
          }),
        };
      },
    };
    return { factory, got };
  };

  /** A source "line3" of the test driver with `password` as its (sealed) secret, in a fresh data folder. */
  function sourceWith(password: (sealer: Sealer) => string, log: Logger = silentLogger) {
    const where = dir();
    const sealer = Sealer.open(where, 'os=a|hw=b');
    const history = new HistoryStore(where, {
      maxAgeDays: 1,
      maxSizeMB: 10,
      heartbeatMs: 60_000,
      flushMs: 60_000,
    });
    const { factory, got } = fake();
    const settings = { user: { username: 'gw', password: password(sealer) } };
    const source = new Source(
      { id: 'line3', driver: 'fake', description: '', enabled: true, settings, tags: [] },
      factory,
      {
        history,
        log,
        dataDir: where,
        sealer: () => sealer,
      },
    );
    return { source, got, close: () => history.close() };
  }

  it('given a source with a sealed secret, when it starts, then the driver gets it opened and nothing it says lets it out', async () => {
    const lines: string[] = [];
    const log = {
      ...silentLogger,
      error: (m: string, f?: Record<string, unknown>) => void lines.push(JSON.stringify({ m, f })),
    };
    const { source, got, close } = sourceWith(
      (sealer) => sealer.seal(CANARY, { driver: 'fake', source: 'line3', field: 'user.password' }),
      log,
    );
    const seen: string[] = [];
    source.onValues((values) => seen.push(JSON.stringify(values)));
    await source.start();
    expect(got).toEqual([CANARY]);
    const everything = [...lines, JSON.stringify(source.health()), ...seen].join('\n');
    expect(everything).toContain('[sealed]');
    expect(everything).not.toContain(CANARY);
    await source.stop();
    close();
  });

  it('given a source whose secret was sealed for another source, when it starts, then it fails naming the setting', async () => {
    const { source, got, close } = sourceWith((sealer) =>
      sealer.seal(CANARY, { driver: 'fake', source: 'other', field: 'user.password' }),
    );
    await source.start();
    expect(got).toEqual([]);
    expect(source.health()).toMatchObject({
      state: 'failed',
      message: expect.stringContaining('source "line3" settings.user.password does not open here'),
    });
    expect(JSON.stringify(source.health())).not.toContain(CANARY);
    await source.stop();
    close();
  });

  it('given secrets in the wrong places, when checked, then plaintext in a secret field and sealed values elsewhere are refused', async () => {
    const { factory } = fake();
    expect(checkSecretFields(factory, { user: { password: 'hunter2' } })).toEqual([
      { path: 'user.password', message: expect.stringContaining('a secret must be sealed') },
    ]);
    expect(checkSecretFields(factory, { host: 'enc:v1:abc', user: { password: 'enc:v1:def' } })).toEqual([
      { path: 'host', message: 'only user.password may hold sealed values' },
    ]);
    await expect(
      parseGatewayConfig(
        'gateway: { id: a, dataDir: . }\nsources:\n  - { id: b, driver: modbus, settings: { host: "enc:v1:abc" } }\n',
        'g.yaml',
      ),
    ).rejects.toThrow(/sources\[0\]\.settings\.host: the modbus driver has no secret settings/);
  });
});
