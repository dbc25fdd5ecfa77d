/**
 * 10,000 float32 tags polled every second from a loopback simulator for 60 s: CPU share of one core and
 * peak RSS of the gateway process — the single binary as shipped, running `plantgate gateway` and
 * recording every change to local history.
 * The simulator runs in its own process and changes every value every second, the worst case for history.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LocalApiClient } from '../gateway/index.ts';
import { freePort } from '../gateway/local-api/free-port.ts';
import { readLocalToken } from '../gateway/local-api/token.ts';
import { buildBinary } from '../installer/build-binary.ts';
import { dropFromPageCache, measureProcess } from './process-stats.ts';

const root = path.resolve(import.meta.dirname, '..');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function spawnReady(
  command: string,
  args: string[],
  ready: RegExp,
): Promise<{ child: ChildProcess; match: RegExpMatchArray }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let text = '';
    const onData = (d: Buffer) => {
      text += d;
      const match = text.match(ready);
      if (match) resolve({ child, match });
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('exit', (code) => reject(new Error(`${args[0]} exited ${code}: ${text}`)));
  });
}

/**
 * The bulk simulator with `tags` float32 values changing every second, and a gateway config polling
 * them all each second as source `bulk` (plus `extraSources`, YAML list items), in a temp folder.
 */
export async function bulkModbusGateway(tags: number, extraSources = '') {
  const sim = await spawnReady(
    process.execPath,
    [path.join(root, 'bench', 'modbus-bulk-sim.ts'), String(tags)],
    /READY (\d+)/,
  );
  const dir = mkdtempSync(path.join(os.tmpdir(), 'plantgate-bench-'));
  const configFile = path.join(dir, 'gateway.yaml');
  const lines = Array.from(
    { length: tags },
    (_, i) => `      - { name: T${i}, address: "holding:${i * 2}", type: float32 }`,
  );
  const port = await freePort();
  writeFileSync(
    configFile,
    `gateway: { id: bench, dataDir: ./data }\nconsole: { port: ${port} }\nsources:\n  - id: bulk\n    driver: modbus\n    settings: { host: 127.0.0.1, port: ${sim.match[1]} }\n    poll: { intervalMs: 1000 }\n    tags:\n${lines.join('\n')}\n${extraSources}`,
  );
  return { sim, dir, configFile, port };
}

export async function runPollBenchmark(options: { tags?: number; seconds?: number } = {}) {
  const tags = options.tags ?? 10_000;
  const seconds = options.seconds ?? 60;
  const binary = await buildBinary('linux-x64');
  const { sim, dir, configFile, port } = await bulkModbusGateway(tags);
  dropFromPageCache(binary);
  const gateway = await spawnReady(binary, ['gateway', '--config', configFile], /"gateway started"/);
  const pid = gateway.child.pid!;
  try {
    const client = new LocalApiClient(port, readLocalToken(path.join(dir, 'data')));
    const measured = await measureProcess(pid, seconds);
    const health = (await client.call('health', undefined)).body as {
      gateway: { historyMB: number };
      sources: {
        details: { groups: { requestsPerCycle: number; lastCycleMs: number }[]; failedRequests: number };
      }[];
    };
    const details = health.sources[0]!.details;
    const snapshot = (await client.call('values.snapshot', 'bulk', { tags: ['T0', `T${tags - 1}`] }))
      .body as { values: { status: string }[] };
    return {
      name: `modbus poll, ${tags} float32 tags every 1 s for ${seconds} s`,
      tags,
      seconds,
      ...measured,
      requestsPerCycle: details.groups[0]!.requestsPerCycle,
      lastCycleMs: details.groups[0]!.lastCycleMs,
      failedRequests: details.failedRequests,
      historyMB: health.gateway.historyMB,
      valuesGood: snapshot.values.every((v) => v.status === 'good'),
    };
  } finally {
    gateway.child.kill('SIGTERM');
    sim.child.stdin!.end();
    await sleep(300);
  }
}
