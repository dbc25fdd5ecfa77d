/**
 * A canary secret sealed into a source whose driver carelessly repeats it (in logs, value errors, health
 * and thrown errors) never comes out of the gateway: not in its logs, answers, errors, health, audit
 * records or config problems.
 */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Type } from '@sinclair/typebox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DriverFactory, Tag } from '../../drivers/core/index.ts';
import { numericTag } from '../../drivers/core/testing.ts';
import type { CallContext } from '../api/call-context.ts';
import { ConfigError, loadGatewayConfig, parseGatewayConfig } from '../config/load.ts';
import { LocalApiClient } from '../local-api/client.ts';
import { readLocalToken } from '../local-api/token.ts';
import { type RunningGateway, startGateway } from '../runtime.ts';
import { machineIdentity } from '../secrets/machine-identity.ts';
import { Sealer } from '../secrets/sealer.ts';
import { DRIVERS } from '../sources/driver-registry.ts';
import { freePort } from './harness.ts';

const CANARY = 'canary-Zq7e2e-0451';

const tag: Tag = numericTag('Vault.Level');

/** A driver with a password that repeats it wherever it can. */
const careless: DriverFactory = {
  name: 'vault',
  settingsSchema: Type.Object(
    {
      user: Type.Object(
        { username: Type.String(), password: Type.String() },
        { additionalProperties: false },
      ),
    },
    { additionalProperties: false },
  ),
  tagSchema: Type.Object({}),
  secretFields: ['user.password'],
  create(config, host) {
    const password = (config.settings as { user: { password: string } }).user.password;
    return {
      async start() {
        host.log.warn(`logging in with ${password}`, { password });
        host.update([
          { tag: tag.id, time: Date.now(), value: null, status: 'bad', error: `login ${password} refused` },
        ]);
      },
      async stop() {},
      health: () => ({ state: 'degraded', message: `login as ${password} failed`, details: { password } }),
      listTags: () => [tag],
      readSnapshot: async () => {
        throw new Error(`read failed with ${password}`);
      },
      writeValues: async (requests: readonly unknown[]) =>
        requests.map(() => ({
          ok: false as const,
          code: 'PG_ERR_BAD_VALUE',
          message: `${password} rejected the write`,
        })),
    } as never;
  },
};

let gateway: RunningGateway;
let dataDir: string;
let configFile: string;
const logs: string[] = [];
const answers: string[] = [];

beforeAll(async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'plantgate-canary-'));
  dataDir = path.join(dir, 'data');
  const sealed = Sealer.open(dataDir, await machineIdentity()).seal(CANARY, {
    driver: 'vault',
    source: 'vault1',
    field: 'user.password',
  });
  configFile = path.join(dir, 'gateway.yaml');
  writeFileSync(
    configFile,
    `gateway: { id: canary, dataDir: ./data }
console: { port: ${await freePort()} }
sources:
  - { id: vault1, driver: vault, settings: { user: { username: gw, password: "${sealed}" } } }
access:
  rules:
    - { principal: "user:alice", sources: [vault1], roles: [read, writeValues] }
`,
  );
  const line = (level: string) => (message: string, fields?: Record<string, unknown>) =>
    void logs.push(JSON.stringify({ level, message, fields }));
  const config = await loadGatewayConfig(configFile, [...DRIVERS, careless]);
  gateway = await startGateway(
    config,
    { debug: line('debug'), info: line('info'), warn: line('warn'), error: line('error') },
    { drivers: [...DRIVERS, careless] },
  );
}, 30_000);
afterAll(async () => gateway?.stop());

const alice: CallContext = {
  requestId: 'canary',
  origin: 'link',
  principal: { subject: 'user:alice', groups: [] },
  app: 'canary-app',
};
const capture = async (run: () => Promise<unknown>) => {
  try {
    answers.push(JSON.stringify(await run()));
  } catch (error) {
    answers.push(JSON.stringify({ message: (error as Error).message, error }));
  }
};

describe('a sealed secret in a running gateway', () => {
  it('given a driver that repeats its password everywhere, when the gateway is used, then the password never comes out', async () => {
    await capture(() =>
      gateway.engine.execute(alice, 'values.snapshot', 'vault1', { tags: ['Vault.Level'] }),
    );
    await capture(() =>
      gateway.engine.execute(alice, 'values.write', 'vault1', { values: [{ tag: 'Vault.Level', value: 1 }] }),
    );
    await capture(() =>
      gateway.engine.execute(alice, 'values.raw', 'vault1', {
        tags: ['Vault.Level'],
        start: '*-1h',
        end: '*',
      }),
    );
    await capture(() => gateway.engine.execute(alice, 'tags.search', 'vault1', {}));
    const client = new LocalApiClient(gateway.port, readLocalToken(dataDir));
    for (const [operation, request] of [
      ['health', {}],
      ['values.snapshot', { tags: ['Vault.Level'] }],
    ] as const) {
      const answer = await client.call(operation, operation === 'health' ? undefined : 'vault1', request);
      answers.push(JSON.stringify(answer));
    }
    const audit = readdirSync(path.join(dataDir, 'audit'))
      .map((f) => readFileSync(path.join(dataDir, 'audit', f), 'utf8'))
      .join('\n');
    const history = readFileSync(path.join(dataDir, 'history.sqlite'));
    // The operations really ran and reached the careless driver.
    expect(answers.join('\n')).toContain('[sealed]');
    expect(logs.join('\n')).toContain('[sealed]');
    expect(audit).toContain('values.write');
    for (const [where, text] of [
      ['logs', logs.join('\n')],
      ['answers and errors', answers.join('\n')],
      ['audit records', audit],
      ['local history', history.toString('latin1')],
      ['config file', readFileSync(configFile, 'utf8')],
    ]) {
      expect(text, where).not.toContain(CANARY);
    }
  });

  it('given the secret in plaintext or moved to another source, when the config is checked or started, then the problem is named without the secret', async () => {
    const plain = readFileSync(configFile, 'utf8').replace(/password: "[^"]+"/, `password: "${CANARY}"`);
    const error = await parseGatewayConfig(plain, configFile, [...DRIVERS, careless]).catch(
      (e: ConfigError) => e,
    );
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toContain(
      'sources[0].settings.user.password: a secret must be sealed',
    );
    expect((error as ConfigError).message).not.toContain(CANARY);
    const health = gateway.registry.get('vault1').health();
    expect(JSON.stringify(health)).not.toContain(CANARY);
  });
});
