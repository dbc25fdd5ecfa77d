/** Starts a real gateway (history, sources, loopback API) against simulators, in a temp dataDir. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type Logger, silentLogger } from '../../drivers/core/index.ts';
import { startBoilerSimulator } from '../../hardware-tests/simulators/index.ts';
import type { CallContext } from '../api/call-context.ts';
import type { OperationName } from '../api/operations.ts';
import { loadGatewayConfig } from '../config/load.ts';
import { LocalApiClient } from '../local-api/client.ts';
import { readLocalToken } from '../local-api/token.ts';
import { type RunningGateway, startGateway } from '../runtime.ts';

export const BOILER_TAGS = `
      - { name: Boiler1.SteamPressure, address: "holding:100", type: int16, scale: 0.1, units: bar, labels: [pressure] }
      - { name: Boiler1.SteamTemp, address: "holding:102", type: float32, units: °C }
      - { name: Boiler1.PressureSetpoint, address: "holding:120", type: float32, units: bar, writable: true }
      - { name: Boiler1.Running, address: "coil:3", writable: true, description: Burner enabled }
      - { name: Boiler1.Tag, address: "holding:20", type: string, length: 4 }
      - { name: Boiler1.State, address: "holding:131", type: uint16, states: [{ value: 0, name: Off }, { value: 3, name: Firing }] }`;

import { freePort } from '../local-api/free-port.ts';

export { freePort };

export interface Harness {
  gateway: RunningGateway;
  client: LocalApiClient;
  dir: string;
  configFile: string;
  simPort: number;
  stop(): Promise<void>;
}

/** A gateway with a live boiler source and a dead one (nothing listens on its port). */
export async function startHarness(
  options: { pollMs?: number; extraConfig?: string; log?: Logger } = {},
): Promise<Harness> {
  const sim = await startBoilerSimulator({ tickMs: 100 });
  const dir = mkdtempSync(path.join(os.tmpdir(), 'plantgate-gw-'));
  const configFile = path.join(dir, 'gateway.yaml');
  const deadPort = await freePort();
  writeFileSync(
    configFile,
    `gateway: { id: test-site, dataDir: ./data }
console: { port: ${await freePort()} }
sources:
  - id: boiler
    driver: modbus
    settings: { host: 127.0.0.1, port: ${sim.port}, timeoutMs: 500 }
    poll: { intervalMs: ${options.pollMs ?? 100} }
    tags:${BOILER_TAGS}
  - id: dead
    driver: modbus
    settings: { host: 127.0.0.1, port: ${deadPort}, timeoutMs: 200, reconnectMinMs: 100, reconnectMaxMs: 500 }
    tags:
      - { name: Nothing, address: "holding:1" }
${options.extraConfig ?? ''}`,
  );
  const config = await loadGatewayConfig(configFile);
  const gateway = await startGateway(config, options.log ?? silentLogger);
  const client = new LocalApiClient(gateway.port, readLocalToken(config.gateway.dataDir));
  return {
    gateway,
    client,
    dir,
    configFile,
    simPort: sim.port,
    // The gateway of a test that restarted it, not the first one.
    async stop(this: Harness) {
      await this.gateway.stop();
      await sim.stop();
    },
  };
}

/** A caller arriving over the link as `subject` (no groups), as the bridge would name it. */
export const linkCaller = (subject: string): CallContext => ({
  requestId: 'test',
  origin: 'link',
  principal: { subject, groups: [] },
  app: 'test-app',
});

/** Runs an operation on the harness's gateway as a link caller. */
export function runAs(
  h: Harness,
  subject: string,
  operation: OperationName,
  request: unknown,
  source: string | undefined,
): Promise<Record<string, unknown>> {
  return h.gateway.engine.execute(linkCaller(subject), operation, source, request) as Promise<
    Record<string, unknown>
  >;
}

export async function eventually<T>(
  probe: () => Promise<T>,
  ok: (value: T) => boolean,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (ok(value)) return value;
    if (Date.now() > deadline)
      throw new Error(
        `condition not met within ${timeoutMs} ms; last: ${JSON.stringify(value).slice(0, 500)}`,
      );
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
