/**
 * The link protocol between a bridge and a gateway, over any MQTT 3.1.1 broker. Nothing here needs
 * MQTT 5: correlation ids, reply addresses and chunk order all travel inside the sealed payloads.
 *
 * - The gateway connects with its id as user name and a short-lived token signed by its key.
 * - Requests go to `plantgate/v1/gw/{gateway}/req`: sealed(signature ‖ envelope JSON), signed by the
 *   bridge. A `cancel` envelope ends a subscription or a request early.
 * - Replies go to `plantgate/v1/br/{bridge instance}/rep/{gateway}`: sealed frames, each
 *   `u32 header length ‖ header JSON ‖ body`. A result travels as pieces of its JSON, in order: `data`
 *   frames and a final `end` frame with the last piece (a small result is one `end`); a failure as one
 *   `error`; a subscription as `push` frames and an `end`.
 * - The gateway publishes its status (QoS 1) to `plantgate/v1/gw/{gateway}/status`; the broker's answer
 *   gives the round-trip time.
 * - QoS (`LINK_QOS`): requests and one-frame replies travel with QoS 0, streams of frames with QoS 1.
 */
import { PlantgateError } from '../../drivers/core/index.ts';
import type { Principal } from './call-context.ts';
import {
  type LinkKeyPair,
  type LinkSession,
  SIGNATURE_BYTES,
  signDetached,
  verifyDetached,
} from './link-crypto.ts';
import type { OperationName } from './operations.ts';

/** The longest an envelope may live, from issue to expiry. */
export const MAX_ENVELOPE_LIFETIME_MS = 60_000;
/** How far the two clocks may disagree. */
export const CLOCK_SKEW_MS = 30_000;
/** Lifetime of the token a gateway connects with. */
export const CONNECT_TOKEN_LIFETIME_MS = 5 * 60_000;

const ID = /^[a-z0-9][a-z0-9_-]{0,62}$/;

export const linkTopics = {
  request: (gatewayId: string) => `plantgate/v1/gw/${gatewayId}/req`,
  status: (gatewayId: string) => `plantgate/v1/gw/${gatewayId}/status`,
  reply: (bridgeInstance: string, gatewayId: string) => `plantgate/v1/br/${bridgeInstance}/rep/${gatewayId}`,
  /** What a bridge instance subscribes to: the replies of every gateway. */
  replies: (bridgeInstance: string) => `plantgate/v1/br/${bridgeInstance}/rep/+`,
  /** The MQTT client id a gateway connects with (one connection per gateway). */
  clientId: (gatewayId: string) => `gateway-${gatewayId}`,
};

/**
 * The QoS of each kind of message. Sessions are clean, so QoS 1 never carries a message across a
 * reconnect; over the one TCP connection a QoS 0 message arrives or the link drops, and a dropped link
 * fails the calls in flight (PG_ERR_LINK_LOST). QoS 1 is kept where its acknowledgements do work: they
 * pace a stream of frames to its reader, and time the status round trip.
 */
export const LINK_QOS = {
  request: 0,
  /** A reply that is one frame (`end` or `error`). */
  singleFrame: 0,
  /** Every frame of a reply of several frames, and a subscription's pushes. */
  stream: 1,
  status: 1,
} as const satisfies Record<string, 0 | 1>;

export function isLinkId(value: string): boolean {
  return ID.test(value);
}

export interface RequestEnvelope {
  kind: 'request' | 'cancel';
  /** Request id: correlates the replies, keys the replay check; a cancel names the request it ends. */
  id: string;
  gatewayId: string;
  /** The bridge instance waiting for the reply. */
  replyTo: string;
  operation: OperationName;
  sourceId?: string;
  principal: Principal;
  app: string;
  consentId: string;
  /** Milliseconds since the epoch, bridge clock. */
  issuedAt: number;
  expiresAt: number;
  /** Writes: the app's idempotency key; a retry with the same key gets the first answer. */
  idempotencyKey?: string;
  request: unknown;
}

export type FrameKind = 'data' | 'end' | 'error' | 'push';

