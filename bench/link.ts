/**
 * The link, on loopback: a bridge (in this process, as the apps' side is), a gateway process enrolled
 * and linked over WSS, and the simulated boiler house.
 * (1) values.snapshot through bridge and link — median and p99 latency one at a time, and requests a
 *     second with 32 in flight — beside the same request to the gateway's local API, and beside a bare
 *     MQTT echo over the same broker (no crypto, no engine: the floor).
 * (2) One million raw values of one tag through the link, beside the same read from the local API.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { type LinkHarness, startLinkHarness } from '../cloud-bridge/test/link-harness.ts';
import { linkTopics } from '../gateway/api/index.ts';
import { HistoryStore } from '../gateway/history/store.ts';
import { readLocalToken } from '../gateway/local-api/token.ts';
import { runLoad } from './http-load.ts';

const RAW_VALUES = 1_000_000;
const RAW_STEP_MS = 100;
const SECONDS = 5;
/** Requests in flight for the throughput runs: a modest load, and one that keeps both cores busy. */
export const CONCURRENCY = [32, 128];

type Send = (body: string) => Promise<{ status: number; text: string }>;

function sender(url: string, headers: Record<string, string>, ca?: string): Send {
  const secure = url.startsWith('https:');
  const agent = secure ? new https.Agent({ keepAlive: true, ca }) : new http.Agent({ keepAlive: true });
  const request = secure ? https.request : http.request;
  return (body) =>
    new Promise((resolve, reject) => {
      const req = request(
        url,
        { method: 'POST', agent, headers: { 'content-type': 'application/json', ...headers } },
        (response) => {
          const parts: Buffer[] = [];
          response.on('data', (p: Buffer) => parts.push(p));
          response.on('end', () =>
            resolve({ status: response.statusCode ?? 0, text: Buffer.concat(parts).toString() }),
          );
        },
      );
      req.on('error', reject);
      req.end(body);
    });
}

const round = (n: number, digits = 2) => Number(n.toFixed(digits));

