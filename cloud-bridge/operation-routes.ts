/**
 * The app API's typed operations: `POST /api/v1/gateways/{gw}/sources/{src}/…` and the gateway-wide
 * reads. Each call is checked here (token, organisation, app, consent, the operation's schema), then
 * forwarded over the link; the gateway checks the schema again and applies its own role rules. Large
 * answers stream through as they arrive.
 */
import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply } from 'fastify';
import {
  CHANGE_OPERATIONS,
  checkOperationRequest,
  gatewayError,
  OPERATION_PATHS,
  type OperationName,
  PlantgateError,
} from '../gateway/api/index.ts';
import type { CloudAccess } from './cloud-access.ts';
import type { EnvelopeFields, Frame, LinkCall, LinkDispatcher } from './link-dispatcher.ts';
import { authenticate, note } from './request-context.ts';
import type { BridgeStore, GatewayRecord } from './store.ts';
import type { TokenIdentity, TokenVerifier } from './tokens.ts';

export interface OperationRouteDeps {
  verifier: TokenVerifier;
  access: CloudAccess;
  dispatcher: LinkDispatcher;
  store: BridgeStore;
  isOnline(gatewayId: string): boolean;
}

const IDEMPOTENCY_KEY = /^[A-Za-z0-9._:-]{8,128}$/;

function errorOf(frame: Frame): PlantgateError {
  const error = frame.header.error ?? { code: 'PG_ERR_INTERNAL', message: 'the gateway failed' };
  return new PlantgateError(error.code, error.message, error.details);
}

/**
 * The answer: one buffer when it came in one frame, else its JSON pieces as a stream, in order. The
 * first frame is awaited so an error still gets its status code.
 */
async function answerOf(call: LinkCall): Promise<Buffer | Readable> {
  const frames = call[Symbol.asyncIterator]();
  const first = await frames.next();
  if (first.done) throw gatewayError('PG_ERR_LINK_LOST', 'the gateway ended the reply without an answer');
  if (first.value.header.kind === 'error') throw errorOf(first.value);
  if (first.value.header.kind === 'end') return first.value.body;
  async function* pieces(): AsyncGenerator<Buffer> {
    let frame: Frame | undefined = first.value as Frame;
    while (frame) {
      if (frame.header.kind === 'error') throw errorOf(frame);
      if ((frame.header.kind === 'data' || frame.header.kind === 'end') && frame.body.length)
        yield frame.body;
      const next = await frames.next();
      frame = next.done ? undefined : next.value;
    }
  }
  return Readable.from(pieces(), { objectMode: false });
}

/** Runs one operation through the link and streams its answer into the reply. */
export async function forward(
  deps: OperationRouteDeps,
  reply: FastifyReply,
  gateway: GatewayRecord,
  fields: EnvelopeFields,
): Promise<FastifyReply> {
  const call = await deps.dispatcher.call(gateway, fields);
  reply.raw.on('close', () => {
    if (!call.done) void deps.dispatcher.cancel(gateway, call, fields);
  });
  const body = await answerOf(call);
  return reply.type('application/json').send(body);
}

async function gatewayRead(
  deps: OperationRouteDeps,
  identity: TokenIdentity,
  gatewayId: string,
): Promise<{ gateway: GatewayRecord; fields: EnvelopeFields }> {
  const { gateway, consents } = await deps.access.authorizeGatewayCall(identity, gatewayId);
  return {
    gateway,
    fields: {
      operation: 'health',
      principal: { subject: identity.subject, groups: identity.groups },
      app: identity.app,
      consentId: (consents[0] as { id: string }).id,
      request: {},
    },
  };
}

/** Runs health through the link and returns its parsed answer (small, so it is not streamed). */
async function healthOf(deps: OperationRouteDeps, gateway: GatewayRecord, fields: EnvelopeFields) {
  const call = await deps.dispatcher.call(gateway, fields);
  const parts: Buffer[] = [];
  for await (const frame of call) {
    if (frame.header.kind === 'error') throw errorOf(frame);
    if (frame.header.kind === 'data' || frame.header.kind === 'end') parts.push(frame.body);
  }
  return JSON.parse(Buffer.concat(parts).toString('utf8')) as { sources?: { id: string }[] };
}

export function registerOperationRoutes(app: FastifyInstance, deps: OperationRouteDeps): void {
  app.get('/api/v1/gateways', async (request) => {
    const identity = await authenticate(request, deps.verifier);
    await deps.access.requireAppAllowed(identity);
    const gateways = await deps.store.listGateways(identity.organisation);
    return {
      gateways: gateways.map((g) => ({
        id: g.id,
        name: g.name,
        enrolled: g.enrolledAt !== undefined,
        online: deps.isOnline(g.id),
      })),
    };
  });

  app.get<{ Params: { gw: string } }>('/api/v1/gateways/:gw/health', async (request, reply) => {
    const identity = await authenticate(request, deps.verifier);
    note(request, { gatewayId: request.params.gw });
    const { gateway, fields } = await gatewayRead(deps, identity, request.params.gw);
    return forward(deps, reply, gateway, fields);
  });

  app.get<{ Params: { gw: string } }>('/api/v1/gateways/:gw/sources', async (request) => {
    const identity = await authenticate(request, deps.verifier);
    note(request, { gatewayId: request.params.gw });
    const { gateway, fields } = await gatewayRead(deps, identity, request.params.gw);
    const consented = new Set(
      (await deps.store.listConsents(identity.subject))
        .filter((c) => c.app === identity.app && c.gatewayId === gateway.id)
        .map((c) => c.sourceId),
    );
    const health = await healthOf(deps, gateway, fields);
    // Only the sources this user let this app use.
    return { sources: (health.sources ?? []).filter((s) => consented.has(s.id)) };
  });

  for (const [operation, path] of Object.entries(OPERATION_PATHS)) {
    app.post<{ Params: { gw: string; src: string } }>(
      `/api/v1/gateways/:gw/sources/:src/${path}`,
      async (request, reply) => {
        const identity = await authenticate(request, deps.verifier);
        const { gw, src } = request.params;
        note(request, { gatewayId: gw, sourceId: src, action: operation });
        const { gateway, consent } = await deps.access.authorizeSourceCall(identity, gw, src);
        const checked = checkOperationRequest(operation as OperationName, request.body ?? {});
        let idempotencyKey: string | undefined;
        if (CHANGE_OPERATIONS.has(operation as OperationName)) {
          const header = request.headers['idempotency-key'];
          if (typeof header !== 'string' || !IDEMPOTENCY_KEY.test(header))
            throw gatewayError(
              'PG_ERR_BAD_REQUEST',
              `${operation} needs an Idempotency-Key header (8 to 128 of A-Z a-z 0-9 . _ : -)`,
            );
          idempotencyKey = header;
        }
        return forward(deps, reply, gateway, {
          operation: operation as OperationName,
          sourceId: src,
          principal: { subject: identity.subject, groups: identity.groups },
          app: identity.app,
          consentId: consent.id,
          ...(idempotencyKey ? { idempotencyKey } : {}),
          request: checked,
        });
      },
    );
  }
}
