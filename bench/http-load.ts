/**
 * HTTP load for the benchmarks, run in a worker thread so the client's own work (HTTP, TLS, JSON) does
 * not share an event loop with a server in the benchmark's process: median and p99 latency one request
 * at a time, then requests a second with several in flight, all with keep-alive connections.
 */
import http from 'node:http';
import https from 'node:https';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';

export interface LoadSpec {
  url: string;
  headers: Record<string, string>;
  body: string;
  ca?: string;
  seconds: number;
  concurrency: number;
  /** Only time the first request of each run after this many warm-up requests. */
  warmup: number;
}

export interface LoadResult {
  requests: number;
  medianMs: number;
  p99Ms: number;
  perSecond: number;
  failed: number;
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0;
const round = (n: number) => Number(n.toFixed(2));

async function measure(spec: LoadSpec): Promise<LoadResult> {
  const secure = spec.url.startsWith('https:');
  const agent = secure
    ? new https.Agent({ keepAlive: true, ca: spec.ca })
    : new http.Agent({ keepAlive: true });
  const request = secure ? https.request : http.request;
  const send = () =>
    new Promise<number>((resolve, reject) => {
      const req = request(
        spec.url,
        { method: 'POST', agent, headers: { 'content-type': 'application/json', ...spec.headers } },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      );
      req.on('error', reject);
      req.end(spec.body);
    });
  for (let i = 0; i < spec.warmup; i++) await send();
  const times: number[] = [];
  let until = performance.now() + spec.seconds * 1000;
  while (performance.now() < until) {
    const started = performance.now();
    if ((await send()) !== 200) throw new Error(`HTTP error from ${spec.url}`);
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  let done = 0;
  let failed = 0;
  until = performance.now() + spec.seconds * 1000;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: spec.concurrency }, async () => {
      while (performance.now() < until) {
        if ((await send()) === 200) done++;
        else failed++;
      }
    }),
  );
  return {
    requests: times.length,
    medianMs: round(percentile(times, 0.5)),
    p99Ms: round(percentile(times, 0.99)),
    perSecond: Math.round(done / ((performance.now() - started) / 1000)),
    failed,
  };
}

export function runLoad(spec: LoadSpec): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL(import.meta.url), { workerData: spec });
    worker.once('message', resolve);
    worker.once('error', reject);
  });
}

if (!isMainThread) parentPort?.postMessage(await measure(workerData as LoadSpec));
