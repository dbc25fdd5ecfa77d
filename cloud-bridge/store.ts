/**
 * The bridge's state — gateways, enrollment codes, consents, the organisations' app choices and the
 * bridge audit — behind one typed data layer. Every method is asynchronous so the same interface can be
 * served by PostgreSQL when several bridge instances share state; this build has the embedded SQLite one.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import {
  type AppDecision,
  type AppRecord,
  appOf,
  auditOf,
  type BridgeAuditEntry,
  type ConsentRecord,
  consentOf,
  type GatewayRecord,
  gatewayOf,
  type Row,
  type TrustSettings,
} from './store-rows.ts';

export type {
  AppDecision,
  AppRecord,
  BridgeAuditEntry,
  ConsentRecord,
  GatewayRecord,
  TrustSettings,
} from './store-rows.ts';

export interface BridgeStore {
  createGateway(gateway: Pick<GatewayRecord, 'id' | 'organisation' | 'name'>): Promise<boolean>;
  getGateway(id: string): Promise<GatewayRecord | undefined>;
  listGateways(organisation: string): Promise<GatewayRecord[]>;
  deleteGateway(id: string): Promise<boolean>;
  pinGatewayKeys(id: string, keys: { signPublicKey: string; boxPublicKey: string }): Promise<void>;

  addEnrollmentCode(code: { hash: string; gatewayId: string; expiresAt: number }): Promise<void>;
  /** Uses a code of that gateway once: false when it is unknown, used, expired or another gateway's. */
  consumeEnrollmentCode(hash: string, gatewayId: string, now: number): Promise<boolean>;

  addConsent(consent: ConsentRecord): Promise<void>;
  findConsent(
    subject: string,
    app: string,
    gatewayId: string,
    sourceId: string,
  ): Promise<ConsentRecord | undefined>;
  listConsents(subject: string): Promise<ConsentRecord[]>;
  revokeConsent(id: string, subject: string): Promise<boolean>;

  /** An organisation's decision on an app, or undefined when it made none. */
  appDecision(organisation: string, app: string): Promise<AppDecision | undefined>;
  setAppDecision(organisation: string, app: string, decision: AppDecision): Promise<void>;
  /** Seeds decisions that do not exist yet (from the config's allowedApps). */
  seedAllowedApps(organisation: string, apps: readonly string[]): Promise<void>;

  /** Registers an app, or replaces its registration; the previous one, if any. */
  putApp(app: AppRecord): Promise<AppRecord | undefined>;
  getApp(clientId: string): Promise<AppRecord | undefined>;
  listApps(organisation: string): Promise<AppRecord[]>;

  /** An organisation's trust settings, or undefined while its admins kept the defaults. */
  trustSettings(organisation: string): Promise<TrustSettings | undefined>;
  setTrustSettings(organisation: string, settings: TrustSettings): Promise<void>;

  audit(entry: BridgeAuditEntry): Promise<void>;
  /** An organisation's entries, or (null) those that name none, e.g. tokens from unknown issuers. */
  listAudit(organisation: string | null, since: string, limit: number): Promise<BridgeAuditEntry[]>;

  close(): void;
}

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS gateways (
    id TEXT PRIMARY KEY, organisation TEXT NOT NULL, name TEXT NOT NULL, created_at TEXT NOT NULL,
    sign_public_key TEXT, box_public_key TEXT, enrolled_at TEXT);
  CREATE TABLE IF NOT EXISTS enrollment_codes (
    hash TEXT PRIMARY KEY, gateway_id TEXT NOT NULL REFERENCES gateways(id) ON DELETE CASCADE,
    expires_at INTEGER NOT NULL, used_at INTEGER);
  CREATE TABLE IF NOT EXISTS consents (
    id TEXT PRIMARY KEY, organisation TEXT NOT NULL, subject TEXT NOT NULL, app TEXT NOT NULL,
    gateway_id TEXT NOT NULL REFERENCES gateways(id) ON DELETE CASCADE, source_id TEXT NOT NULL,
    offline_access INTEGER NOT NULL, created_at TEXT NOT NULL);
  CREATE UNIQUE INDEX IF NOT EXISTS consent_grant ON consents (subject, app, gateway_id, source_id);
  CREATE TABLE IF NOT EXISTS org_apps (
    organisation TEXT NOT NULL, app TEXT NOT NULL, allowed INTEGER NOT NULL, principals TEXT,
    PRIMARY KEY (organisation, app));
  CREATE TABLE IF NOT EXISTS apps (
    client_id TEXT PRIMARY KEY, organisation TEXT NOT NULL, name TEXT NOT NULL, publisher TEXT NOT NULL,
    redirect_uris TEXT NOT NULL, offline_access INTEGER NOT NULL, created_by TEXT NOT NULL,
    created_at TEXT NOT NULL, updated_by TEXT NOT NULL, updated_at TEXT NOT NULL);
  CREATE TABLE IF NOT EXISTS org_trust (organisation TEXT PRIMARY KEY, settings TEXT NOT NULL);
  CREATE TABLE IF NOT EXISTS audit (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, time TEXT NOT NULL, organisation TEXT, subject TEXT, app TEXT,
    gateway_id TEXT, source_id TEXT, action TEXT NOT NULL, outcome TEXT NOT NULL, detail TEXT);
  CREATE INDEX IF NOT EXISTS audit_org_time ON audit (organisation, time);
