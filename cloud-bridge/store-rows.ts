/** The bridge store's records, and how a row of its tables becomes one. */

export interface GatewayRecord {
  id: string;
  organisation: string;
  name: string;
  createdAt: string;
  /** Pinned at enrollment; absent until the gateway enrolls. */
  signPublicKey?: string;
  boxPublicKey?: string;
  enrolledAt?: string;
}

export interface ConsentRecord {
  id: string;
  organisation: string;
  /** `user:<oid-or-sub>` */
  subject: string;
  app: string;
  gatewayId: string;
  sourceId: string;
  offlineAccess: boolean;
  createdAt: string;
}

export interface BridgeAuditEntry {
  time: string;
  organisation?: string;
  subject?: string;
  app?: string;
  gatewayId?: string;
  sourceId?: string;
  action: string;
  /** `ok` or the PG_ERR code the caller got. */
  outcome: string;
  detail?: string;
}

/** What an organisation trusts, set by its admins. */
export interface TrustSettings {
  /** Whether people may let apps keep working while they are not signed in. */
  offlineAccess: 'allowed' | 'refused';
  /** An app token from an older interactive sign-in serves only apps with offline access. */
  sessionHours: number;
}

/** An organisation's decision on an app: refused, or allowed for everyone or only for some principals. */
export interface AppDecision {
  allowed: boolean;
  /** Only these users and groups (`user:…`, `group:…`) may use the app; absent: everyone. */
  principals?: string[];
}

/** An app registered by a developer of its organisation. */
export interface AppRecord {
  clientId: string;
  organisation: string;
  name: string;
  publisher: string;
  /** Where the consent prompt may send a person back to: exact addresses only. */
  redirectUris: string[];
  /** The app keeps working for a person who is not signed in (refreshes its tokens on its own). */
  offlineAccess: boolean;
  createdBy: string;
  createdAt: string;
  updatedBy: string;
  updatedAt: string;
}

export type Row = Record<string, string | number | null>;

export function gatewayOf(row: Row): GatewayRecord {
  return {
    id: row.id as string,
    organisation: row.organisation as string,
    name: row.name as string,
    createdAt: row.created_at as string,
    ...(row.sign_public_key ? { signPublicKey: row.sign_public_key as string } : {}),
    ...(row.box_public_key ? { boxPublicKey: row.box_public_key as string } : {}),
    ...(row.enrolled_at ? { enrolledAt: row.enrolled_at as string } : {}),
  };
}

export function consentOf(row: Row): ConsentRecord {
  return {
    id: row.id as string,
    organisation: row.organisation as string,
    subject: row.subject as string,
    app: row.app as string,
    gatewayId: row.gateway_id as string,
    sourceId: row.source_id as string,
    offlineAccess: row.offline_access === 1,
    createdAt: row.created_at as string,
  };
}

export function auditOf(row: Row): BridgeAuditEntry {
  const entry: BridgeAuditEntry = {
    time: row.time as string,
    action: row.action as string,
    outcome: row.outcome as string,
  };
  for (const [key, column] of [
    ['organisation', 'organisation'],
    ['subject', 'subject'],
    ['app', 'app'],
    ['gatewayId', 'gateway_id'],
    ['sourceId', 'source_id'],
    ['detail', 'detail'],
  ] as const) {
    if (row[column] !== null && row[column] !== undefined) entry[key] = row[column] as string;
  }
  return entry;
}

export function appOf(row: Row): AppRecord {
  return {
    clientId: row.client_id as string,
    organisation: row.organisation as string,
    name: row.name as string,
    publisher: row.publisher as string,
    redirectUris: JSON.parse(row.redirect_uris as string) as string[],
    offlineAccess: row.offline_access === 1,
    createdBy: row.created_by as string,
    createdAt: row.created_at as string,
    updatedBy: row.updated_by as string,
    updatedAt: row.updated_at as string,
  };
}
