/**
 * HTTP load for the benchmarks, driven by `wrk` (Debian package `wrk`): a load generator in C, so the
 * client's own HTTP and TLS work takes little of the two cores the servers under test share with it (a
 * Node client costs about 0.3 ms of CPU a request, as much as a third of what is measured). Median and
 * p99 latency one request at a time, then requests a second at each number in flight, all over
 * keep-alive connections.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

export interface LoadSpec {
  url: string;
  headers: Record<string, string>;
  body: string;
  seconds: number;
  /** Requests in flight for each throughput run. */
  concurrency: number[];
  /** Seconds of load before anything is timed. */
  warmupSeconds: number;
}

export interface LoadResult {
  requests: number;
  medianMs: number;
  p99Ms: number;
  /** Requests a second at each number in flight. */
  perSecond: Record<number, number>;
  /** Answers other than 2xx, and socket errors, over all runs. */
  failed: number;
}

interface WrkRun {
  requests: number;
  perSecond: number;
  medianMs: number;
  p99Ms: number;
  failed: number;
}

const MS = { us: 0.001, ms: 1, s: 1000 } as const;

function latencyMs(text: string, percentile: string): number {
  const match = new RegExp(`^\\s*${percentile}%\\s+([\\d.]+)(us|ms|s)\\s*$`, 'm').exec(text);
  if (!match) throw new Error(`wrk printed no ${percentile}% latency:\n${text}`);
  return Number((Number(match[1]) * MS[match[2] as keyof typeof MS]).toFixed(2));
}

/** Reads wrk's report (`--latency`). */
export function parseWrk(text: string): WrkRun {
  const requests = Number(/(\d+) requests in/.exec(text)?.[1] ?? Number.NaN);
  const perSecond = Number(/Requests\/sec:\s+([\d.]+)/.exec(text)?.[1] ?? Number.NaN);
  if (!Number.isFinite(requests) || !Number.isFinite(perSecond))
    throw new Error(`wrk's report has no request counts:\n${text}`);
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(text)?.[1] ?? 0);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  const socketErrors = socket ? socket.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0;
  return {
    requests,
    perSecond: Math.round(perSecond),
    medianMs: latencyMs(text, '50'),
    p99Ms: latencyMs(text, '99'),
    failed: non2xx + socketErrors,
  };
}

export function requireWrk(): void {
  try {
    execFileSync('wrk', ['--version'], { stdio: 'ignore' });
  } catch (error) {
    // wrk --version exits 1 after printing its version; only a missing binary throws ENOENT.
    if ((error as NodeJS.ErrnoException).code === 'ENOENT')
      throw new Error('the HTTP benchmarks need wrk: apt-get install wrk');
  }
}

export async function runLoad(spec: LoadSpec): Promise<LoadResult> {
  requireWrk();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'plantgate-wrk-'));
  const script = path.join(dir, 'request.lua');
  const lua = (value: string) => JSON.stringify(value); // a JSON string is a valid Lua string literal here
  writeFileSync(
    script,
    [
      'wrk.method = "POST"',
      `wrk.body = ${lua(spec.body)}`,
      'wrk.headers["Content-Type"] = "application/json"',
      ...Object.entries(spec.headers).map(([name, value]) => `wrk.headers[${lua(name)}] = ${lua(value)}`),
    ].join('\n'),
  );
  const wrk = async (connections: number, seconds: number) => {
    const { stdout } = await promisify(execFile)('wrk', [
      '-t1',
      `-c${connections}`,
      `-d${seconds}s`,
      '--latency',
      '-s',
      script,
      spec.url,
    ]);
    return parseWrk(stdout);
  };
  try {
    await wrk(4, spec.warmupSeconds);
    const single = await wrk(1, spec.seconds);
    const perSecond: Record<number, number> = {};
    let failed = single.failed;
    for (const connections of spec.concurrency) {
      const run = await wrk(connections, spec.seconds);
      perSecond[connections] = run.perSecond;
      failed += run.failed;
    }
    return { requests: single.requests, medianMs: single.medianMs, p99Ms: single.p99Ms, perSecond, failed };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
