/**
 * The gateway's end of a link request: open and verify the envelope (sealed for this gateway, signed by
 * its bridge, not expired, not seen before), run the typed operation with the envelope's caller as the
 * call context — the engine checks the schema again, applies the local role rules and writes the audit
 * record — and send the answer back sealed, in ordered chunks, never more than a few unacknowledged.
 * Refused envelopes are audited too.
 */

import type { CallContext } from '../api/call-context.ts';
import type { LinkSession } from '../api/link-crypto.ts';
import {
  checkEnvelopeTimes,
  EnvelopeRejected,
  type FrameHeader,
  LINK_QOS,
  linkTopics,
  openRequest,
  ReplayGuard,
  type RequestEnvelope,
  sealFrame,
} from '../api/link-protocol.ts';
import { CHANGE_OPERATIONS } from '../api/operations.ts';
import type { AuditEvent } from '../audit/record.ts';
import { gatewayError, toErrorBody } from '../errors.ts';
import type { QueryEngine } from '../query/engine.ts';
import type { IdempotencyStore } from './idempotency.ts';

/** Bytes of answer JSON per frame. */
export const CHUNK_BYTES = 256 * 1024;
/** Frames published and not yet acknowledged by the broker, per request. */
const WINDOW = 8;

export interface RequestHandlerOptions {
  gatewayId: string;
  session: LinkSession;
  bridgeSignPublic: Buffer;
  engine: QueryEngine;
  idempotency: IdempotencyStore;
  audit(event: AuditEvent): Promise<void>;
  /** Publishes; with QoS 1 it resolves when the broker acknowledged, with QoS 0 once the frame is sent. */
  publish(topic: string, payload: Buffer, qos: 0 | 1): Promise<void>;
}

export class LinkRequestHandler {
  private readonly options: RequestHandlerOptions;
  private readonly guard = new ReplayGuard();
  private readonly inFlight = new Map<string, AbortController>();

  constructor(options: RequestHandlerOptions) {
    this.options = options;
  }

  /** Ends every request and subscription in flight (the link dropped or the gateway stops). */
  abortAll(reason: string): void {
    for (const controller of this.inFlight.values()) controller.abort(new Error(reason));
    this.inFlight.clear();
  }

  async onMessage(payload: Buffer): Promise<void> {
    const { gatewayId, session, bridgeSignPublic } = this.options;
    let envelope: RequestEnvelope;
    try {
      envelope = openRequest(payload, gatewayId, session, bridgeSignPublic);
      checkEnvelopeTimes(envelope);
      if (
        !/^user:\S{1,256}$/.test(envelope.principal?.subject ?? '') ||
        !Array.isArray(envelope.principal.groups)
      )
        throw new EnvelopeRejected('the envelope names no user principal', envelope);
      this.guard.check(envelope);
    } catch (error) {
      if (!(error instanceof EnvelopeRejected)) throw error;
      await this.refuse(error);
      return;
    }
    if (envelope.kind === 'cancel') {
      this.inFlight.get(envelope.id)?.abort(new Error('cancelled by the caller'));
      return;
    }
    const controller = new AbortController();
    this.inFlight.set(envelope.id, controller);
    const reply = new ReplyWriter(this.options, envelope);
    try {
      await this.run(envelope, controller.signal, reply);
    } catch (error) {
      await reply.error(error).catch(() => undefined);
    } finally {
      this.inFlight.delete(envelope.id);
    }
  }

  private async refuse(rejection: EnvelopeRejected): Promise<void> {
    const envelope = rejection.envelope;
    await this.options
      .audit({
        kind: 'operation',
        origin: 'link',
        outcome: rejection.code,
        detail: rejection.message,
        ...(envelope
          ? {
              requestId: String(envelope.id),
              principal: String(envelope.principal?.subject),
              app: String(envelope.app),
              operation: String(envelope.operation),
              ...(envelope.sourceId ? { source: String(envelope.sourceId) } : {}),
            }
          : {}),
      })
      .catch(() => undefined);
    // A signed envelope for another gateway or a stale one gets its answer; an unreadable one cannot.
    if (envelope && envelope.gatewayId === this.options.gatewayId)
      await new ReplyWriter(this.options, envelope).error(rejection).catch(() => undefined);
  }

