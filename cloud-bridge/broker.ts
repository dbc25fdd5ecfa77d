/**
 * The broker side of the link: an embedded `aedes` (MQTT 3.1.1) reached as MQTT over WebSocket at
 * `/link` on the bridge's HTTPS port. Only enrolled gateways connect — user name = gateway id, client
 * id = `gateway-{id}`, password = a live connect token signed with the gateway's pinned key — and each
 * may subscribe to its own request topic and publish to its own reply and status topics, nothing else.
 * The bridge itself publishes and subscribes in-process.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { Aedes, type AuthenticateError, type Client } from 'aedes';
import { WebSocketServer } from 'ws';
import {
  checkConnectToken,
  decodePublicKeys,
  isLinkId,
  LINK_QOS,
  linkTopics,
  mqttWebSocketStream,
} from '../gateway/api/index.ts';
import type { BridgeStore } from './store.ts';

const REPLY_TOPIC = /^plantgate\/v1\/br\/([a-z0-9][a-z0-9_-]{0,62})\/rep\/([a-z0-9][a-z0-9_-]{0,62})$/;
const MAX_MESSAGE_BYTES = 4 * 1024 * 1024;

export type MessageHandler = (topic: string, payload: Buffer) => Promise<void>;

interface Logger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
}

function authError(message: string, returnCode: 4 | 5): AuthenticateError {
  return Object.assign(new Error(message), { returnCode }) as AuthenticateError;
}

/** The gateway a broker client connected as (set once it authenticated). */
const gatewayOf = new WeakMap<Client, string>();

export class LinkBroker {
  private readonly aedes: Aedes;
  private readonly sockets = new WebSocketServer({
    noServer: true,
    maxPayload: MAX_MESSAGE_BYTES,
    handleProtocols: (protocols) => (protocols.has('mqtt') ? 'mqtt' : false),
  });
  private readonly online = new Map<string, Client>();
  private readonly listeners = new Set<(gatewayId: string, online: boolean) => void>();

  private constructor(aedes: Aedes) {
    this.aedes = aedes;
  }

  static async start(
    store: BridgeStore,
    log: Logger,
    refused: (gatewayId: string | undefined, reason: string) => void,
  ): Promise<LinkBroker> {
    const aedes = await Aedes.createBroker({
      id: 'plantgate-bridge',
      heartbeatInterval: 60_000,
      connectTimeout: 10_000,
    });
    const broker = new LinkBroker(aedes);

    aedes.authenticate = (client, username, password, done) => {
      const gatewayId = username ?? '';
      const fail = (reason: string, code: 4 | 5) => {
        refused(isLinkId(gatewayId) ? gatewayId : undefined, reason);
        done(authError(reason, code), false);
      };
      if (!isLinkId(gatewayId)) return fail('the user name is not a gateway id', 4);
      if (client.id !== linkTopics.clientId(gatewayId))
        return fail(`client id must be ${linkTopics.clientId(gatewayId)}`, 5);
      store.getGateway(gatewayId).then(
        (gateway) => {
          if (!gateway?.signPublicKey || !gateway.boxPublicKey)
            return fail(`gateway "${gatewayId}" is not enrolled`, 5);
          const keys = decodePublicKeys({
            signPublicKey: gateway.signPublicKey,
            boxPublicKey: gateway.boxPublicKey,
          });
          const problem = checkConnectToken(password?.toString('utf8') ?? '', gatewayId, keys.sign);
          if (problem) return fail(problem, 4);
          gatewayOf.set(client, gatewayId);
          done(null, true);
        },
        (error: Error) => fail(`the bridge store failed: ${error.message}`, 5),
      );
    };

    aedes.authorizeSubscribe = (client, subscription, done) => {
      const gatewayId = gatewayOf.get(client);
      if (gatewayId && subscription.topic === linkTopics.request(gatewayId)) return done(null, subscription);
      refused(gatewayId, `subscribe to "${subscription.topic}" refused`);
      done(null, null); // SUBACK 0x80: refused, the connection stays
    };

    aedes.authorizePublish = (client, packet, done) => {
      if (client === null) return done(null); // the bridge itself, in-process
      const gatewayId = gatewayOf.get(client);
      const reply = REPLY_TOPIC.exec(packet.topic);
      const own = gatewayId && (reply?.[2] === gatewayId || packet.topic === linkTopics.status(gatewayId));
      if (own && !packet.retain) return done(null);
      refused(gatewayId, `publish to "${packet.topic}" refused`);
      done(new Error(`publish to "${packet.topic}" is not allowed`));
    };

    // A gateway is online once it listens on its request topic (not at CONNACK: a request sent before
    // its subscription would be lost).
    aedes.on('subscribe', (subscriptions, client) => {
      const gatewayId = gatewayOf.get(client);
      if (!gatewayId || !subscriptions.some((s) => s.topic === linkTopics.request(gatewayId))) return;
      broker.online.set(gatewayId, client);
      log.info('gateway link up', { gateway: gatewayId });
      for (const listener of broker.listeners) listener(gatewayId, true);
    });
    aedes.on('clientDisconnect', (client) => {
      const gatewayId = gatewayOf.get(client);
      if (!gatewayId || broker.online.get(gatewayId) !== client) return;
      broker.online.delete(gatewayId);
      log.info('gateway link down', { gateway: gatewayId });
      for (const listener of broker.listeners) listener(gatewayId, false);
    });
    aedes.on('clientError', (client, error) =>
      log.warn('link client error', { gateway: gatewayOf.get(client), error: error.message }),
    );
    return broker;
  }

  /** Takes a WebSocket upgrade for `/link`. */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.sockets.handleUpgrade(request, socket, head, (ws) => {
      const stream = mqttWebSocketStream(ws);
      stream.on('error', () => ws.terminate());
      this.aedes.handle(stream, request);
    });
  }

  isOnline(gatewayId: string): boolean {
    return this.online.has(gatewayId);
  }

  onGatewayState(listener: (gatewayId: string, online: boolean) => void): void {
    this.listeners.add(listener);
  }

  /** Closes a gateway's link now (it was deleted, or enrolled again with new keys). */
  disconnect(gatewayId: string): void {
    this.online.get(gatewayId)?.close();
  }

  /** Sends a request to a gateway (QoS as the link protocol says). */
  publish(topic: string, payload: Buffer): Promise<void> {
    return new Promise((resolve, reject) =>
      this.aedes.publish(
        { cmd: 'publish', topic, payload, qos: LINK_QOS.request, retain: false, dup: false },
        (error?: Error) => (error ? reject(error) : resolve()),
      ),
    );
  }

  /** Delivers messages in-process; the broker waits for each handler, which holds back the sender. */
  subscribe(topic: string, handler: MessageHandler): Promise<void> {
    return new Promise((resolve) =>
      this.aedes.subscribe(
        topic,
        (packet, done) => {
          handler(packet.topic, packet.payload as Buffer).then(
            () => done(),
            () => done(),
          );
        },
        resolve,
      ),
    );
  }

  close(): Promise<void> {
    for (const client of this.sockets.clients) client.terminate();
    return new Promise((resolve) => this.aedes.close(() => resolve()));
  }
}
