/**
 * An OPC UA source in a running gateway: history from the server where it keeps it and from local
 * history where it does not, server aggregates next to the core's, browsed tags, and health.
 */
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { generate } from 'selfsigned';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../drivers/core/index.ts';
import { RecordingHost } from '../../drivers/core/testing.ts';
import { trustRejected } from '../../drivers/opcua/index.ts';
import {
  line,
  type OpcuaPeer,
  settingsFor,
  sourceConfig,
  startPeer,
  startTrusted,
} from '../../drivers/opcua/test/peer.ts';
import { exportAudit } from '../audit/verify.ts';
import { loadGatewayConfig } from '../config/load.ts';
import { LocalApiClient } from '../local-api/client.ts';
import { freePort } from '../local-api/free-port.ts';
import { readLocalToken } from '../local-api/token.ts';
import { type RunningGateway, startGateway } from '../runtime.ts';
import { machineIdentity } from '../secrets/machine-identity.ts';
import { Sealer } from '../secrets/sealer.ts';

type History = {
  tags: { tag: string; function?: string; values: { time: string; value: unknown; status: string }[] }[];
};

let peer: OpcuaPeer;
let dataDir: string;
let gateway: RunningGateway;
let client: LocalApiClient;

beforeAll(async () => {
  peer = await startPeer({ tickMs: 100 });
  const dir = mkdtempSync(path.join(os.tmpdir(), 'plantgate-gw-opcua-'));
  dataDir = path.join(dir, 'data');
  // Settle the certificate trust both ways first, in the gateway's own dataDir/pki.
  const host = new RecordingHost();
  host.pkiDir = path.join(dataDir, 'pki');
  const trusted = await startTrusted(peer, sourceConfig(settingsFor(peer), [line('Speed')]), host);
  await trusted.driver.stop();
  const password = Sealer.open(dataDir, await machineIdentity()).seal('plantgate-demo', {
    driver: 'opcua',
    source: 'line',
    field: 'user.password',
  });
  const configFile = path.join(dir, 'gateway.yaml');
  writeFileSync(
    configFile,
    `gateway: { id: test-site, dataDir: ./data }
console: { port: ${await freePort()} }
sources:
  - id: line
    driver: opcua
    settings:
      endpoint: "${peer.endpoint}"
      user: { username: operator, password: "${password}" }
      subscription: { publishingIntervalMs: 100, samplingIntervalMs: 100 }
    tags:
      - { name: Line1.Speed, nodeId: "ns=1;s=Line1.Speed" }
      - { name: Line1.RejectCount, nodeId: "ns=1;s=Line1.RejectCount" }
    browse: { root: "ns=1;s=PackagingLine", depth: 2, nameFilter: "*Alarm" }
`,
  );
  const config = await loadGatewayConfig(configFile).catch((error) => {
    throw new Error(`the config was refused: ${error.message}`);
  });
  gateway = await startGateway(config, silentLogger);
  client = new LocalApiClient(gateway.port, readLocalToken(config.gateway.dataDir));
  await new Promise((resolve) => setTimeout(resolve, 3000));
}, 90_000);

afterAll(async () => {
  await gateway?.stop();
  await peer?.stop();
});

