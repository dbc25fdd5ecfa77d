/** The running gateway: history, sources, the query engine and the loopback API, started and stopped together. */
import type { FastifyInstance } from 'fastify';
import type { Logger } from '../drivers/core/index.ts';
import { AccessPolicy } from './access/policy.ts';
import type { GatewayConfig } from './config/schema.ts';
import { watchConfig } from './config/watch.ts';
import { HistoryStore } from './history/store.ts';
import { startLocalApi } from './local-api/server.ts';
import { followLocalToken } from './local-api/token.ts';
import { QueryEngine } from './query/engine.ts';
import { SourceRegistry } from './sources/registry.ts';

export interface RunningGateway {
  config: GatewayConfig;
  engine: QueryEngine;
  registry: SourceRegistry;
  history: HistoryStore;
  api: FastifyInstance;
  /** The port the loopback API listens on. */
  port: number;
  stop(): Promise<void>;
}

const RETENTION_EVERY_MS = 10 * 60_000;

export async function startGateway(config: GatewayConfig, log: Logger): Promise<RunningGateway> {
  const dataDir = config.gateway.dataDir;
  const token = followLocalToken(dataDir);
  const history = new HistoryStore(dataDir, config.history);
  history.enforceRetention();
  const retention = setInterval(() => {
    try {
      const { deleted } = history.enforceRetention();
      if (deleted) log.info('local history retention', { deleted });
    } catch (error) {
      log.error('local history retention failed', { error: (error as Error).message });
    }
  }, RETENTION_EVERY_MS);
  retention.unref();

  const registry = new SourceRegistry(config, history, log);
  let policy = new AccessPolicy(config.access.rules);
  const stopWatching = watchConfig(
    config,
    (next) => {
      policy = new AccessPolicy(next.access.rules);
    },
    log,
  );
  const engine = new QueryEngine(registry, history, {
    gatewayId: config.gateway.id,
    timeoutMs: 30_000,
    access: () => policy,
  });
  let api: FastifyInstance;
  try {
    api = await startLocalApi({ port: config.console.port, token: token.current, engine, registry, log });
  } catch (error) {
    token.stop();
    stopWatching();
    clearInterval(retention);
    history.close();
    throw error;
  }
  await registry.startAll();
  const port = (api.server.address() as { port: number }).port;
  log.info('gateway started', {
    id: config.gateway.id,
    localApi: `http://127.0.0.1:${port}`,
    sources: config.sources.length,
  });

  return {
    config,
    engine,
    registry,
    history,
    api,
    port,
    async stop() {
      token.stop();
      stopWatching();
      clearInterval(retention);
      await api.close();
      await registry.stopAll();
      history.close();
      log.info('gateway stopped', { id: config.gateway.id });
    },
  };
}
