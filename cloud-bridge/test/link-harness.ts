/**
 * A bridge (in this process, real TLS and broker), a development token issuer, and a real gateway
 * process enrolled with `plantgate enroll` and linked over WSS, polling the simulated boiler house.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { silentLogger } from '../../drivers/core/index.ts';
import { BOILER_TAGS, eventually, freePort } from '../../gateway/test/harness.ts';
import { startBoilerSimulator } from '../../hardware-tests/simulators/index.ts';
import { parseBridgeConfig } from '../config.ts';
import { createDevIssuer, type DevIssuer, type RunningBridge, startBridge } from '../index.ts';

const BIN = path.resolve(import.meta.dirname, '../../bin/plantgate.js');
export const CLIENT_ID = 'plantgate-bridge';
export const APP = 'trend-viewer';

export interface HttpAnswer {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: answers are arbitrary JSON that the assertions read
  body: any;
  text: string;
}

export function httpsJson(
  url: string,
  ca: string,
  options: { method?: string; token?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<HttpAnswer> {
  const payload = options.body === undefined ? undefined : Buffer.from(JSON.stringify(options.body));
  return new Promise((resolve, reject) => {
    const request = https.request(
      url,
      {
        method: options.method ?? (payload ? 'POST' : 'GET'),
        ca,
        headers: {
          ...(payload ? { 'content-type': 'application/json' } : {}),
          ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
          ...options.headers,
        },
      },
      (response) => {
        const parts: Buffer[] = [];
        response.on('data', (p: Buffer) => parts.push(p));
        response.on('end', () => {
          const text = Buffer.concat(parts).toString('utf8');
          let body: unknown;
          try {
            body = text ? JSON.parse(text) : undefined;
          } catch {
            body = undefined;
          }
          resolve({ status: response.statusCode ?? 0, body, text });
        });
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    request.end(payload);
  });
}

export interface LinkHarness {
  bridge: RunningBridge;
  issuer: DevIssuer;
  dir: string;
  gatewayConfig: string;
  gateway: ChildProcess;
  /** Calls the bridge's API. */
  api(pathname: string, options?: Parameters<typeof httpsJson>[2]): Promise<HttpAnswer>;
  /** A token of the bridge's own client (consent, administration). */
  ownToken(sub: string, claims?: Record<string, unknown>): Promise<string>;
  /** A token issued to the app. */
  appToken(sub: string, claims?: Record<string, unknown>): Promise<string>;
  consent(sub: string, sourceId?: string, app?: string): Promise<string>;
  /** The gateway's audit records, as `plantgate audit export` prints them. */
  gatewayAudit(): Promise<{ outcome: string; detail?: string; requestId?: string }[]>;
  startGateway(): Promise<void>;
  stopGateway(): Promise<void>;
  stop(): Promise<void>;
}

export interface LinkHarnessOptions {
  /** Role rules (YAML lines under access.rules). */
  rules?: string;
  /** More tags for the boiler source (YAML lines). */
  extraBoilerTags?: string;
  /** An HTTP proxy the gateway's enrollment and link go through. */
  proxy?: string;
  /** Runs the bridge's development identity provider too (people sign in to the bridge's pages). */
  devIssuer?: boolean;
  /** The pages' inactivity timeout (auth.session.idleMinutes). */
  sessionIdleMinutes?: number;
  /** Runs after enrollment, before the gateway starts, with the gateway's dataDir. */
  beforeGatewayStarts?: (dataDir: string) => Promise<void> | void;
}

