/**
 * Prometheus metrics (`GET /metrics` on the loopback server, with the local token): per source its
 * state, poll time and failed requests; the link's state and reconnects; every operation counted and
 * timed by origin and outcome; Node's own process figures. No tag values and no secrets.
 */

import client from 'prom-client';
import { isPlantgateError } from '../drivers/core/index.ts';
import type { Interceptor } from './query/pipeline.ts';
import type { SourceHealth } from './sources/source.ts';

const STATES = ['disabled', 'starting', 'running', 'degraded', 'failed', 'stopped'] as const;

export interface MetricsSources {
  sources(): SourceHealth[];
  link(): { state: string; reconnects?: number } | undefined;
}

export class GatewayMetrics {
  readonly registry = new client.Registry();
  private readonly requests: client.Counter<'operation' | 'origin' | 'outcome'>;
  private readonly latency: client.Histogram<'operation' | 'origin'>;
  private readonly pollMs: client.Gauge<'source' | 'group'>;

  constructor(of: MetricsSources) {
    const registers = [this.registry];
    client.collectDefaultMetrics({ register: this.registry, prefix: 'plantgate_' });
    this.requests = new client.Counter({
      name: 'plantgate_requests_total',
      help: 'Typed operations answered, by operation, origin (local or link) and outcome (ok or the error code).',
      labelNames: ['operation', 'origin', 'outcome'],
      registers,
    });
    this.latency = new client.Histogram({
      name: 'plantgate_request_duration_seconds',
      help: 'Time to answer a typed operation.',
      labelNames: ['operation', 'origin'],
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30],
      registers,
    });
    this.pollMs = new client.Gauge({
      name: 'plantgate_source_poll_milliseconds',
      help: 'Duration of the last poll cycle of a source (per Modbus unit group).',
      labelNames: ['source', 'group'],
      registers,
    });
    new client.Gauge({
      name: 'plantgate_source_state',
      help: 'The state of each source: 1 for its current state.',
      labelNames: ['source', 'driver', 'state'],
      registers,
      collect() {
        this.reset();
        for (const s of of.sources())
          for (const state of STATES)
            this.set({ source: s.id, driver: s.driver, state }, s.state === state ? 1 : 0);
      },
    });
    new client.Gauge({
      name: 'plantgate_source_failed_requests',
      help: 'Requests to its device or database a source saw fail since it started.',
      labelNames: ['source'],
      registers,
      collect() {
        this.reset();
        for (const s of of.sources()) {
          const d = s.details as { failedRequests?: unknown; failures?: unknown } | undefined;
          const failed =
            typeof d?.failedRequests === 'number'
              ? d.failedRequests
              : typeof d?.failures === 'number'
                ? d.failures
                : undefined;
          if (failed !== undefined) this.set({ source: s.id }, failed);
        }
      },
    });
    new client.Gauge({
      name: 'plantgate_link_connected',
      help: '1 while the link to the bridge is connected.',
      registers,
      collect() {
        this.set(of.link()?.state === 'connected' ? 1 : 0);
      },
    });
    new client.Gauge({
      name: 'plantgate_link_reconnects',
      help: 'Times the link connected again since the gateway started.',
      registers,
      collect() {
        this.set(of.link()?.reconnects ?? 0);
      },
    });
  }

  /** A driver's observation, through its host: `poll.ms` becomes the poll gauge. */
  observe(source: string, name: string, value: number, labels: Record<string, string> = {}): void {
    if (name === 'poll.ms') this.pollMs.set({ source, group: labels.group ?? '' }, value);
  }

  /** Counts and times every operation; outermost but for the audit, so it sees every outcome. */
  interceptor(): Interceptor {
    return (next) => async (call) => {
      const end = this.latency.startTimer({ operation: call.operation, origin: call.ctx.origin });
      try {
        const answer = await next(call);
        this.requests.inc({ operation: call.operation, origin: call.ctx.origin, outcome: 'ok' });
        return answer;
      } catch (error) {
        const outcome = isPlantgateError(error) ? error.code : 'PG_ERR_INTERNAL';
        this.requests.inc({ operation: call.operation, origin: call.ctx.origin, outcome });
        throw error;
      } finally {
        end();
      }
    };
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}