export interface FrameHeader {
  id: string;
  seq: number;
  kind: FrameKind;
  error?: { code: string; message: string; details?: Record<string, unknown> };
}

const REQUEST_AD = (gatewayId: string) => Buffer.from(`plantgate-link/1 request|${gatewayId}`);
const REPLY_AD = (gatewayId: string) => Buffer.from(`plantgate-link/1 reply|${gatewayId}`);
const SIGNED_PREFIX = Buffer.from('plantgate-link/1 envelope|');
const CONNECT_PREFIX = 'plantgate-link/1 connect|';

/** Bridge: signs and seals one envelope for its gateway. */
export function sealRequest(envelope: RequestEnvelope, bridge: LinkKeyPair, session: LinkSession): Buffer {
  const body = Buffer.from(JSON.stringify(envelope));
  const signature = signDetached(Buffer.concat([SIGNED_PREFIX, body]), bridge.signSecret);
  return session.seal([signature, body], REQUEST_AD(envelope.gatewayId));
}

export class EnvelopeRejected extends PlantgateError<'PG_ERR_ENVELOPE_REJECTED'> {
  /** The envelope, when it could be read and its signature was good (so a reply can be sent). */
  readonly envelope: RequestEnvelope | undefined;

  constructor(reason: string, envelope?: RequestEnvelope) {
    super('PG_ERR_ENVELOPE_REJECTED', reason);
    this.envelope = envelope;
  }
}

/**
 * Gateway: opens and verifies one request. Throws EnvelopeRejected when it was not sealed for this
 * gateway by its bridge, or the signature does not hold. Expiry and replay are the caller's checks
 * (`checkEnvelopeTimes`, a replay guard), since they need its clock and memory.
 */
export function openRequest(
  payload: Buffer,
  gatewayId: string,
  session: LinkSession,
  bridgeSignPublic: Buffer,
): RequestEnvelope {
  const plain = session.open(payload, REQUEST_AD(gatewayId));
  if (!plain) throw new EnvelopeRejected('the request is not sealed for this gateway by its bridge');
  const signature = plain.subarray(0, SIGNATURE_BYTES);
  const body = plain.subarray(SIGNATURE_BYTES);
  if (!verifyDetached(signature, Buffer.concat([SIGNED_PREFIX, body]), bridgeSignPublic))
    throw new EnvelopeRejected("the request's signature is not the bridge's");
  let envelope: RequestEnvelope;
  try {
    envelope = JSON.parse(body.toString('utf8')) as RequestEnvelope;
  } catch {
    throw new EnvelopeRejected('the signed request is not JSON');
  }
  const missing = ['id', 'gatewayId', 'replyTo', 'operation', 'principal', 'issuedAt', 'expiresAt'].find(
    (key) => (envelope as unknown as Record<string, unknown>)[key] === undefined,
  );
  if (missing) throw new EnvelopeRejected(`the envelope has no ${missing}`);
  if (envelope.gatewayId !== gatewayId)
    throw new EnvelopeRejected(`the envelope is for gateway "${envelope.gatewayId}", not this one`, envelope);
  if (!isLinkId(envelope.replyTo)) throw new EnvelopeRejected('the envelope has a bad replyTo', envelope);
  return envelope;
}

/** The expiry rules: at most 60 s of life, not expired, not issued in the future (beyond clock skew). */
export function checkEnvelopeTimes(envelope: RequestEnvelope, now = Date.now()): void {
  const { issuedAt, expiresAt } = envelope;
  if (!Number.isFinite(issuedAt) || !Number.isFinite(expiresAt))
    throw new EnvelopeRejected('the envelope has no valid times', envelope);
  if (expiresAt - issuedAt > MAX_ENVELOPE_LIFETIME_MS || expiresAt < issuedAt)
    throw new EnvelopeRejected('the envelope lives longer than 60 s', envelope);
  if (issuedAt > now + CLOCK_SKEW_MS)
    throw new EnvelopeRejected('the envelope is issued in the future', envelope);
  if (expiresAt < now - CLOCK_SKEW_MS) throw new EnvelopeRejected('the envelope has expired', envelope);
}

