/**
 * The organisation's app-access log: from the bridge's audit, every call an app made for a person —
 * who, which app, when, gateway, source, operation, outcome — filtered by person, app, gateway and
 * outcome. For the admin page and `GET /api/v1/organisations/{org}/app-access`.
 */
import { gatewayError } from '../gateway/api/index.ts';
import type { BridgeAuditEntry, BridgeStore } from './store.ts';

export interface AppAccessFilter {
  since?: string;
  subject?: string;
  app?: string;
  gatewayId?: string;
  /** `ok`, or a PG_ERR code; `refused` for every refusal. */
  outcome?: string;
  limit?: number;
}

const MAX_SCAN = 10_000;

export async function appAccess(
  store: BridgeStore,
  organisation: string,
  ownClientId: string,
  filter: AppAccessFilter,
): Promise<BridgeAuditEntry[]> {
  const since = filter.since ?? new Date(Date.now() - 7 * 86_400_000).toISOString();
  if (Number.isNaN(Date.parse(since)))
    throw gatewayError('PG_ERR_BAD_TIME', `since "${since}" is not ISO 8601`);
  const limit = Math.min(Math.max(filter.limit ?? 500, 1), MAX_SCAN);
  const entries = await store.listAudit(organisation, new Date(since).toISOString(), MAX_SCAN);
  const subject =
    filter.subject && !filter.subject.startsWith('user:') ? `user:${filter.subject}` : filter.subject;
  return entries
    .filter(
      (e) =>
        e.app !== undefined &&
        e.app !== ownClientId &&
        (!subject || e.subject === subject) &&
        (!filter.app || e.app === filter.app) &&
        (!filter.gatewayId || e.gatewayId === filter.gatewayId) &&
        (!filter.outcome ||
          (filter.outcome === 'refused' ? e.outcome !== 'ok' : e.outcome === filter.outcome)),
    )
    .reverse()
    .slice(0, limit);
}