describe('an OPC UA source in the gateway', () => {
  it('given a password in clear and an unknown browse key, when the config is loaded, then both are refused by path', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'plantgate-gw-opcua-cfg-'));
    const file = path.join(dir, 'gateway.yaml');
    writeFileSync(
      file,
      `gateway: { id: x, dataDir: ./data }
sources:
  - id: line
    driver: opcua
    settings: { endpoint: "opc.tcp://127.0.0.1:4840", user: { username: u, password: p } }
    tags: [{ name: A, nodeId: "ns=1;s=A" }]
    browse: { root: "ns=1;s=A", depth: 2, shallow: true }
`,
    );
    const refusal = await loadGatewayConfig(file).then(
      () => '',
      (error: Error) => error.message,
    );
    expect(refusal).toMatch(/sources\[0\]\.browse.*shallow|shallow/);
    const fixed = file.replace('gateway.yaml', 'fixed.yaml');
    writeFileSync(fixed, readFileSync(file, 'utf8').replace(', shallow: true', ''));
    expect(
      await loadGatewayConfig(fixed).then(
        () => '',
        (error: Error) => error.message,
      ),
    ).toContain('sources[0].settings.user.password: a secret must be sealed');
  });

  it('given listed and browsed tags, when searched, then both are there', async () => {
    const { body } = await client.call('tags.search', 'line', { name: '*' });
    expect((body as { tags: { name: string }[] }).tags.map((t) => t.name)).toEqual([
      'Line1.RejectCount',
      'Line1.Speed',
      'PackagingLine.JamAlarm',
      'PackagingLine.LowFilmAlarm',
    ]);
  });

  it('given a tag the server keeps history of and one it does not, when raw values are read, then both answer (server, then local history)', async () => {
    const { status, body } = await client.call('values.raw', 'line', {
      tags: ['Line1.Speed', 'Line1.RejectCount'],
      start: '*-1m',
      end: '*',
    });
    expect(status).toBe(200);
    const [speed, rejects] = (body as History).tags;
    expect(speed!.values.length).toBeGreaterThan(10);
    expect(rejects!.values.length).toBeGreaterThan(0);
    expect(rejects!.values.every((v) => typeof v.value === 'number' && v.status === 'good')).toBe(true);
  });

  it('given AVG (the server has it) and DELTA (it does not), when processed, then each bucket comes from the server or the core', async () => {
    const { status, body } = await client.call('values.processed', 'line', {
      tags: ['Line1.Speed'],
      start: '*-2s',
      end: '*',
      interval: '1s',
      functions: ['AVG', 'DELTA'],
    });
    expect(status).toBe(200);
    const [avg, delta] = (body as History).tags;
    expect(avg).toMatchObject({ function: 'AVG' });
    expect(delta).toMatchObject({ function: 'DELTA' });
    expect(avg!.values).toHaveLength(2);
    expect(delta!.values).toHaveLength(2);
    expect(avg!.values.every((v) => typeof v.value === 'number')).toBe(true);
  });

  it('given times, when read at them, then the historized tag answers from the server and the other from local history', async () => {
    const { status, body } = await client.call('values.atTimes', 'line', {
      tags: ['Line1.Speed', 'Line1.RejectCount'],
      times: ['*-1s', '*-500ms'],
    });
    expect(status).toBe(200);
    for (const t of (body as History).tags) {
      expect(t.values).toHaveLength(2);
      expect(t.values.every((v) => v.status === 'good')).toBe(true);
    }
  });

  it('given a running source, when health is read, then it shows the session and both certificates with their expiry', async () => {
    const { body } = await client.call('health', undefined, {});
    const source = (
      body as { sources: { id: string; state: string; details: Record<string, unknown> }[] }
    ).sources.find((s) => s.id === 'line')!;
    expect(source.state).toBe('running');
    expect(source.details).toMatchObject({
      connected: true,
      securityMode: 'SignAndEncrypt',
      certificates: {
        own: { thumbprint: expect.stringMatching(/^[0-9A-F]{40}$/), daysLeft: expect.any(Number) },
        server: { thumbprint: peer.thumbprint },
      },
    });
  });

  it('given a server certificate rejected and then trusted, when the gateway runs, then both decisions are in its audit log', async () => {
    const pems = await generate([{ name: 'commonName', value: 'another-server' }], {
      keySize: 2048,
    } as never);
    const rejected = path.join(dataDir, 'pki', 'rejected');
    writeFileSync(path.join(rejected, 'another-server.pem'), pems.cert);
    const thumbprint = new X509Certificate(pems.cert).fingerprint.replace(/:/g, '');
    const details = () => [...exportAudit(dataDir, 0, Date.now() + 60_000)].map((r) => r.detail ?? '');
    const seen = async (text: string) => {
      for (let i = 0; i < 40 && !details().some((d) => d.includes(text)); i++)
        await new Promise((r) => setTimeout(r, 250));
      return details().find((d) => d.includes(text));
    };
    expect(await seen(`rejected, waiting for an administrator: ${thumbprint}`)).toContain('another-server');
    trustRejected(path.join(dataDir, 'pki'), thumbprint);
    expect(await seen(`OPC UA server certificate trusted: ${thumbprint}`)).toContain('another-server');
  });
});
