/**
 * What people do at the bridge, always through the bridge's own client (never an app's token): give and
 * revoke consent, and — org admins — create enrollment codes, delete gateways, allow or refuse apps and
 * read their organisation's audit.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { gatewayError, isLinkId } from '../gateway/api/index.ts';
import { appAccess } from './app-access.ts';
import { appChange, appDecisionOf, decisionText, saveApp } from './app-registry.ts';
import type { CloudAccess } from './cloud-access.ts';
import { body } from './request-body.ts';
import { authenticate, note } from './request-context.ts';
import type { BridgeStore } from './store.ts';
import type { TokenVerifier } from './tokens.ts';
import { trustSettingsOf, trustText } from './trust-settings.ts';

export const ENROLLMENT_CODE_LIFETIME_MS = 24 * 3_600_000;

export const hashCode = (code: string) => createHash('sha256').update(code).digest('hex');

export interface PeopleRouteDeps {
  verifier: TokenVerifier;
  access: CloudAccess;
  store: BridgeStore;
  /** Closes a gateway's link at once. */
  disconnect(gatewayId: string): void;
  /** The bridge's own client id: its calls are people's, not an app's. */
  ownClientId: string;
}

/** A one-time enrollment code for a gateway of the caller's organisation (made on first use of the id). */
export async function issueEnrollmentCode(
  store: BridgeStore,
  organisation: string,
  id: string,
  name?: string,
): Promise<{ gatewayId: string; code: string; expiresAt: string }> {
  if (!isLinkId(id))
    throw gatewayError('PG_ERR_BAD_REQUEST', `gateway id "${id}" must be lower case, digits, - and _ (≤ 63)`);
  const existing = await store.getGateway(id);
  if (existing && existing.organisation !== organisation)
    throw gatewayError('PG_ERR_CONFLICT', `gateway id "${id}" is taken`);
  if (!existing) await store.createGateway({ id, organisation, name: name ?? id });
  const code = `pgc_${randomBytes(24).toString('base64url')}`;
  const expiresAt = Date.now() + ENROLLMENT_CODE_LIFETIME_MS;
  await store.addEnrollmentCode({ hash: hashCode(code), gatewayId: id, expiresAt });
  return { gatewayId: id, code, expiresAt: new Date(expiresAt).toISOString() };
}