export async function startLinkHarness(options: LinkHarnessOptions = {}): Promise<LinkHarness> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'plantgate-link-'));
  const issuer = await createDevIssuer(path.join(dir, 'jwks.json'));
  const bridgeFile = path.join(dir, 'bridge.yaml');
  const bridgeText = `bridge:
  listen: { host: 127.0.0.1, port: 0 }
  dataDir: ./bridge-data
auth:
  clientId: ${CLIENT_ID}${options.devIssuer ? '\n  devIssuer: true' : ''}${options.sessionIdleMinutes ? `\n  session: { idleMinutes: ${options.sessionIdleMinutes} }` : ''}
  issuers:
    - { issuer: "${issuer.issuer}", audience: "${issuer.audience}", jwksFile: ./jwks.json, organisation: testorg }
  globalAdmins: [{ organisation: testorg, principal: "user:root" }]
organisations:
  testorg: { admins: ["user:admin"], appPolicy: allowListed, allowedApps: [${APP}] }
  otherorg: { admins: ["user:other-admin"] }
`;
  writeFileSync(bridgeFile, bridgeText);
  const bridge = await startBridge(await parseBridgeConfig(bridgeText, bridgeFile), silentLogger);
  const sim = await startBoilerSimulator({ tickMs: 100 });
  // A device that takes connections and never answers: writes to it hang until their timeout.
  const stuckSockets = new Set<net.Socket>();
  const stuck = net.createServer((socket) => {
    stuckSockets.add(socket);
    socket.on('close', () => stuckSockets.delete(socket));
  });
  await new Promise<void>((resolve) => stuck.listen(0, '127.0.0.1', resolve));
  const gatewayConfig = path.join(dir, 'gateway.yaml');
  writeFileSync(
    gatewayConfig,
    `gateway: { id: site-a, dataDir: ./gateway-data }
console: { port: ${await freePort()} }
link: { bridge: "wss://127.0.0.1:${bridge.port}/link", caFile: ${bridge.selfSignedFile}${options.proxy ? `, proxy: "${options.proxy}"` : ''} }
sources:
  - id: boiler
    driver: modbus
    settings: { host: 127.0.0.1, port: ${sim.port}, timeoutMs: 500 }
    poll: { intervalMs: 100 }
    tags:${BOILER_TAGS}${options.extraBoilerTags ?? ''}
  - id: stuck
    driver: modbus
    settings: { host: 127.0.0.1, port: ${(stuck.address() as net.AddressInfo).port}, timeoutMs: 15000, retries: 0 }
    poll: { intervalMs: 60000 }
    tags:
      - { name: Valve, address: "holding:1", writable: true }
access:
  rules:
${
  options.rules ??
  `    - { principal: "user:alice", sources: [boiler, stuck], roles: [read, writeValues, writeAnnotations] }
    - { principal: "group:operators", sources: [boiler], roles: [read] }`
}
`,
  );
  const ca = bridge.certificate;
  const api = (pathname: string, o: Parameters<typeof httpsJson>[2] = {}) =>
    httpsJson(`${bridge.url}${pathname}`, ca, o);
  const ownToken = (sub: string, claims: Record<string, unknown> = {}) =>
    issuer.mint({ sub, azp: CLIENT_ID, ...claims });
  const appToken = (sub: string, claims: Record<string, unknown> = {}) =>
    issuer.mint({ sub, azp: APP, ...claims });

  const enrollment = await api('/api/v1/gateways', {
    token: await ownToken('admin'),
    body: { id: 'site-a' },
  });
  if (enrollment.status !== 201) throw new Error(`enrollment code: ${enrollment.text}`);
  await promisify(execFile)(process.execPath, [
    BIN,
    'enroll',
    '--config',
    gatewayConfig,
    '--code',
    enrollment.body.code,
  ]);

  await options.beforeGatewayStarts?.(path.join(dir, 'gateway-data'));
  let gateway: ChildProcess | undefined;
  const harness: LinkHarness = {
    bridge,
    issuer,
    dir,
    gatewayConfig,
    get gateway() {
      return gateway as ChildProcess;
    },
    api,
    ownToken,
    appToken,
    async consent(sub, sourceId = 'boiler', app = APP) {
      const answer = await api('/api/v1/consents', {
        token: await ownToken(sub),
        body: { app, gatewayId: 'site-a', sourceId },
      });
      if (answer.status !== 201) throw new Error(`consent: ${answer.text}`);
      return answer.body.id as string;
    },
    async gatewayAudit() {
      const { stdout } = await promisify(execFile)(process.execPath, [
        BIN,
        'audit',
        'export',
        '--config',
        gatewayConfig,
      ]);
      return stdout
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line));
    },
    async startGateway() {
      gateway = spawn(process.execPath, [BIN, 'gateway', '--config', gatewayConfig, '--log-level', 'warn'], {
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      await eventually(
        async () => bridge.broker.isOnline('site-a'),
        (online) => online,
        20_000,
      );
    },
    async stopGateway() {
      const proc = gateway;
      if (!proc || proc.exitCode !== null) return;
      await new Promise((resolve) => {
        proc.once('exit', resolve);
        proc.kill('SIGTERM');
      });
    },
    async stop() {
      await harness.stopGateway();
      await bridge.stop();
      await sim.stop();
      for (const socket of stuckSockets) socket.destroy();
      await new Promise((resolve) => stuck.close(resolve));
    },
  };
  await harness.startGateway();
  return harness;
}
