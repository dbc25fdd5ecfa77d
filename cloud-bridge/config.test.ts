import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { bridgeSchemaText } from '../config/write-schema.ts';
import { parseBridgeConfig } from './config.ts';

const config = (body: string) => parseBridgeConfig(body, '/etc/plantgate/bridge.yaml');
const base = `bridge: { dataDir: ./var }
auth:
  clientId: plantgate-bridge
  issuers:
    - { issuer: "https://idp.test", audience: "api://plantgate", jwksFile: ./jwks.json, organisation: testorg }
`;

describe('bridge config', () => {
  it('the published schema is current, and the shipped bridge configs pass the code and the schema', async () => {
    const file = new URL('../config/schema/bridge.schema.json', import.meta.url);
    expect(readFileSync(file, 'utf8'), 'run npm run schema').toBe(bridgeSchemaText());
    const validate = new Ajv({ strict: false }).compile(JSON.parse(bridgeSchemaText()));
    for (const name of ['examples/bridge.yaml', 'demo/bridge.yaml']) {
      const path = new URL(`../config/${name}`, import.meta.url).pathname;
      const parsed = await parseBridgeConfig(readFileSync(path, 'utf8'), path);
      const { file: _, ...plain } = parsed;
      expect(validate(JSON.parse(JSON.stringify(plain))), name).toBe(true);
    }
  });

  it('fills defaults and resolves paths against the file', async () => {
    const parsed = await config(`${base}organisations: { testorg: {} }\n`);
    expect(parsed.bridge.listen).toEqual({ host: '0.0.0.0', port: 443 });
    expect(parsed.bridge.dataDir).toBe('/etc/plantgate/var');
    expect(parsed.auth.issuers[0]?.jwksFile).toBe('/etc/plantgate/jwks.json');
    expect(parsed.organisations.testorg?.appPolicy).toBe('allowListed');
  });

  it('refuses unknown keys, an issuer without keys or organisation, and a certificate without its key', async () => {
    await expect(config(`${base}organisations: { testorg: {} }\nextra: 1\n`)).rejects.toThrow(
      /bridge.yaml:\d+:\d+: extra: unknown key "extra"/,
    );
    await expect(
      config(`bridge: { dataDir: ./var }
auth:
  clientId: c
  issuers: [{ issuer: i, audience: a, organisation: nowhere }]
organisations: {}
`),
    ).rejects.toThrow(
      /auth.issuers\[0\]: needs exactly one of jwksUri and jwksFile[\s\S]*no organisation "nowhere"/,
    );
    await expect(
      config(
        `${base}organisations: { testorg: {} }\n`.replace(
          'dataDir: ./var',
          'dataDir: ./var, listen: { cert: ./c.pem }',
        ),
      ),
    ).rejects.toThrow(/bridge.listen: cert and key go together/);
  });
  it('takes the development identity provider only on loopback, with an organisation for its accounts', async () => {
    const dev = (host: string, orgs = 'organisations: { demo: {} }') =>
      config(
        `bridge: { dataDir: ./var, listen: { host: ${host} } }\nauth: { clientId: c, devIssuer: true }\n${orgs}\n`,
      );
    const parsed = await dev('127.0.0.1');
    expect(parsed.auth).toMatchObject({
      devIssuer: true,
      issuers: [],
      session: { idleMinutes: 30, lifetimeHours: 12 },
    });
    await expect(dev('0.0.0.0')).rejects.toThrow(
      /auth.devIssuer: the development identity provider is only for a bridge on loopback/,
    );
    await expect(dev('127.0.0.1', 'organisations: {}')).rejects.toThrow(
      /auth.devIssuer: needs an organisation/,
    );
    await expect(
      config('bridge: { dataDir: ./var }\nauth: { clientId: c }\norganisations: {}\n'),
    ).rejects.toThrow(/auth.issuers: needs at least one issuer/);
  });
});