`;

/** Entries the read cache holds before it starts again. */
const CACHE_ENTRIES = 10_000;

export class SqliteBridgeStore implements BridgeStore {
  private readonly db: DatabaseSync;
  private readonly statements = new Map<string, StatementSync>();
  /**
   * What every app call reads (its gateway, the app decision, the consent), answered from memory. This
   * store is the only writer of its file and every write here empties the cache, so a revoked consent,
   * a refused app or a deleted gateway counts from the next call on. Records handed out are frozen.
   */
  private readonly cache = new Map<string, unknown>();
  private readonly pendingAudit: {
    entry: BridgeAuditEntry;
    resolve: () => void;
    reject: (error: Error) => void;
  }[] = [];

  constructor(dataDir: string) {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    this.db = new DatabaseSync(path.join(dataDir, 'bridge.db'));
    this.db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;');
    this.db.exec(SCHEMA);
    // A store made before apps could be allowed for some people only gains the column.
    const columns = this.db.prepare('PRAGMA table_info(org_apps)').all() as Row[];
    if (!columns.some((c) => c.name === 'principals'))
      this.db.exec('ALTER TABLE org_apps ADD COLUMN principals TEXT');
  }

  private cached<T>(key: string, read: () => T): T {
    if (this.cache.has(key)) return this.cache.get(key) as T;
    const value = read();
    if (this.cache.size >= CACHE_ENTRIES) this.cache.clear();
    this.cache.set(key, value);
    return value;
  }

  /** Each statement is compiled once. */
  private statement(sql: string): StatementSync {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  async createGateway(gateway: Pick<GatewayRecord, 'id' | 'organisation' | 'name'>): Promise<boolean> {
    this.cache.clear();
    const result = this.statement(
      'INSERT OR IGNORE INTO gateways (id, organisation, name, created_at) VALUES (?, ?, ?, ?)',
    ).run(gateway.id, gateway.organisation, gateway.name, new Date().toISOString());
    return result.changes === 1;
  }

  async getGateway(id: string): Promise<GatewayRecord | undefined> {
    return this.cached(`gateway\0${id}`, () => {
      const row = this.statement('SELECT * FROM gateways WHERE id = ?').get(id) as Row | undefined;
      return row ? Object.freeze(gatewayOf(row)) : undefined;
    });
  }

  async listGateways(organisation: string): Promise<GatewayRecord[]> {
    return (
      this.statement('SELECT * FROM gateways WHERE organisation = ? ORDER BY id').all(organisation) as Row[]
    ).map(gatewayOf);
  }

  async deleteGateway(id: string): Promise<boolean> {
    this.cache.clear();
    return this.statement('DELETE FROM gateways WHERE id = ?').run(id).changes === 1;
  }

  async pinGatewayKeys(id: string, keys: { signPublicKey: string; boxPublicKey: string }): Promise<void> {
    this.cache.clear();
    this.statement(
      'UPDATE gateways SET sign_public_key = ?, box_public_key = ?, enrolled_at = ? WHERE id = ?',
    ).run(keys.signPublicKey, keys.boxPublicKey, new Date().toISOString(), id);
  }

  async addEnrollmentCode(code: { hash: string; gatewayId: string; expiresAt: number }): Promise<void> {
    this.statement('INSERT INTO enrollment_codes (hash, gateway_id, expires_at) VALUES (?, ?, ?)').run(
      code.hash,
      code.gatewayId,
      code.expiresAt,
    );
  }

  async consumeEnrollmentCode(hash: string, gatewayId: string, now: number): Promise<boolean> {
    const result = this.statement(
      'UPDATE enrollment_codes SET used_at = ? WHERE hash = ? AND gateway_id = ? AND used_at IS NULL AND expires_at > ?',
    ).run(now, hash, gatewayId, now);
    return result.changes === 1;
  }

  async addConsent(consent: ConsentRecord): Promise<void> {
    this.cache.clear();
    this.statement(
      `INSERT INTO consents (id, organisation, subject, app, gateway_id, source_id, offline_access, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (subject, app, gateway_id, source_id)
         DO UPDATE SET id = excluded.id, offline_access = excluded.offline_access, created_at = excluded.created_at`,
    ).run(
      consent.id,
      consent.organisation,
      consent.subject,
      consent.app,
      consent.gatewayId,
      consent.sourceId,
      consent.offlineAccess ? 1 : 0,
      consent.createdAt,
    );
  }

  async findConsent(
    subject: string,
    app: string,
    gatewayId: string,
    sourceId: string,
  ): Promise<ConsentRecord | undefined> {
    return this.cached(`consent\0${subject}\0${app}\0${gatewayId}\0${sourceId}`, () => {
      const row = this.statement(
        'SELECT * FROM consents WHERE subject = ? AND app = ? AND gateway_id = ? AND source_id = ?',
      ).get(subject, app, gatewayId, sourceId) as Row | undefined;
      return row ? Object.freeze(consentOf(row)) : undefined;
    });
  }

  async listConsents(subject: string): Promise<ConsentRecord[]> {
    return (
      this.statement('SELECT * FROM consents WHERE subject = ? ORDER BY created_at').all(subject) as Row[]
    ).map(consentOf);
  }

  async revokeConsent(id: string, subject: string): Promise<boolean> {
    this.cache.clear();
    return this.statement('DELETE FROM consents WHERE id = ? AND subject = ?').run(id, subject).changes === 1;
  }

  async appDecision(organisation: string, app: string): Promise<AppDecision | undefined> {
    return this.cached(`app\0${organisation}\0${app}`, () => {
      const row = this.statement(
        'SELECT allowed, principals FROM org_apps WHERE organisation = ? AND app = ?',
      ).get(organisation, app) as Row | undefined;
      if (!row) return undefined;
      return Object.freeze({
        allowed: row.allowed === 1,
        ...(typeof row.principals === 'string' ? { principals: JSON.parse(row.principals) as string[] } : {}),
      });
    });
  }

  async setAppDecision(organisation: string, app: string, decision: AppDecision): Promise<void> {
    this.cache.clear();
    this.statement(
      `INSERT INTO org_apps (organisation, app, allowed, principals) VALUES (?, ?, ?, ?)
       ON CONFLICT DO UPDATE SET allowed = excluded.allowed, principals = excluded.principals`,
    ).run(
      organisation,
      app,
      decision.allowed ? 1 : 0,
      decision.principals ? JSON.stringify(decision.principals) : null,
    );
  }

  async seedAllowedApps(organisation: string, apps: readonly string[]): Promise<void> {
    this.cache.clear();
    const insert = this.statement(
      'INSERT OR IGNORE INTO org_apps (organisation, app, allowed) VALUES (?, ?, 1)',
    );
    for (const app of apps) insert.run(organisation, app);
  }

  async putApp(app: AppRecord): Promise<AppRecord | undefined> {
    const before = await this.getApp(app.clientId);
    this.cache.clear();
    this.statement(
      `INSERT INTO apps (client_id, organisation, name, publisher, redirect_uris, offline_access, created_by,
         created_at, updated_by, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (client_id) DO UPDATE SET name = excluded.name, publisher = excluded.publisher,
         redirect_uris = excluded.redirect_uris, offline_access = excluded.offline_access,
         updated_by = excluded.updated_by, updated_at = excluded.updated_at`,
    ).run(
      app.clientId,
      app.organisation,
      app.name,
      app.publisher,
      JSON.stringify(app.redirectUris),
      app.offlineAccess ? 1 : 0,
      app.createdBy,
      app.createdAt,
      app.updatedBy,
      app.updatedAt,
    );
    return before;
  }

  async getApp(clientId: string): Promise<AppRecord | undefined> {
    return this.cached(`app-record\0${clientId}`, () => {
      const row = this.statement('SELECT * FROM apps WHERE client_id = ?').get(clientId) as Row | undefined;
      return row ? Object.freeze(appOf(row)) : undefined;
    });
  }

  async listApps(organisation: string): Promise<AppRecord[]> {
    return (
      this.statement('SELECT * FROM apps WHERE organisation = ? ORDER BY client_id').all(
        organisation,
      ) as Row[]
    ).map(appOf);
  }

  async trustSettings(organisation: string): Promise<TrustSettings | undefined> {
    return this.cached(`trust\0${organisation}`, () => {
      const row = this.statement('SELECT settings FROM org_trust WHERE organisation = ?').get(organisation) as
        | Row
        | undefined;
      return row ? Object.freeze(JSON.parse(row.settings as string) as TrustSettings) : undefined;
    });
  }

  async setTrustSettings(organisation: string, settings: TrustSettings): Promise<void> {
    this.cache.clear();
    this.statement(
      'INSERT INTO org_trust (organisation, settings) VALUES (?, ?) ON CONFLICT DO UPDATE SET settings = excluded.settings',
    ).run(organisation, JSON.stringify(settings));
  }

  /** Entries are written in one transaction per turn of the event loop, not one each. */
  audit(entry: BridgeAuditEntry): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pendingAudit.push({ entry, resolve, reject });
      if (this.pendingAudit.length === 1) setImmediate(() => this.flushAudit());
    });
  }

  private flushAudit(): void {
    const waiting = this.pendingAudit.splice(0);
    if (!waiting.length) return;
    if (!this.db.isOpen) {
      for (const w of waiting) w.reject(new Error('the bridge store is closed'));
      return;
    }
    const entries = waiting.map((w) => w.entry);
    const insert = this.statement(
      `INSERT INTO audit (time, organisation, subject, app, gateway_id, source_id, action, outcome, detail)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.db.exec('BEGIN');
    try {
      for (const e of entries)
        insert.run(
          e.time,
          e.organisation ?? null,
          e.subject ?? null,
          e.app ?? null,
          e.gatewayId ?? null,
          e.sourceId ?? null,
          e.action,
          e.outcome,
          e.detail ?? null,
        );
      this.db.exec('COMMIT');
      for (const w of waiting) w.resolve();
    } catch (error) {
      if (this.db.isTransaction) this.db.exec('ROLLBACK');
      for (const w of waiting) w.reject(error as Error);
    }
  }

  async listAudit(organisation: string | null, since: string, limit: number): Promise<BridgeAuditEntry[]> {
    this.flushAudit();
    return (
      this.statement('SELECT * FROM audit WHERE organisation IS ? AND time >= ? ORDER BY seq LIMIT ?').all(
        organisation,
        since,
        limit,
      ) as Row[]
    ).map(auditOf);
  }

  close(): void {
    this.flushAudit();
    this.db.close();
  }
}
