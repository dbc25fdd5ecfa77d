/**
 * The gateway's one outbound connection: MQTT 3.1.1 over WebSocket + TLS to the bridge's `/link`
 * (through an HTTP CONNECT proxy and with a private CA when configured). It connects with a short-lived
 * token signed by the gateway's key, subscribes to its request topic only, and reconnects by itself with
 * jittered exponential back-off. Its state, round-trip time and reconnect count are part of `health`.
 */
import mqtt, { type IClientOptions, MqttClient } from 'mqtt';
import { WebSocket } from 'ws';
import type { Logger } from '../../drivers/core/index.ts';
import { type LinkKeyPair, LinkSession } from '../api/link-crypto.ts';
import { connectToken, LINK_QOS, linkTopics } from '../api/link-protocol.ts';
import { mqttWebSocketStream } from '../api/link-websocket.ts';
import type { AuditEvent } from '../audit/record.ts';
import type { QueryEngine } from '../query/engine.ts';
import type { Enrollment } from './enrollment.ts';
import { proxyAgent } from './https-request.ts';
import type { IdempotencyStore } from './idempotency.ts';
import { LinkRequestHandler } from './request-handler.ts';

const FIRST_RETRY_MS = 1000;
const MAX_RETRY_MS = 60_000;
const STATUS_EVERY_MS = 15_000;

export interface LinkHealth {
  state: 'connecting' | 'connected' | 'offline' | 'stopped';
  bridge: string;
  connectedSince?: string;
  /** Round trip to the broker, from the last status publish to its acknowledgement. */
  rttMs?: number;
  reconnects: number;
  lastError?: string;
}

export interface LinkClientOptions {
  enrollment: Enrollment;
  keys: LinkKeyPair;
  /** wss://…/link, from the gateway config. */
  url: string;
  ca?: string;
  proxy?: string;
  engine: QueryEngine;
  idempotency: IdempotencyStore;
  audit(event: AuditEvent): Promise<void>;
  log: Logger;
}

/** Full jitter between half and all of an exponential delay. */
export function retryDelay(attempt: number, random = Math.random): number {
  const ceiling = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** Math.min(attempt, 16));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

export class LinkClient {
  private readonly options: LinkClientOptions;
  private readonly handler: LinkRequestHandler;
  private client: MqttClient | undefined;
  private retry: NodeJS.Timeout | undefined;
  private statusTimer: NodeJS.Timeout | undefined;
  private attempt = 0;
  private stopped = false;
  private readonly state: LinkHealth;

  constructor(options: LinkClientOptions) {
    this.options = options;
    const { enrollment, keys } = options;
    const session = LinkSession.forGateway(keys, Buffer.from(enrollment.bridge.boxPublicKey, 'base64url'));
    this.handler = new LinkRequestHandler({
      gatewayId: enrollment.gatewayId,
      session,
      bridgeSignPublic: Buffer.from(enrollment.bridge.signPublicKey, 'base64url'),
      engine: options.engine,
      idempotency: options.idempotency,
      audit: options.audit,
      publish: (topic, payload, qos) => this.publish(topic, payload, qos),
    });
    this.state = { state: 'connecting', bridge: options.url, reconnects: 0 };
  }

  health(): LinkHealth {
    return { ...this.state };
  }

  start(): void {
    this.connect();
  }

  private publish(topic: string, payload: Buffer, qos: 0 | 1): Promise<void> {
    const client = this.client;
    if (!client?.connected) return Promise.reject(new Error('the link is down'));
    return new Promise((resolve, reject) =>
      client.publish(topic, payload, { qos }, (error) => (error ? reject(error) : resolve())),
    );
  }

  private connect(): void {
    if (this.stopped) return;
    const { enrollment, keys, url, ca, proxy, log } = this.options;
    const gatewayId = enrollment.gatewayId;
    this.state.state = 'connecting';
    const agent = proxyAgent({ ...(ca ? { ca } : {}), ...(proxy ? { proxy } : {}) });
    const options: IClientOptions = {
      protocolVersion: 4,
      clientId: linkTopics.clientId(gatewayId),
      username: gatewayId,
      password: connectToken(gatewayId, keys.signSecret),
      clean: true,
      keepalive: 30,
      connectTimeout: 15_000,
      reconnectPeriod: 0,
      resubscribe: false,
    };
    // Over WebSocket (the config's wss:// bridge) the socket is made here rather than by mqtt.connect, so
    // that each MQTT packet leaves as one frame. A plain mqtt(s):// URL reaches a broker directly.
    const client = /^wss?:/.test(url)
      ? new MqttClient(
          () =>
            mqttWebSocketStream(
              new WebSocket(url, ['mqtt'], {
                ...(ca ? { ca } : {}),
                ...(agent ? { agent } : {}),
                rejectUnauthorized: true,
                perMessageDeflate: false,
                handshakeTimeout: 15_000,
              }),
            ),
          options,
        )
      : mqtt.connect(url, { ...options, ...(ca ? { ca } : {}) });
    this.client = client;
    let failed = false;
    const lost = (reason: string) => {
      if (failed) return;
      failed = true;
      const wasUp = this.state.state === 'connected';
      this.state.state = this.stopped ? 'stopped' : 'offline';
      this.state.lastError = reason;
      delete this.state.connectedSince;
      clearInterval(this.statusTimer);
      this.handler.abortAll('the link dropped');
      client.end(true);
      if (wasUp) log.warn('link down', { bridge: url, reason });
      if (this.stopped) return;
      const delay = retryDelay(this.attempt++);
      this.retry = setTimeout(() => {
        this.state.reconnects++;
        this.connect();
      }, delay);
      this.retry.unref();
    };

    client.on('connect', () => {
      client.subscribe(linkTopics.request(gatewayId), { qos: 1 }, (error, granted) => {
        if (error || granted?.some((g) => g.qos === 128)) return lost('the bridge refused the request topic');
        this.attempt = 0;
        this.state.state = 'connected';
        this.state.connectedSince = new Date().toISOString();
        delete this.state.lastError;
        log.info('link up', { bridge: url, gateway: gatewayId });
        this.sendStatus();
        this.statusTimer = setInterval(() => this.sendStatus(), STATUS_EVERY_MS);
        this.statusTimer.unref();
      });
    });
    client.on('message', (_topic, payload) => {
      this.handler
        .onMessage(payload)
        .catch((error: Error) => log.error('link request failed', { error: error.message }));
    });
    client.on('error', (error) => lost(error.message));
    client.on('close', () => lost(this.state.lastError ?? 'the connection closed'));
    client.on('offline', () => lost('offline'));
  }

  private sendStatus(): void {
    const started = performance.now();
    const gatewayId = this.options.enrollment.gatewayId;
    this.publish(
      linkTopics.status(gatewayId),
      Buffer.from(JSON.stringify({ at: new Date().toISOString() })),
      LINK_QOS.status,
    ).then(
      () => {
        this.state.rttMs = Math.round((performance.now() - started) * 100) / 100;
      },
      () => undefined,
    );
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retry);
    clearInterval(this.statusTimer);
    this.handler.abortAll('the gateway stops');
    this.state.state = 'stopped';
    const client = this.client;
    if (client) await new Promise<void>((resolve) => client.end(false, {}, () => resolve()));
  }
}
