/**
 * The bridge's end of request/response over the link: it signs and seals envelopes for a gateway,
 * publishes them to the gateway's request topic and hands the sealed reply frames that come back on this
 * instance's reply topic to the waiting call, in order. A call whose consumer is slow holds back the
 * broker's delivery, which holds back the gateway's next chunk (back-pressure end to end).
 */
import { randomUUID } from 'node:crypto';
import {
  decodePublicKeys,
  type FrameHeader,
  gatewayError,
  type LinkKeyPair,
  LinkSession,
  linkTopics,
  MAX_ENVELOPE_LIFETIME_MS,
  openFrame,
  type RequestEnvelope,
  sealRequest,
} from '../gateway/api/index.ts';
import type { LinkBroker } from './broker.ts';
import type { GatewayRecord } from './store.ts';

export interface Frame {
  header: FrameHeader;
  body: Buffer;
}

/** Frames queued for a consumer before the broker's delivery waits. */
const QUEUE_LIMIT = 4;
/** A call fails when nothing arrives for this long (the gateway's own operation limit is 30 s). */
const IDLE_TIMEOUT_MS = 40_000;

/** One request in flight: its reply frames, in order, as an async iterator. */
export class LinkCall implements AsyncIterable<Frame> {
  readonly id: string;
  readonly gatewayId: string;
  private readonly queue: Frame[] = [];
  private failure: Error | undefined;
  private finished = false;
  private nextSeq = 0;
  private wake: (() => void) | undefined;
  /** Deliveries waiting for room: the broker may hand over several frames at once (one read, many packets). */
  private readonly waiting: (() => void)[] = [];
  private idle: NodeJS.Timeout | undefined;
  private readonly onClose: () => void;

  constructor(id: string, gatewayId: string, onClose: () => void) {
    this.id = id;
    this.gatewayId = gatewayId;
    this.onClose = onClose;
    this.touch();
  }

  private touch(): void {
    clearTimeout(this.idle);
    this.idle = setTimeout(
      () => this.fail(gatewayError('PG_ERR_TIMEOUT', `gateway "${this.gatewayId}" did not answer in time`)),
      IDLE_TIMEOUT_MS,
    );
    this.idle.unref();
  }

