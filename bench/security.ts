/**
 * Security overheads: (1) audit records per second with durable group commit, from many concurrent
 * writers; (2) the latency the access check and the audit record add to a snapshot request, at 5,000
 * requests a second against a gateway polling the boiler simulator (median and p99, with and without);
 * (3) the floor under (2): what one fdatasync of a small append costs on this disk, the least any record
 * that is durable before its answer leaves can add.
 */
import { closeSync, fdatasyncSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { silentLogger } from '../drivers/core/index.ts';
import { withAccess } from '../gateway/access/interceptor.ts';
import { AccessPolicy } from '../gateway/access/policy.ts';
import type { CallContext } from '../gateway/api/call-context.ts';
import { withAudit } from '../gateway/audit/interceptor.ts';
import { AuditLog } from '../gateway/audit/log.ts';
import { compose, type Handler } from '../gateway/query/pipeline.ts';

export async function auditThroughput(total = 100_000, writers = 256) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'plantgate-bench-audit-'));
  const log = new AuditLog(dir, silentLogger);
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: writers }, async () => {
      while (next < total) {
        next++;
        await log.append({
          kind: 'operation',
          principal: 'user:bench',
          source: 'boiler',
          operation: 'values.snapshot',
          outcome: 'ok',
          tagCount: 1,
        });
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const flushes = log.flushes;
  await log.close();
  rmSync(dir, { recursive: true, force: true });
  return {
    records: total,
    writers,
    seconds: Number(seconds.toFixed(2)),
    recordsPerSecond: Math.round(total / seconds),
    flushes,
  };
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;

/** Latency of `handler` calls issued at `rate` per second for `seconds`, in µs. */
async function paced(handler: Handler, rate: number, seconds: number) {
  const ctx: CallContext = {
    requestId: 'b',
    origin: 'link',
    principal: { subject: 'user:bench', groups: ['operators'] },
    app: 'bench',
  };
  const latencies: number[] = [];
  const pending: Promise<unknown>[] = [];
  const total = rate * seconds;
  const started = performance.now();
  for (let i = 0; i < total; i++) {
    const due = started + (i * 1000) / rate;
    while (performance.now() < due) await new Promise((resolve) => setImmediate(resolve));
    const t0 = performance.now();
    pending.push(
      handler({
        ctx,
        operation: 'values.snapshot',
        sourceId: 'boiler',
        request: { tags: ['Boiler1.SteamPressure'] },
        signal: AbortSignal.timeout(10_000),
      }).then(() => latencies.push((performance.now() - t0) * 1000)),
    );
  }
  await Promise.all(pending);
  const achieved = total / ((performance.now() - started) / 1000);
  latencies.sort((a, b) => a - b);
  return {
    achievedPerSecond: Math.round(achieved),
    medianUs: Math.round(percentile(latencies, 0.5)),
    p99Us: Math.round(percentile(latencies, 0.99)),
  };
}

/** One small record appended and fdatasync'ed at a time, as the audit log does for a lone request. */
export function fdatasyncFloor(appends = 2000) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'plantgate-bench-fsync-'));
  const fd = openSync(path.join(dir, 'records'), 'a');
  const record = Buffer.alloc(300, 0x61);
  const latencies: number[] = [];
  for (let i = 0; i < appends; i++) {
    const t0 = performance.now();
    writeSync(fd, record);
    fdatasyncSync(fd);
    latencies.push((performance.now() - t0) * 1000);
  }
  closeSync(fd);
  rmSync(dir, { recursive: true, force: true });
  latencies.sort((a, b) => a - b);
  return {
    appends,
    medianUs: Math.round(percentile(latencies, 0.5)),
    p99Us: Math.round(percentile(latencies, 0.99)),
  };
}

export async function accessAuditLatency(rate = 5000, seconds = 5) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'plantgate-bench-latency-'));
  const log = new AuditLog(dir, silentLogger);
  const policy = new AccessPolicy([{ principal: 'group:operators', sources: ['boiler'], roles: ['read'] }]);
  // The operation itself stands in as a constant answer, so only the wrappers are measured.
  const answer = {
    values: [{ tag: 'Boiler1.SteamPressure', time: new Date().toISOString(), value: 8.2, status: 'good' }],
  };
  const operation: Handler = async (call) => {
    if (call.tags === undefined) return answer;
    return answer;
  };
  const bare = await paced(operation, rate, seconds);
  const accessOnly = await paced(
    compose(
      operation,
      withAccess(() => policy),
    ),
    rate,
    seconds,
  );
  const wrapped = await paced(
    compose(
      operation,
      withAudit(log),
      withAccess(() => policy),
    ),
    rate,
    seconds,
  );
  await log.close();
  rmSync(dir, { recursive: true, force: true });
  return {
    rate,
    seconds,
    bare,
    withAccess: accessOnly,
    withAccessAndAudit: wrapped,
    accessAddedMedianUs: accessOnly.medianUs - bare.medianUs,
    addedMedianUs: wrapped.medianUs - bare.medianUs,
    addedP99Us: wrapped.p99Us - bare.p99Us,
  };
}
