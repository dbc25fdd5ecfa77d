/**
 * 10,000 monitored items at 1 s publishing for 60 s: CPU share of one core and peak RSS of the gateway
 * process — the single binary as shipped, running `plantgate gateway` over SignAndEncrypt
 * (Basic256Sha256), its tags browsed from the server, every change recorded to local history.
 * The server (the packaging-line simulator with 10,000 extra variables) runs in its own process and
 * changes every value every second, so every item reports every publish.
 */
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LocalApiClient } from '../gateway/index.ts';
import { freePort } from '../gateway/local-api/free-port.ts';
import { readLocalToken } from '../gateway/local-api/token.ts';
import { buildBinary } from '../installer/build-binary.ts';
import { spawnReady } from './modbus-poll.ts';
import { dropFromPageCache, measureProcess } from './process-stats.ts';

const root = path.resolve(import.meta.dirname, '..');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface SourceHealth {
  state: string;
  tags: number;
  details: { monitoredItems: number; refusedItems: number; connected: boolean; publishingIntervalMs: number };
}

export async function runOpcuaBenchmark(options: { items?: number; seconds?: number } = {}) {
  const items = options.items ?? 10_000;
  const seconds = options.seconds ?? 60;
  const binary = await buildBinary('linux-x64');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'plantgate-bench-opcua-'));
  const simPki = path.join(dir, 'simulator');
  const sim = await spawnReady(
    process.execPath,
    [
      path.join(root, 'bin', 'plantgate.js'),
      ...[
        'sim',
        'opcua',
        '--port',
        '0',
        '--pki',
        simPki,
        '--bench-items',
        String(items),
        '--tick-ms',
        '1000',
      ],
      ...['--accept-any-client', '--json', '--exit-on-stdin-end'],
    ],
    /"endpoint":"([^"]+)"/,
  );
  const dataDir = path.join(dir, 'data');
  const trusted = path.join(dataDir, 'pki', 'trusted', 'certs');
  mkdirSync(trusted, { recursive: true });
  copyFileSync(
    path.join(simPki, 'server', 'own', 'certs', 'server_certificate.pem'),
    path.join(trusted, 'simulator.pem'),
  );
  const configFile = path.join(dir, 'gateway.yaml');
  const port = await freePort();
  writeFileSync(
    configFile,
    `gateway: { id: bench, dataDir: ./data }
console: { port: ${port} }
sources:
  - id: bulk
    driver: opcua
    settings:
      endpoint: "${sim.match[1]}"
      securityMode: SignAndEncrypt
      securityPolicy: Basic256Sha256
      subscription: { publishingIntervalMs: 1000, samplingIntervalMs: 1000, queueSize: 1 }
    browse: { root: "ns=1;s=Bench", depth: 1, maxTags: ${items} }
`,
  );
  dropFromPageCache(binary);
  const gateway = await spawnReady(binary, ['gateway', '--config', configFile], /"gateway started"/);
  const pid = gateway.child.pid!;
  try {
    const client = new LocalApiClient(port, readLocalToken(dataDir));
    const source = async () =>
      ((await client.call('health', undefined)).body as { sources: SourceHealth[] }).sources[0]!;
    const deadline = Date.now() + 120_000;
    while ((await source()).details?.monitoredItems !== items) {
      if (Date.now() > deadline)
        throw new Error(`the source never monitored ${items} items: ${JSON.stringify(await source())}`);
      await sleep(500);
    }
    const measured = await measureProcess(pid, seconds);
    const health = await source();
    const first = 'Bench.Item00000';
    const last = `Bench.Item${String(items - 1).padStart(5, '0')}`;
    const snapshot = (
      await client.call('values.snapshot', 'bulk', { tags: [`ns=1;s=${first}`, `ns=1;s=${last}`] })
    ).body as { values: { status: string; time: string }[] };
    return {
      name: `opcua subscribe, ${items} monitored items at 1 s publishing for ${seconds} s`,
      items,
      seconds,
      securityMode: 'SignAndEncrypt',
      ...measured,
      monitoredItems: health.details.monitoredItems,
      refusedItems: health.details.refusedItems,
      publishingIntervalMs: health.details.publishingIntervalMs,
      valuesGood: snapshot.values.every((v) => v.status === 'good'),
      latestValueAgeMs: Math.max(...snapshot.values.map((v) => Date.now() - Date.parse(v.time))),
    };
  } finally {
    gateway.child.kill('SIGTERM');
    sim.child.stdin!.end();
    await sleep(300);
  }
}