/** Pipelined echo through the broker: in-process publisher → echo client (a process) → in-process subscriber. */
async function mqttEcho(h: LinkHarness, messages = 20_000) {
  const code = await h.api('/api/v1/gateways', { token: await h.ownToken('admin'), body: { id: 'echo' } });
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'plantgate-bench-echo-'));
  const bin = path.resolve(import.meta.dirname, '../bin/plantgate.js');
  const config = path.join(dataDir, 'gateway.yaml');
  writeFileSync(config, `gateway: { id: echo, dataDir: ./ }\n`);
  await promisify(execFile)(process.execPath, [
    bin,
    'enroll',
    '--config',
    config,
    '--bridge',
    h.bridge.url,
    '--code',
    code.body.code,
    '--ca',
    h.bridge.selfSignedFile as string,
  ]);
  const echo: ChildProcess = spawn(
    process.execPath,
    [
      path.join(import.meta.dirname, 'link-echo-client.ts'),
      `wss://127.0.0.1:${h.bridge.port}/link`,
      dataDir,
      h.bridge.selfSignedFile as string,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  await new Promise<void>((resolve) => echo.stdout?.once('data', () => resolve()));
  let received = 0;
  let finish: () => void = () => undefined;
  const all = new Promise<void>((resolve) => {
    finish = resolve;
  });
  await h.bridge.broker.subscribe(linkTopics.reply('bench', 'echo'), async () => {
    if (++received === messages) finish();
  });
  const payload = Buffer.alloc(400, 1);
  const started = performance.now();
  const publishing: Promise<void>[] = [];
  for (let i = 0; i < messages; i++) {
    publishing.push(h.bridge.broker.publish(linkTopics.request('echo'), payload));
    if (publishing.length >= 256) await publishing.shift();
  }
  await all;
  const seconds = (performance.now() - started) / 1000;
  echo.kill('SIGTERM');
  return { messages, perSecond: Math.round(messages / seconds) };
}

async function rawRead(send: Send, body: string) {
  await send(body); // warm the history pages
  const runs: number[] = [];
  let bytes = 0;
  for (let i = 0; i < 3; i++) {
    const started = performance.now();
    const answer = await send(body);
    const parsed = JSON.parse(answer.text) as { tags: { values: unknown[] }[] };
    runs.push(performance.now() - started);
    if (parsed.tags[0]?.values.length !== RAW_VALUES)
      throw new Error(`expected ${RAW_VALUES} values, got ${parsed.tags[0]?.values.length}`);
    bytes = answer.text.length;
  }
  const seconds = Math.min(...runs) / 1000;
  return {
    seconds: round(seconds, 3),
    valuesPerSecond: Math.round(RAW_VALUES / seconds),
    megabytes: round(bytes / 1e6, 1),
  };
}

export async function runLinkBenchmark() {
  // Inside the default 30-day retention, and over before the benchmark's live values begin.
  const rawStart = Math.floor(Date.now() / 1000) * 1000 - 3 * 86_400_000;
  const h = await startLinkHarness({
    extraBoilerTags: '\n      - { name: Bench.History, address: "holding:600", type: uint16 }',
    beforeGatewayStarts(dataDir) {
      const history = new HistoryStore(dataDir, {
        maxAgeDays: 36500,
        maxSizeMB: 4096,
        heartbeatMs: 600_000,
        flushMs: 30_000,
      });
      for (let i = 0; i < RAW_VALUES; i += 10_000) {
        history.record(
          'boiler',
          Array.from({ length: 10_000 }, (_, k) => ({
            tag: 'Bench.History',
            time: rawStart + (i + k) * RAW_STEP_MS,
            value: (i + k) % 1000,
            status: 'good' as const,
          })),
        );
      }
      history.flush(Date.now(), true);
      history.close();
    },
  });
  try {
    await h.consent('alice');
    const token = await h.appToken('alice');
    const base = `${h.bridge.url}/api/v1/gateways/site-a/sources/boiler`;
    const { parseDocument } = await import('yaml');
    const gatewayDoc = parseDocument(readFileSync(h.gatewayConfig, 'utf8'));
    const localPort = Number(gatewayDoc.getIn(['console', 'port']));
    const localToken = readLocalToken(path.join(h.dir, 'gateway-data'));
    const local = `http://127.0.0.1:${localPort}/api/v1/sources/boiler`;

    const snapshot = JSON.stringify({ tags: ['Boiler1.SteamPressure'] });
    const load = { body: snapshot, seconds: SECONDS, concurrency: CONCURRENCY, warmupSeconds: 2 };
    const snapshotResults = {
      bridge: await runLoad({
        ...load,
        url: `${base}/values/snapshot`,
        headers: { authorization: `Bearer ${token}` },
      }),
      local: await runLoad({
        ...load,
        url: `${local}/values/snapshot`,
        headers: { authorization: `Bearer ${localToken}` },
      }),
      mqttEcho: await mqttEcho(h),
    };

    const raw = JSON.stringify({
      tags: ['Bench.History'],
      start: new Date(rawStart).toISOString(),
      end: new Date(rawStart + RAW_VALUES * RAW_STEP_MS).toISOString(),
      maxValues: RAW_VALUES,
    });
    const rawViaBridge = sender(
      `${base}/values/raw`,
      { authorization: `Bearer ${token}` },
      h.bridge.certificate,
    );
    const rawViaLocal = sender(`${local}/values/raw`, { authorization: `Bearer ${localToken}` });
    const rawResults = { bridge: await rawRead(rawViaBridge, raw), local: await rawRead(rawViaLocal, raw) };
    return {
      snapshot: snapshotResults,
      raw: {
        values: RAW_VALUES,
        ...rawResults,
        bridgeOverLocal: round(rawResults.bridge.seconds / rawResults.local.seconds),
      },
    };
  } finally {
    await h.stop();
  }
}
