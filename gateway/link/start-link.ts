/** Starts the link when the config has one and the gateway has enrolled; otherwise says why not, in health. */
import { readFileSync } from 'node:fs';
import type { Logger } from '../../drivers/core/index.ts';
import type { AuditEvent } from '../audit/record.ts';
import type { GatewayConfig } from '../config/schema.ts';
import type { QueryEngine } from '../query/engine.ts';
import type { Sealer } from '../secrets/sealer.ts';
import { bridgeOriginOf, readEnrollment } from './enrollment.ts';
import { IdempotencyStore } from './idempotency.ts';
import type { LinkHealth } from './link-client.ts';

export type LinkStatus =
  | LinkHealth
  | { state: 'disabled' }
  | { state: 'not enrolled'; bridge: string; lastError: string };

export interface RunningLink {
  health(): LinkStatus;
  stop(): Promise<void>;
}

export async function startLink(
  config: GatewayConfig,
  engine: QueryEngine,
  audit: (event: AuditEvent) => Promise<void>,
  log: Logger,
  sealer: () => Sealer,
): Promise<RunningLink> {
  const link = config.link;
  if (!link) return { health: () => ({ state: 'disabled' }), stop: async () => undefined };
  const notEnrolled = (lastError: string): RunningLink => {
    log.error('link not started', { bridge: link.bridge, reason: lastError });
    return {
      health: () => ({ state: 'not enrolled', bridge: link.bridge, lastError }),
      stop: async () => undefined,
    };
  };
  let enrolled: ReturnType<typeof readEnrollment>;
  try {
    enrolled = readEnrollment(config.gateway.dataDir, sealer);
  } catch (error) {
    return notEnrolled(`the link keys cannot be read: ${(error as Error).message}`);
  }
  if (!enrolled) return notEnrolled('this gateway has not enrolled: run plantgate enroll');
  const { enrollment, keys } = enrolled;
  if (enrollment.gatewayId !== config.gateway.id)
    return notEnrolled(
      `enrolled as "${enrollment.gatewayId}", but the config says gateway "${config.gateway.id}"`,
    );
  if (bridgeOriginOf(link.bridge) !== enrollment.bridgeOrigin)
    return notEnrolled(
      `enrolled with ${enrollment.bridgeOrigin}, but the config names ${link.bridge}: enroll again`,
    );
  let ca: string | undefined;
  try {
    ca = link.caFile ? readFileSync(link.caFile, 'utf8') : undefined;
  } catch (error) {
    return notEnrolled(
      `cannot read caFile ${link.caFile}: ${(error as NodeJS.ErrnoException).code ?? error}`,
    );
  }
  // The MQTT and WebSocket stack is loaded only by a gateway that has a link.
  const { LinkClient } = await import('./link-client.ts');
  const idempotency = new IdempotencyStore(config.gateway.dataDir);
  const client = new LinkClient({
    enrollment,
    keys,
    url: link.bridge,
    ...(ca ? { ca } : {}),
    ...(link.proxy ? { proxy: link.proxy } : {}),
    engine,
    idempotency,
    audit,
    log,
  });
  client.start();
  return {
    health: () => client.health(),
    async stop() {
      await client.stop();
      idempotency.close();
    },
  };
}
