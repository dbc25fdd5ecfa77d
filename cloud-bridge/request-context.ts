/**
 * Per-request state of the bridge's HTTP API: the caller's identity once the bearer token checked out,
 * and what the bridge audit records about the request when it ends (allowed, refused or failed).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { gatewayError } from '../gateway/api/index.ts';
import type { BridgeAuditEntry, BridgeStore } from './store.ts';
import type { TokenIdentity, TokenVerifier } from './tokens.ts';

export interface RequestNote {
  action: string;
  organisation?: string;
  subject?: string;
  app?: string;
  gatewayId?: string;
  sourceId?: string;
  /** The PG_ERR code the caller got, set by the error handler. */
  outcome?: string;
  detail?: string;
}

const notes = new WeakMap<FastifyRequest, RequestNote>();
const identities = new WeakMap<FastifyRequest, TokenIdentity>();

export function noteOf(request: FastifyRequest): RequestNote {
  let note = notes.get(request);
  if (!note) {
    note = { action: `${request.method} ${request.routeOptions.url ?? request.url.split('?')[0]}` };
    notes.set(request, note);
  }
  return note;
}

export function note(request: FastifyRequest, fields: Partial<RequestNote>): void {
  Object.assign(noteOf(request), fields);
}

/** Checks the bearer token; the identity, or PG_ERR_UNAUTHENTICATED. */
export async function authenticate(request: FastifyRequest, verifier: TokenVerifier): Promise<TokenIdentity> {
  const known = identities.get(request);
  if (known) return known;
  const header = request.headers.authorization ?? '';
  if (!/^Bearer\s+\S+$/i.test(header))
    throw gatewayError('PG_ERR_UNAUTHENTICATED', 'a bearer token is required (Authorization: Bearer …)');
  const token = header.replace(/^Bearer\s+/i, '');
  let identity: TokenIdentity;
  try {
    identity = await verifier.verify(token);
  } catch (error) {
    // A refusal is audited under the organisation the token claims, if it names a configured issuer.
    const organisation = verifier.claimedOrganisation(token);
    if (organisation) note(request, { organisation });
    throw error;
  }
  identities.set(request, identity);
  note(request, { organisation: identity.organisation, subject: identity.subject, app: identity.app });
  return identity;
}

/** Writes the request's audit entry; a failure to write it is logged, not hidden. */
export async function auditRequest(
  store: BridgeStore,
  request: FastifyRequest,
  reply: FastifyReply,
  onFailure: (error: Error) => void,
): Promise<void> {
  const n = noteOf(request);
  const entry: BridgeAuditEntry = {
    time: new Date().toISOString(),
    action: n.action,
    outcome: reply.statusCode < 400 ? 'ok' : (n.outcome ?? `HTTP ${reply.statusCode}`),
    ...(n.organisation ? { organisation: n.organisation } : {}),
    ...(n.subject ? { subject: n.subject } : {}),
    ...(n.app ? { app: n.app } : {}),
    ...(n.gatewayId ? { gatewayId: n.gatewayId } : {}),
    ...(n.sourceId ? { sourceId: n.sourceId } : {}),
    ...(n.detail ? { detail: n.detail.slice(0, 1000) } : {}),
  };
  await store.audit(entry).catch(onFailure);
}
