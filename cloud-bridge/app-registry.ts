/**
 * The organisation's app registry: what a developer says of an app (client id, name, publisher, the
 * exact addresses the consent prompt may return to, offline access), checked once for the API and the
 * developer's page alike.
 */
import { gatewayError } from '../gateway/api/index.ts';
import { body } from './request-body.ts';
import type { AppDecision, AppRecord, BridgeStore } from './store.ts';
import type { TokenIdentity } from './tokens.ts';

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

export function appRegistration(value: unknown) {
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

/** Registers or changes an app of the caller's organisation; the record and what it replaced. */
export async function saveApp(
  store: BridgeStore,
  identity: TokenIdentity,
  value: unknown,
): Promise<{ record: AppRecord; before: AppRecord | undefined }> {
  const wanted = appRegistration(value);
  const existing = await store.getApp(wanted.clientId);
  if (existing && existing.organisation !== identity.organisation)
    throw gatewayError('PG_ERR_CONFLICT', `client id "${wanted.clientId}" belongs to another organisation`);
  const now = new Date().toISOString();
  const record: AppRecord = {
    ...wanted,
    organisation: identity.organisation,
    createdBy: existing?.createdBy ?? identity.subject,
    createdAt: existing?.createdAt ?? now,
    updatedBy: identity.subject,
    updatedAt: now,
  };
  return { record, before: await store.putApp(record) };
}

/** The audit's words for a registration: before and after. */
export const appChange = (record: AppRecord, before: AppRecord | undefined) =>
  `app ${record.clientId} ${before ? 'changed' : 'registered'}: before ${JSON.stringify(before ?? null)} after ${JSON.stringify(record)}`;

const PRINCIPAL = /^(user|group):[^*?\s]{1,256}$/;
const MAX_PRINCIPALS = 1000;

/** An organisation's decision as a caller states it: `{ allowed, principals? }`. */
export function appDecisionOf(value: unknown): AppDecision {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw gatewayError('PG_ERR_BAD_REQUEST', 'the body must be a JSON object');
  const { principals, ...rest } = value as Record<string, unknown>;
  const { allowed } = body<{ allowed: boolean }>(rest, { allowed: 'boolean' });
  if (principals === undefined) return { allowed };
  if (!allowed) throw gatewayError('PG_ERR_BAD_REQUEST', 'principals go only with allowed: true');
  if (!Array.isArray(principals) || principals.length < 1 || principals.length > MAX_PRINCIPALS)
    throw gatewayError('PG_ERR_BAD_REQUEST', `principals must list 1 to ${MAX_PRINCIPALS} users or groups`);
  principals.forEach((p, i) => {
    if (typeof p !== 'string' || !PRINCIPAL.test(p))
      throw gatewayError('PG_ERR_BAD_REQUEST', `principals[${i}] must be user:<id> or group:<id>`);
  });
  return { allowed, principals: [...new Set(principals as string[])] };
}

/** The audit's and the pages' words for a decision. */
export const decisionText = (d: AppDecision | undefined) =>
  !d
    ? 'no decision'
    : !d.allowed
      ? 'refused'
      : d.principals
        ? `allowed for ${d.principals.join(', ')}`
        : 'allowed for everyone';