  private async run(envelope: RequestEnvelope, signal: AbortSignal, reply: ReplyWriter): Promise<void> {
    const { engine, idempotency } = this.options;
    const ctx: CallContext = {
      requestId: envelope.id,
      origin: 'link',
      principal: { subject: envelope.principal.subject, groups: envelope.principal.groups },
      app: envelope.app,
      consentId: envelope.consentId,
    };
    if (envelope.operation === 'values.subscribe') {
      if (!envelope.sourceId) throw gatewayError('PG_ERR_BAD_REQUEST', 'values.subscribe needs a source');
      const stream = await engine.subscribe(ctx, envelope.sourceId, envelope.request, signal);
      for await (const batch of stream) await reply.push(batch);
      await reply.end();
      return;
    }
    let answer: unknown;
    if (CHANGE_OPERATIONS.has(envelope.operation) && envelope.idempotencyKey) {
      const key = [envelope.app, envelope.principal.subject, envelope.sourceId, envelope.idempotencyKey].join(
        '|',
      );
      const once = await idempotency.run(key, envelope.request, () =>
        engine.execute(ctx, envelope.operation, envelope.sourceId, envelope.request, signal),
      );
      answer = once.answer;
      if (once.replayed)
        await this.options.audit({
          kind: 'operation',
          requestId: envelope.id,
          origin: 'link',
          principal: envelope.principal.subject,
          app: envelope.app,
          ...(envelope.sourceId ? { source: envelope.sourceId } : {}),
          operation: envelope.operation,
          outcome: 'ok',
          detail: 'a retry with the same idempotency key: the first answer, not applied again',
        });
    } else {
      answer = await engine.execute(ctx, envelope.operation, envelope.sourceId, envelope.request, signal);
    }
    await reply.answer(answer);
  }
}

/**
 * Sends one request's frames in order. An answer that fits one frame goes as a single `end` with QoS 0
 * (a broker acknowledgement would add two packets to every small request); an answer of several frames,
 * and a subscription's pushes, go with QoS 1, keeping at most WINDOW unacknowledged, so the
 * acknowledgements pace the gateway to the bridge's reader. All frames of one request share one QoS,
 * which keeps them in order (MQTT 3.1.1 §4.6).
 */
class ReplyWriter {
  private readonly options: RequestHandlerOptions;
  private readonly envelope: RequestEnvelope;
  private readonly topic: string;
  private seq = 0;
  private qos: 0 | 1 = LINK_QOS.stream;
  private readonly pending: Promise<void>[] = [];

  constructor(options: RequestHandlerOptions, envelope: RequestEnvelope) {
    this.options = options;
    this.envelope = envelope;
    this.topic = linkTopics.reply(envelope.replyTo, options.gatewayId);
  }

  private async send(kind: FrameHeader['kind'], body?: Buffer, error?: FrameHeader['error']): Promise<void> {
    const last = kind === 'end' || kind === 'error';
    if (this.seq === 0 && last) this.qos = LINK_QOS.singleFrame;
    const header: FrameHeader = { id: this.envelope.id, seq: this.seq++, kind, ...(error ? { error } : {}) };
    const sealed = sealFrame(header, body, this.options.gatewayId, this.options.session);
    this.pending.push(this.options.publish(this.topic, sealed, this.qos));
    if (this.pending.length >= WINDOW) await this.pending.shift();
    if (last) await Promise.all(this.pending.splice(0));
  }

  /** The answer's JSON in pieces: `data` frames, then the last piece in the `end` frame. */
  async answer(answer: unknown): Promise<void> {
    const json = Buffer.from(JSON.stringify(answer ?? null));
    let at = 0;
    for (; json.length - at > CHUNK_BYTES; at += CHUNK_BYTES)
      await this.send('data', json.subarray(at, at + CHUNK_BYTES));
    await this.send('end', json.subarray(at));
  }

  push(batch: unknown): Promise<void> {
    return this.send('push', Buffer.from(JSON.stringify(batch)));
  }

  end(): Promise<void> {
    return this.send('end');
  }

  error(error: unknown): Promise<void> {
    return this.send('error', undefined, toErrorBody(error).error);
  }
}
