import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { schemaText } from '../../config/write-schema.ts';
import { ConfigError, loadGatewayConfig, parseGatewayConfig } from './load.ts';

const problemsOf = async (text: string) => {
  try {
    await parseGatewayConfig(text, 'g.yaml');
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error('the config was accepted');
};

const base = 'gateway: { id: site-a, dataDir: ./data }\n';

describe('gateway config', () => {
  it('given a minimal config, when loaded, then defaults are filled in, dataDir is resolved and the result is frozen', async () => {
    const config = await parseGatewayConfig(
      `${base}sources:\n  - { id: b, driver: modbus, settings: { host: h }, tags: [{ name: x, address: "holding:1" }] }\n`,
      '/etc/pg/g.yaml',
    );
    expect(config.gateway.dataDir).toBe('/etc/pg/data');
    expect(config.console.port).toBe(7443);
    expect(config.sources[0]!.settings).toMatchObject({
      transport: 'tcp',
      port: 502,
      unitId: 1,
      timeoutMs: 1000,
    });
    expect(Object.isFrozen(config.sources[0]!.settings)).toBe(true);
  });

  it('given an unknown key, when loaded, then the error names file, line, path and the key', async () => {
    const [p] = await problemsOf(`${base}console: { port: 7443, bind: 0.0.0.0 }\n`);
    expect(p).toMatchObject({ file: 'g.yaml', line: 2, path: 'console.bind', message: 'unknown key "bind"' });
  });

  it('given bad values in a source, when loaded, then every problem is named with its path', async () => {
    const problems = await problemsOf(
      `${base}sources:\n  - id: b\n    driver: modbus\n    settings: { host: h, port: 70000, transport: udp }\n    tags:\n      - { name: x, address: "holding:1", type: float32, wordOrder: XYZW }\n`,
    );
    expect(problems.map((p) => `${p.line} ${p.path}: ${p.message}`)).toEqual([
      '5 sources[0].settings.transport: must be one of "tcp", "rtu", "rtuOverTcp"',
      '5 sources[0].settings.port: must be <= 65535',
      '7 sources[0].tags[0].wordOrder: must be one of "ABCD", "CDAB", "BADC", "DCBA"',
    ]);
  });

  it('given an OPC UA source, when loaded, then its own rules and file paths are applied, and browse is refused for a driver that cannot browse', async () => {
    const problems = await problemsOf(
      `${base}sources:\n  - id: line\n    driver: opcua\n    settings: { endpoint: "opc.tcp://h:4840", securityMode: None, securityPolicy: Basic128 }\n  - id: line2\n    driver: opcua\n    settings: { endpoint: "opc.tcp://h:4840", securityMode: None }\n  - { id: b, driver: modbus, settings: { host: h }, browse: { root: x } }\n`,
    );
    expect(problems.map((p) => `${p.path}: ${p.message}`)).toEqual([
      'sources[0].settings.securityPolicy: must be one of "Basic256Sha256", "Aes128_Sha256_RsaOaep", "Aes256_Sha256_RsaPss"',
      'sources[1].settings.securityMode: None sends everything unsigned and in clear text; set allowInsecure: true to accept that',
      'sources[1].tags: list tags (name and nodeId) or set browse',
      'sources[2].browse: driver modbus finds no tags by browsing; list them under tags',
    ]);
    const config = await parseGatewayConfig(
      `${base}sources:\n  - id: line\n    driver: opcua\n    settings: { endpoint: "opc.tcp://h:4840", certificate: { certificateFile: user.pem, privateKeyFile: keys/user.key } }\n    browse: { root: "ns=2;s=Line3" }\n`,
      '/etc/pg/g.yaml',
    );
    expect(config.sources[0]!.settings).toMatchObject({
      certificate: { certificateFile: '/etc/pg/user.pem', privateKeyFile: '/etc/pg/keys/user.key' },
      securityMode: 'SignAndEncrypt',
    });
    expect(config.sources[0]!.browse).toEqual({ root: 'ns=2;s=Line3', depth: 3, maxTags: 10000 });
  });

  it('given rules the schema cannot express, when loaded, then the driver check names them', async () => {
    const problems = await problemsOf(
      `${base}sources:\n  - id: b\n    driver: modbus\n    settings: { transport: rtu }\n    tags:\n      - { name: x, address: "input:1", writable: true }\n      - { name: x, address: "coil:1", type: float32 }\n      - { name: y, address: "holding:1", group: nosuch }\n`,
    );
    expect(problems.map((p) => `${p.path}: ${p.message}`)).toEqual([
      'sources[0].settings.serial: transport rtu needs serial.path',
      'sources[0].tags[1].name: duplicate tag name x',
      'sources[0].tags[0].writable: input is read-only in Modbus',
      'sources[0].tags[1].address: coil holds bits: type must be bool, not float32',
      'sources[0].tags[2].group: no poll group nosuch in poll.groups',
    ]);
  });

  it('given duplicate source ids or an unknown driver, when loaded, then both are refused', async () => {
    expect(
      (
        await problemsOf(
          `${base}sources:\n  - { id: a, driver: modbus, settings: { host: h } }\n  - { id: a, driver: modbus, settings: { host: h } }\n`,
        )
      )[0],
    ).toMatchObject({
      path: 'sources[1].id',
      message: 'duplicate source id "a"',
    });
    expect((await problemsOf(`${base}sources:\n  - { id: a, driver: s7 }\n`))[0]!.message).toMatch(
      /must be one of "modbus"/,
    );
  });

  it('given broken YAML or a file that is not a mapping, when loaded, then the error says so with a line', async () => {
    expect((await problemsOf('gateway: { id: a\n'))[0]!.line).toBeGreaterThan(0);
    expect((await problemsOf('- 1\n- 2\n'))[0]!.message).toMatch(/must hold a mapping/);
    expect(
      (await problemsOf('gateway: {id: a, dataDir: x}\ngateway: {id: b, dataDir: y}\n'))[0]!.message,
    ).toMatch(/duplicated mapping key/);
  });

  it('given a missing file, when loaded, then the error names it', async () => {
    await expect(loadGatewayConfig('/nonexistent/g.yaml')).rejects.toThrow(
      /\/nonexistent\/g.yaml: .*cannot read the file: ENOENT/,
    );
  });

  it('given the published schema file, when compared with the definitions, then it is up to date', async () => {
    const file = new URL('../../config/schema/gateway.schema.json', import.meta.url);
    expect(readFileSync(file, 'utf8'), 'run npm run schema').toBe(schemaText());
  });

  it('given every shipped example and the demo config, when validated by the code and by the published schema, then both accept them', async () => {
    const ajv = new Ajv({ strict: false, allErrors: true });
    const validate = ajv.compile(JSON.parse(schemaText()));
    const dir = new URL('../../config/', import.meta.url).pathname;
    const files = [
      ...readdirSync(path.join(dir, 'examples'))
        .filter((f) => !f.startsWith('bridge'))
        .map((f) => path.join(dir, 'examples', f)),
      path.join(dir, 'demo', 'gateway.yaml'),
    ];
    expect(files.length).toBeGreaterThanOrEqual(4);
    for (const file of files) {
      const config = await parseGatewayConfig(readFileSync(file, 'utf8'), file);
      const { file: _, ...plain } = config;
      expect(validate(JSON.parse(JSON.stringify(plain))), `${file}: ${ajv.errorsText(validate.errors)}`).toBe(
        true,
      );
    }
    // And the published schema refuses what the code refuses.
    expect(
      validate({
        gateway: { id: 'a', dataDir: 'x' },
        sources: [{ id: 'b', driver: 'modbus', settings: { port: 0 } }],
      }),
    ).toBe(false);
  });

  it('given a config on disk with a key this version does not know, when loaded, then it is refused with its place', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'plantgate-config-'));
    const file = path.join(dir, 'g.yaml');
    writeFileSync(file, `${base}sources: []\ntelemetry: { url: x }\n`);
    await expect(loadGatewayConfig(file)).rejects.toThrow(/g.yaml:3:12: telemetry: unknown key "telemetry"/);
  });
});
