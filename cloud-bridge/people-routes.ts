/**
 * What people do at the bridge, always through the bridge's own client (never an app's token): give and
 * revoke consent, and — org admins — create enrollment codes, delete gateways, allow or refuse apps and
 * read their organisation's audit.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { gatewayError, isLinkId } from '../gateway/api/index.ts';
import type { CloudAccess } from './cloud-access.ts';
import { authenticate, note } from './request-context.ts';
import type { BridgeStore } from './store.ts';
import type { TokenVerifier } from './tokens.ts';

export const ENROLLMENT_CODE_LIFETIME_MS = 24 * 3_600_000;

export const hashCode = (code: string) => createHash('sha256').update(code).digest('hex');

export interface PeopleRouteDeps {
  verifier: TokenVerifier;
  access: CloudAccess;
  store: BridgeStore;
  /** Closes a gateway's link at once. */
  disconnect(gatewayId: string): void;
}

function body<T>(value: unknown, fields: Record<keyof T, 'string' | 'boolean' | 'string?' | 'boolean?'>): T {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw gatewayError('PG_ERR_BAD_REQUEST', 'the body must be a JSON object');
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (!(key in fields)) throw gatewayError('PG_ERR_BAD_REQUEST', `unknown field "${key}"`);
  }
  for (const [key, type] of Object.entries(fields) as [string, string][]) {
    const optional = type.endsWith('?');
    const present = record[key] !== undefined;
    if (!present && !optional) throw gatewayError('PG_ERR_BAD_REQUEST', `field "${key}" is required`);
    if (present && typeof record[key] !== type.replace('?', ''))
      throw gatewayError('PG_ERR_BAD_REQUEST', `field "${key}" must be a ${type.replace('?', '')}`);
    if (
      typeof record[key] === 'string' &&
      ((record[key] as string).length === 0 || (record[key] as string).length > 256)
    )
      throw gatewayError('PG_ERR_BAD_REQUEST', `field "${key}" must be 1 to 256 characters`);
  }
  return record as T;
}

const CLIENT_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

/** A redirect address an app may register: https, or http on loopback (a developer's machine). */
export function redirectUriProblem(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length > 2048) return 'must be a URL of at most 2048 characters';
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'is not a URL';
  }
  if (url.hash) return 'may not have a fragment';
  if (url.username || url.password) return 'may not carry credentials';
  if (url.protocol === 'https:') return undefined;
  if (url.protocol === 'http:' && ['127.0.0.1', '[::1]', 'localhost'].includes(url.hostname))
    return undefined;
  return 'must be https (or http on loopback)';
}

function appRegistration(value: unknown) {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw gatewayError('PG_ERR_BAD_REQUEST', 'the body must be a JSON object');
  const { redirectUris, ...rest } = value as Record<string, unknown>;
  const wanted = body<{ clientId: string; name: string; publisher: string; offlineAccess?: boolean }>(rest, {
    clientId: 'string',
    name: 'string',
    publisher: 'string',
    offlineAccess: 'boolean?',
  });
  if (!CLIENT_ID.test(wanted.clientId))
    throw gatewayError('PG_ERR_BAD_REQUEST', 'clientId must be 1 to 128 of A-Z a-z 0-9 . _ : -');
  if (!Array.isArray(redirectUris) || redirectUris.length < 1 || redirectUris.length > 20)
    throw gatewayError('PG_ERR_BAD_REQUEST', 'redirectUris must list 1 to 20 addresses');
  redirectUris.forEach((uri, i) => {
    const problem = redirectUriProblem(uri);
    if (problem) throw gatewayError('PG_ERR_BAD_REQUEST', `redirectUris[${i}] ${problem}`);
  });
  return { ...wanted, redirectUris: redirectUris as string[], offlineAccess: wanted.offlineAccess ?? false };
}

export function registerPeopleRoutes(app: FastifyInstance, deps: PeopleRouteDeps): void {
  app.post('/api/v1/apps', async (request, reply) => {
    const identity = await authenticate(request, deps.verifier);
    deps.access.requireOwnClient(identity, 'registering apps');
    deps.access.requireDeveloper(identity, 'registering apps');
    const wanted = appRegistration(request.body);
    const existing = await deps.store.getApp(wanted.clientId);
    if (existing && existing.organisation !== identity.organisation)
      throw gatewayError('PG_ERR_CONFLICT', `client id "${wanted.clientId}" belongs to another organisation`);
    const now = new Date().toISOString();
    const record = {
      ...wanted,
      organisation: identity.organisation,
      createdBy: existing?.createdBy ?? identity.subject,
      createdAt: existing?.createdAt ?? now,
      updatedBy: identity.subject,
      updatedAt: now,
    };
    const before = await deps.store.putApp(record);
    note(request, {
      detail: `app ${record.clientId} ${before ? 'changed' : 'registered'}: before ${JSON.stringify(before ?? null)} after ${JSON.stringify(record)}`,
    });
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
    if (!isLinkId(wanted.id))
      throw gatewayError(
        'PG_ERR_BAD_REQUEST',
        `gateway id "${wanted.id}" must be lower case, digits, - and _ (≤ 63)`,
      );
    const existing = await deps.store.getGateway(wanted.id);
    if (existing && existing.organisation !== identity.organisation)
      throw gatewayError('PG_ERR_CONFLICT', `gateway id "${wanted.id}" is taken`);
    if (!existing)
      await deps.store.createGateway({
        id: wanted.id,
        organisation: identity.organisation,
        name: wanted.name ?? wanted.id,
      });
    const code = `pgc_${randomBytes(24).toString('base64url')}`;
    const expiresAt = Date.now() + ENROLLMENT_CODE_LIFETIME_MS;
    await deps.store.addEnrollmentCode({ hash: hashCode(code), gatewayId: wanted.id, expiresAt });
    return reply.code(201).send({ gatewayId: wanted.id, code, expiresAt: new Date(expiresAt).toISOString() });
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
      const wanted = body<{ allowed: boolean }>(request.body, { allowed: 'boolean' });
      note(request, { detail: `app ${request.params.clientId} allowed=${wanted.allowed}` });
      await deps.store.setAppAllowed(request.params.org, request.params.clientId, wanted.allowed);
      return { organisation: request.params.org, app: request.params.clientId, allowed: wanted.allowed };
    },
  );

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