  /** Takes one frame; resolves once the consumer has room for more. */
  async accept(frame: Frame): Promise<void> {
    if (this.finished) return;
    if (frame.header.seq !== this.nextSeq) {
      this.fail(
        gatewayError('PG_ERR_LINK_LOST', `reply frames from "${this.gatewayId}" arrived out of order`),
      );
      return;
    }
    this.nextSeq++;
    this.touch();
    this.queue.push(frame);
    if (frame.header.kind === 'end' || frame.header.kind === 'error') this.close();
    this.wake?.();
    if (this.queue.length >= QUEUE_LIMIT && !this.finished) {
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
  }

  private release(): void {
    for (const resolve of this.waiting.splice(0)) resolve();
  }

  fail(error: Error): void {
    if (this.finished) return;
    this.failure = error;
    this.close();
    this.wake?.();
  }

  private close(): void {
    this.finished = true;
    clearTimeout(this.idle);
    this.onClose();
    this.release();
  }

  get done(): boolean {
    return this.finished;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Frame> {
    try {
      for (;;) {
        const frame = this.queue.shift();
        if (frame) {
          if (this.queue.length < QUEUE_LIMIT) this.release();
          yield frame;
          continue;
        }
        if (this.failure) throw this.failure;
        if (this.finished) return;
        await new Promise<void>((resolve) => {
          this.wake = resolve;
        });
        this.wake = undefined;
      }
    } finally {
      // The consumer stopped early (client gone): stop waiting for frames.
      if (!this.finished) this.fail(gatewayError('PG_ERR_ABORTED', 'the caller went away'));
    }
  }
}

export type EnvelopeFields = Pick<
  RequestEnvelope,
  'operation' | 'sourceId' | 'principal' | 'app' | 'consentId' | 'idempotencyKey' | 'request'
>;

export class LinkDispatcher {
  readonly instanceId = `br-${randomUUID().slice(0, 8)}`;
  private readonly broker: LinkBroker;
  private readonly keys: LinkKeyPair;
  private readonly calls = new Map<string, LinkCall>();
  private readonly sessions = new Map<string, { boxPublicKey: string; session: LinkSession }>();

  constructor(broker: LinkBroker, keys: LinkKeyPair) {
    this.broker = broker;
    this.keys = keys;
    broker.onGatewayState((gatewayId, online) => {
      if (online) return;
      for (const call of this.calls.values()) {
        if (call.gatewayId === gatewayId)
          call.fail(
            gatewayError('PG_ERR_LINK_LOST', `the link to gateway "${gatewayId}" dropped during the request`),
          );
      }
    });
  }

  async start(): Promise<void> {
    await this.broker.subscribe(linkTopics.replies(this.instanceId), (topic, payload) =>
      this.onReply(topic, payload),
    );
  }

  private sessionFor(gateway: GatewayRecord): LinkSession {
    const boxPublicKey = gateway.boxPublicKey as string;
    const cached = this.sessions.get(gateway.id);
    if (cached?.boxPublicKey === boxPublicKey) return cached.session;
    const keys = decodePublicKeys({ signPublicKey: gateway.signPublicKey as string, boxPublicKey });
    const session = LinkSession.forBridge(this.keys, keys.box);
    this.sessions.set(gateway.id, { boxPublicKey, session });
    return session;
  }

  private async onReply(topic: string, payload: Buffer): Promise<void> {
    const gatewayId = topic.slice(topic.lastIndexOf('/') + 1);
    const cached = this.sessions.get(gatewayId);
    const frame = cached && openFrame(payload, gatewayId, cached.session);
    if (!frame) return; // not sealed by that gateway: dropped
    const call = this.calls.get(frame.header.id);
    if (!call || call.gatewayId !== gatewayId) return;
    await call.accept(frame);
  }

  /** Sends one request; fails at once with PG_ERR_GATEWAY_OFFLINE when the gateway has no link. */
  async call(gateway: GatewayRecord, fields: EnvelopeFields): Promise<LinkCall> {
    if (!gateway.boxPublicKey || !gateway.signPublicKey)
      throw gatewayError('PG_ERR_GATEWAY_OFFLINE', `gateway "${gateway.id}" has not enrolled yet`);
    if (!this.broker.isOnline(gateway.id))
      throw gatewayError(
        'PG_ERR_GATEWAY_OFFLINE',
        `gateway "${gateway.id}" has no link to the bridge right now`,
      );
    const id = randomUUID();
    const call = new LinkCall(id, gateway.id, () => this.calls.delete(id));
    this.calls.set(id, call);
    try {
      await this.send(gateway, { kind: 'request', id, ...fields });
    } catch (error) {
      call.fail(error as Error);
      throw gatewayError(
        'PG_ERR_LINK_LOST',
        `could not send to gateway "${gateway.id}": ${(error as Error).message}`,
      );
    }
    return call;
  }

  /** Ends a request or subscription at the gateway (best effort). */
  async cancel(gateway: GatewayRecord, call: LinkCall, fields: EnvelopeFields): Promise<void> {
    call.fail(gatewayError('PG_ERR_ABORTED', 'cancelled'));
    if (!this.broker.isOnline(gateway.id)) return;
    await this.send(gateway, { ...fields, kind: 'cancel', id: call.id }).catch(() => undefined);
  }

  private async send(
    gateway: GatewayRecord,
    fields: EnvelopeFields & Pick<RequestEnvelope, 'kind' | 'id'>,
  ): Promise<void> {
    const now = Date.now();
    const envelope: RequestEnvelope = {
      ...fields,
      gatewayId: gateway.id,
      replyTo: this.instanceId,
      issuedAt: now,
      expiresAt: now + MAX_ENVELOPE_LIFETIME_MS,
    };
    await this.broker.publish(
      linkTopics.request(gateway.id),
      sealRequest(envelope, this.keys, this.sessionFor(gateway)),
    );
  }
}