export function registerPeopleRoutes(app: FastifyInstance, deps: PeopleRouteDeps): void {
  app.post('/api/v1/apps', async (request, reply) => {
    const identity = await authenticate(request, deps.verifier);
    deps.access.requireOwnClient(identity, 'registering apps');
    deps.access.requireDeveloper(identity, 'registering apps');
    const { record, before } = await saveApp(deps.store, identity, request.body);
    note(request, { detail: appChange(record, before) });
    return reply.code(before ? 200 : 201).send(record);
  });

  app.get('/api/v1/apps', async (request) => {
    const identity = await authenticate(request, deps.verifier);
    deps.access.requireOwnClient(identity, 'listing apps');
    deps.access.requireDeveloper(identity, 'listing apps');
    return { apps: await deps.store.listApps(identity.organisation) };
  });

  app.post('/api/v1/consents', async (request, reply) => {
    const identity = await authenticate(request, deps.verifier);
    deps.access.requireOwnClient(identity, 'consent');
    const wanted = body<{ app: string; gatewayId: string; sourceId: string; offlineAccess?: boolean }>(
      request.body,
      {
        app: 'string',
        gatewayId: 'string',
        sourceId: 'string',
        offlineAccess: 'boolean?',
      },
    );
    note(request, { gatewayId: wanted.gatewayId, sourceId: wanted.sourceId, detail: `app ${wanted.app}` });
    await deps.access.gatewayOf(identity, wanted.gatewayId);
    await deps.access.requireAppAllowed(identity, wanted.app);
    if (!isLinkId(wanted.sourceId))
      throw gatewayError('PG_ERR_BAD_REQUEST', `"${wanted.sourceId}" is not a source id`);
    const consent = {
      id: randomUUID(),
      organisation: identity.organisation,
      subject: identity.subject,
      app: wanted.app,
      gatewayId: wanted.gatewayId,
      sourceId: wanted.sourceId,
      offlineAccess: wanted.offlineAccess === true,
      createdAt: new Date().toISOString(),
    };
    await deps.store.addConsent(consent);
    return reply.code(201).send(consent);
  });

  app.get('/api/v1/consents', async (request) => {
    const identity = await authenticate(request, deps.verifier);
    deps.access.requireOwnClient(identity, 'listing consents');
    return { consents: await deps.store.listConsents(identity.subject) };
  });

  app.delete<{ Params: { id: string } }>('/api/v1/consents/:id', async (request, reply) => {
    const identity = await authenticate(request, deps.verifier);
    deps.access.requireOwnClient(identity, 'revoking consent');
    note(request, { detail: `consent ${request.params.id}` });
    if (!(await deps.store.revokeConsent(request.params.id, identity.subject)))
      throw gatewayError('PG_ERR_NOT_FOUND', `no consent "${request.params.id}" of ${identity.subject}`);
    return reply.code(204).send();
  });

  // An enrollment code for a new gateway, or for an existing one of the organisation (re-enrollment
  // rotates its keys).
  app.post('/api/v1/gateways', async (request, reply) => {
    const identity = await authenticate(request, deps.verifier);
    deps.access.requireOwnClient(identity, 'enrolling gateways');
    deps.access.requireOrgAdmin(identity, identity.organisation, 'enrolling gateways');
    const wanted = body<{ id: string; name?: string }>(request.body, { id: 'string', name: 'string?' });
    note(request, { gatewayId: wanted.id });
    return reply
      .code(201)
      .send(await issueEnrollmentCode(deps.store, identity.organisation, wanted.id, wanted.name));
  });

  app.delete<{ Params: { gw: string } }>('/api/v1/gateways/:gw', async (request, reply) => {
    const identity = await authenticate(request, deps.verifier);
    deps.access.requireOwnClient(identity, 'deleting gateways');
    deps.access.requireOrgAdmin(identity, identity.organisation, 'deleting gateways');
    note(request, { gatewayId: request.params.gw });
    await deps.access.gatewayOf(identity, request.params.gw);
    await deps.store.deleteGateway(request.params.gw);
    deps.disconnect(request.params.gw);
    return reply.code(204).send();
  });

  app.put<{ Params: { org: string; clientId: string } }>(
    '/api/v1/organisations/:org/apps/:clientId',
    async (request) => {
      const identity = await authenticate(request, deps.verifier);
      deps.access.requireOwnClient(identity, 'choosing apps');
      deps.access.requireOrgAdmin(identity, request.params.org, 'choosing apps');
      const decision = appDecisionOf(request.body);
      const { org, clientId } = request.params;
      const before = await deps.store.appDecision(org, clientId);
      await deps.store.setAppDecision(org, clientId, decision);
      note(request, {
        app: clientId,
        detail: `app ${clientId}: before ${decisionText(before)}, after ${decisionText(decision)}`,
      });
      return { organisation: org, app: clientId, ...decision };
    },
  );

  app.put<{ Params: { org: string } }>('/api/v1/organisations/:org/trust', async (request) => {
    const identity = await authenticate(request, deps.verifier);
    deps.access.requireOwnClient(identity, 'trust settings');
    deps.access.requireOrgAdmin(identity, request.params.org, 'trust settings');
    const settings = trustSettingsOf(request.body);
    const before = await deps.access.trustOf(request.params.org);
    await deps.store.setTrustSettings(request.params.org, settings);
    note(request, { detail: `trust: before ${trustText(before)}, after ${trustText(settings)}` });
    return { organisation: request.params.org, ...settings };
  });

  app.get<{
    Params: { org: string };
    Querystring: {
      since?: string;
      limit?: string;
      user?: string;
      app?: string;
      gateway?: string;
      outcome?: string;
    };
  }>('/api/v1/organisations/:org/app-access', async (request) => {
    const identity = await authenticate(request, deps.verifier);
    deps.access.requireOwnClient(identity, 'reading the app-access log');
    deps.access.requireOrgAdmin(identity, request.params.org, 'reading the app-access log');
    const q = request.query;
    return {
      entries: await appAccess(deps.store, request.params.org, deps.ownClientId, {
        ...(q.since ? { since: q.since } : {}),
        ...(q.user ? { subject: q.user } : {}),
        ...(q.app ? { app: q.app } : {}),
        ...(q.gateway ? { gatewayId: q.gateway } : {}),
        ...(q.outcome ? { outcome: q.outcome } : {}),
        ...(q.limit ? { limit: Number(q.limit) || 500 } : {}),
      }),
    };
  });

  app.get<{ Params: { org: string }; Querystring: { since?: string; limit?: string } }>(
    '/api/v1/organisations/:org/audit',
    async (request) => {
      const identity = await authenticate(request, deps.verifier);
      deps.access.requireOwnClient(identity, 'reading the audit');
      deps.access.requireOrgAdmin(identity, request.params.org, 'reading the audit');
      const limit = Math.min(Math.max(Number(request.query.limit ?? 1000) || 1000, 1), 10_000);
      const since = request.query.since ?? '1970-01-01T00:00:00.000Z';
      if (Number.isNaN(Date.parse(since)))
        throw gatewayError('PG_ERR_BAD_TIME', `since "${since}" is not ISO 8601`);
      return {
        entries: await deps.store.listAudit(request.params.org, new Date(since).toISOString(), limit),
      };
    },
  );
}