/**
 * Remembers request ids until their envelopes expire, so none is accepted twice. Ids are kept in
 * arrival order with their expiry; forgetting walks from the oldest and stops at the first one still
 * live, so each check costs the same however many requests a minute the link carries. (An envelope that
 * expires sooner than one before it is forgotten a little late, never early.)
 */
export class ReplayGuard {
  private readonly seen = new Map<string, number>();
  private readonly notBefore: number;

  /** Envelopes issued before `notBefore` are refused: ids seen before a restart are not remembered. */
  constructor(notBefore = Date.now()) {
    this.notBefore = notBefore;
  }

  check(envelope: RequestEnvelope, now = Date.now()): void {
    if (envelope.issuedAt < this.notBefore)
      throw new EnvelopeRejected('the envelope was issued before this gateway started its link', envelope);
    for (const [id, expiry] of this.seen) {
      if (expiry + CLOCK_SKEW_MS >= now) break;
      this.seen.delete(id);
    }
    const key = `${envelope.kind}:${envelope.id}`;
    if (this.seen.has(key))
      throw new EnvelopeRejected(`request ${envelope.id} was already received`, envelope);
    this.seen.set(key, envelope.expiresAt);
  }

  /** How many ids are remembered now. */
  get size(): number {
    return this.seen.size;
  }
}

/** Gateway: seals one reply frame for the bridge. */
export function sealFrame(
  header: FrameHeader,
  body: Buffer | undefined,
  gatewayId: string,
  session: LinkSession,
): Buffer {
  const head = Buffer.from(JSON.stringify(header));
  const length = Buffer.alloc(4);
  length.writeUInt32BE(head.length);
  return session.seal(body ? [length, head, body] : [length, head], REPLY_AD(gatewayId));
}

/** Bridge: opens one reply frame; undefined when it was not sealed by that gateway. */
export function openFrame(
  payload: Buffer,
  gatewayId: string,
  session: LinkSession,
): { header: FrameHeader; body: Buffer } | undefined {
  const plain = session.open(payload, REPLY_AD(gatewayId));
  if (!plain || plain.length < 4) return undefined;
  const headLength = plain.readUInt32BE(0);
  if (headLength > plain.length - 4) return undefined;
  try {
    const header = JSON.parse(plain.subarray(4, 4 + headLength).toString('utf8')) as FrameHeader;
    return { header, body: plain.subarray(4 + headLength) };
  } catch {
    return undefined;
  }
}

/** Gateway: the password it connects to the broker with. */
export function connectToken(gatewayId: string, signSecret: Buffer, now = Date.now()): string {
  const expiresAt = now + CONNECT_TOKEN_LIFETIME_MS;
  const signature = signDetached(Buffer.from(`${CONNECT_PREFIX}${gatewayId}|${expiresAt}`), signSecret);
  return `${gatewayId}.${expiresAt}.${signature.toString('base64url')}`;
}

/** Bridge: whether `token` is a live connect token of `gatewayId`, signed with its pinned key. */
export function checkConnectToken(
  token: string,
  gatewayId: string,
  signPublic: Buffer,
  now = Date.now(),
): string | undefined {
  const [id, expires, signature, extra] = token.split('.');
  if (extra !== undefined || !id || !expires || !signature) return 'the connect token is malformed';
  if (id !== gatewayId) return 'the connect token names another gateway';
  const expiresAt = Number(expires);
  if (!Number.isSafeInteger(expiresAt)) return 'the connect token is malformed';
  if (expiresAt < now - CLOCK_SKEW_MS) return 'the connect token has expired';
  if (expiresAt > now + CONNECT_TOKEN_LIFETIME_MS + CLOCK_SKEW_MS) return 'the connect token lives too long';
  const message = Buffer.from(`${CONNECT_PREFIX}${gatewayId}|${expiresAt}`);
  if (!verifyDetached(Buffer.from(signature, 'base64url'), message, signPublic))
    return "the connect token's signature is not the gateway's";
  return undefined;
}
