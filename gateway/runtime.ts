/** The running gateway: history, sources, the query engine and the loopback API, started and stopped together. */
import { mkdirSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import type { DriverFactory, Logger } from '../drivers/core/index.ts';
import { AccessPolicy } from './access/policy.ts';
import { AnnotationStore } from './annotations/store.ts';
import { withAudit } from './audit/interceptor.ts';
import { AuditLog } from './audit/log.ts';
import type { AuditEvent } from './audit/record.ts';
import type { GatewayConfig } from './config/schema.ts';
import { watchConfig } from './config/watch.ts';
import { lockDataDir } from './data-dir-lock.ts';
import { HistoryStore } from './history/store.ts';
import { type RunningLink, startLink } from './link/start-link.ts';
import { startLocalApi } from './local-api/server.ts';
import { followLocalToken } from './local-api/token.ts';
import { GatewayMetrics } from './metrics.ts';
import { QueryEngine } from './query/engine.ts';
import { machineIdentity } from './secrets/machine-identity.ts';
import { SEALED_PREFIX, Sealer } from './secrets/sealer.ts';
import { auditCertificateStore } from './sources/certificate-audit.ts';
import { DRIVERS } from './sources/driver-registry.ts';
import { SourceRegistry } from './sources/registry.ts';

export interface RunningGateway {
  config: GatewayConfig;
  engine: QueryEngine;
  registry: SourceRegistry;
  history: HistoryStore;
  audit: AuditLog;
  api: FastifyInstance;
  /** The port the loopback API listens on. */
  port: number;
  stop(): Promise<void>;
}

const RETENTION_EVERY_MS = 10 * 60_000;

/**
 * The sealer, opened only if some source has sealed settings or the gateway has a link (whose keys are
 * sealed), so a gateway without secrets needs no machine identity. If it cannot be opened, each source
 * with secrets fails with the reason, and so does the link; the others run.
 */
async function sealerFor(config: GatewayConfig): Promise<() => Sealer> {
  const needed =
    config.link !== undefined ||
    config.sources.some((s) => JSON.stringify(s.settings).includes(SEALED_PREFIX));
  if (!needed) {
    return () => {
      throw new Error('no sealer: no source has sealed settings and there is no link');
    };
  }
  try {
    const sealer = Sealer.open(config.gateway.dataDir, await machineIdentity());
    return () => sealer;
  } catch (error) {
    return () => {
      throw error;
    };
  }
}

export interface GatewayOptions {
  /** The drivers sources may name (this build's by default). */
  drivers?: readonly DriverFactory[];
}

export async function startGateway(
  config: GatewayConfig,
  log: Logger,
  options: GatewayOptions = {},
): Promise<RunningGateway> {
  const drivers = options.drivers ?? DRIVERS;
  const dataDir = config.gateway.dataDir;
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const unlock = lockDataDir(dataDir);
  const audit = new AuditLog(dataDir, log);
  const note = (event: AuditEvent) =>
    audit.append(event).catch((error: Error) => log.error('audit write failed', { error: error.message }));
  const token = followLocalToken(
    dataDir,
    () => void note({ kind: 'admin', outcome: 'ok', detail: 'local token rotated' }),
  );
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

  let sealerNow = await sealerFor(config);
  const sealer = () => sealerNow();
  /** The sealer, opened now if the gateway started without needing one (a source with secrets added). */
  const ensureSealer = async (): Promise<Sealer> => {
    try {
      return sealerNow();
    } catch {
      const opened = Sealer.open(dataDir, await machineIdentity());
      sealerNow = () => opened;
      return opened;
    }
  };
  let link: RunningLink | undefined;
  let registry: SourceRegistry | undefined;
  const metrics = new GatewayMetrics({ sources: () => registry?.health() ?? [], link: () => link?.health() });
  registry = new SourceRegistry(config, history, log, sealer, drivers, (source, name, value, labels) =>
    metrics.observe(source, name, value, labels),
  );
  let policy = new AccessPolicy(config.access.rules);
  let rules = config.access.rules;
  const watcher = watchConfig(
    config,
    (next) => {
      policy = new AccessPolicy(next.access.rules);
      rules = next.access.rules;
      void note({
        kind: 'config',
        outcome: 'ok',
        detail: `role rules reloaded: ${next.access.rules.length} rule(s)`,
      });
    },
    log,
    (reason) =>
      void note({ kind: 'config', outcome: 'PG_ERR_CONFIG_INVALID', detail: reason.slice(0, 2000) }),
    drivers,
  );
  const annotations = new AnnotationStore(dataDir);
  /** A config the gateway wrote itself: its role rules apply at once, and the watcher knows it. */
  const adopt = (next: GatewayConfig) => {
    policy = new AccessPolicy(next.access.rules);
    rules = next.access.rules;
    watcher.adopt(next);
  };
  const engine = new QueryEngine(registry, history, {
    annotations,
    tagConfig: { file: config.file, drivers, adopt },
    gatewayId: config.gateway.id,
    timeoutMs: 30_000,
    access: () => policy,
    interceptors: [withAudit(audit), metrics.interceptor()],
    link: () => link?.health() ?? { state: 'stopped' },
  });
  const stopCertificateAudit = config.sources.some((s) => s.driver === 'opcua')
    ? auditCertificateStore(dataDir, (event) => void note(event))
    : () => undefined;
  const cleanup = async () => {
    stopCertificateAudit();
    token.stop();
    watcher.stop();
    clearInterval(retention);
    history.close();
    annotations.close();
    await audit.close();
    unlock();
  };
  let api: FastifyInstance;
  try {
    api = await startLocalApi({
      port: config.console.port,
      host: config.console.host,
      token: token.current,
      engine,
      registry,
      log,
      metrics: () => metrics.text(),
      console: {
        dataDir,
        sessionIdleMinutes: config.console.sessionIdleMinutes,
        sources: {
          registry,
          configFile: config.file,
          drivers,
          adopt,
          sealer: ensureSealer,
        },
        tagsAccess: { registry, configFile: config.file, rules: () => rules, policy: () => policy, adopt },
        linkPki: { config, sealer: ensureSealer },
        audit: async (event) => void (await note(event)),
      },
    });
  } catch (error) {
    await cleanup();
    throw error;
  }
  await registry.startAll();
  link = await startLink(config, engine, async (event) => void (await audit.append(event)), log, sealer);
  const port = (api.server.address() as { port: number }).port;
  await note({ kind: 'admin', outcome: 'ok', detail: `gateway ${config.gateway.id} started` });
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
    audit,
    api,
    port,
    async stop() {
      await link?.stop();
      await api.close();
      await registry.stopAll();
      await note({ kind: 'admin', outcome: 'ok', detail: `gateway ${config.gateway.id} stopped` });
      await cleanup();
      log.info('gateway stopped', { id: config.gateway.id });
    },
  };
}
