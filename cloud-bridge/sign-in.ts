/**
 * People sign in to the bridge's own pages with OpenID Connect: the authorization code flow with PKCE
 * (`openid-client`) against the configured issuers, as the bridge's own client. The bridge stores no
 * password and keeps no token: a session holds the identity read from the ID token, lives in memory,
 * and ends after an inactivity timeout or its absolute lifetime, whichever comes first.
 */
import { randomBytes } from 'node:crypto';
import * as oidc from 'openid-client';
import { gatewayError } from '../gateway/api/index.ts';
import type { IssuerConfig } from './config.ts';
import { orgRolesOf, type TokenIdentity } from './tokens.ts';

/** A sign-in must come back from the provider within this time. */
const PENDING_MS = 10 * 60_000;
const MAX_PENDING = 10_000;
/** Sessions held before the ended ones are swept out. */
const PRUNE_AT = 10_000;

export interface Session {
  id: string;
  /** Sent with every form; a change without it is refused (CSRF). */
  csrf: string;
  identity: TokenIdentity;
  createdAt: number;
  lastSeen: number;
}

const token = () => randomBytes(32).toString('base64url');

export class Sessions {
  private readonly sessions = new Map<string, Session>();
  private readonly idleMs: number;
  private readonly lifetimeMs: number;

  constructor(idleMinutes: number, lifetimeHours: number) {
    this.idleMs = idleMinutes * 60_000;
    this.lifetimeMs = lifetimeHours * 3_600_000;
  }

  create(identity: TokenIdentity, now = Date.now()): Session {
    // Ended sessions are forgotten when next looked up; past PRUNE_AT held ones, all of them now.
    if (this.sessions.size >= PRUNE_AT)
      for (const [id, held] of this.sessions) if (this.ended(held, now)) this.sessions.delete(id);
    const session = { id: token(), csrf: token(), identity, createdAt: now, lastSeen: now };
    this.sessions.set(session.id, session);
    return session;
  }

  /** The live session with that id (its inactivity clock starts again), or undefined. */
  get(id: string | undefined, now = Date.now()): Session | undefined {
    const session = id ? this.sessions.get(id) : undefined;
    if (!session) return undefined;
    if (this.ended(session, now)) {
      this.sessions.delete(session.id);
      return undefined;
    }
    session.lastSeen = now;
    return session;
  }

  private ended(session: Session, now: number): boolean {
    return now - session.lastSeen > this.idleMs || now - session.createdAt > this.lifetimeMs;
  }

  end(id: string): void {
    this.sessions.delete(id);
  }

  get size(): number {
    return this.sessions.size;
  }
}

interface Pending {
  verifier: string;
  nonce: string;
  issuer: IssuerConfig;
  redirectUri: string;
  returnTo: string;
  expiresAt: number;
}

/** Only a path on this bridge: never another site (no open redirect). */
export function safeReturn(value: unknown): string {
  return typeof value === 'string' && /^\/(?![/\\])[^\s]*$/.test(value) ? value : '/my-apps';
}

export class SignIn {
  private readonly clientId: string;
  private readonly insecure: ReadonlySet<string>;
  private readonly configurations = new Map<string, Promise<oidc.Configuration>>();
  private readonly pending = new Map<string, Pending>();

  /** `insecure`: issuers reached over plain HTTP on loopback (the development provider). */
  constructor(clientId: string, insecure: ReadonlySet<string> = new Set()) {
    this.clientId = clientId;
    this.insecure = insecure;
  }

  private configuration(issuer: IssuerConfig): Promise<oidc.Configuration> {
    let configuration = this.configurations.get(issuer.issuer);
    if (!configuration) {
      configuration = oidc.discovery(
        new URL(issuer.issuer),
        this.clientId,
        undefined,
        oidc.None(),
        this.insecure.has(issuer.issuer) ? { execute: [oidc.allowInsecureRequests] } : undefined,
      );
      configuration.catch(() => this.configurations.delete(issuer.issuer));
      this.configurations.set(issuer.issuer, configuration);
    }
    return configuration;
  }

  /** Where to send the browser, and the state that must come back. */
  async start(
    issuer: IssuerConfig,
    redirectUri: string,
    returnTo: string,
  ): Promise<{ url: URL; state: string }> {
    const configuration = await this.configuration(issuer).catch((error: Error) => {
      throw gatewayError(
        'PG_ERR_IDP_UNREACHABLE',
        `the identity provider cannot be reached: ${error.message}`,
      );
    });
    const now = Date.now();
    for (const [state, p] of this.pending) if (p.expiresAt < now) this.pending.delete(state);
    if (this.pending.size >= MAX_PENDING)
      throw gatewayError('PG_ERR_RATE_LIMITED', 'too many sign-ins under way; try again shortly');
    const state = oidc.randomState();
    const verifier = oidc.randomPKCECodeVerifier();
    const nonce = oidc.randomNonce();
    this.pending.set(state, {
      verifier,
      nonce,
      issuer,
      redirectUri,
      returnTo: safeReturn(returnTo),
      expiresAt: now + PENDING_MS,
    });
    const url = oidc.buildAuthorizationUrl(configuration, {
      redirect_uri: redirectUri,
      scope: 'openid profile',
      state,
      nonce,
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    });
    return { url, state };
  }

  /**
   * Completes a sign-in from the provider's redirect (`search`: the callback's query): the person's
   * identity and where they were going. The callback address is the one the sign-in began with, not
   * whatever Host the callback request names.
   */
  async finish(search: string, state: string): Promise<{ identity: TokenIdentity; returnTo: string }> {
    const pending = this.pending.get(state);
    this.pending.delete(state);
    if (!pending || pending.expiresAt < Date.now())
      throw gatewayError('PG_ERR_UNAUTHENTICATED', 'this sign-in is unknown or expired; sign in again');
    const configuration = await this.configuration(pending.issuer);
    let claims: oidc.IDToken | undefined;
    try {
      const callback = new URL(pending.redirectUri);
      callback.search = search;
      const tokens = await oidc.authorizationCodeGrant(configuration, callback, {
        pkceCodeVerifier: pending.verifier,
        expectedState: state,
        expectedNonce: pending.nonce,
      });
      claims = tokens.claims();
    } catch (error) {
      throw gatewayError('PG_ERR_UNAUTHENTICATED', `the sign-in failed: ${(error as Error).message}`);
    }
    const id = typeof claims?.oid === 'string' ? claims.oid : claims?.sub;
    if (!claims || !id) throw gatewayError('PG_ERR_UNAUTHENTICATED', 'the ID token names no user');
    const groups = Array.isArray(claims.groups)
      ? claims.groups.filter((g): g is string => typeof g === 'string').slice(0, 1024)
      : [];
    return {
      identity: {
        subject: `user:${id}`,
        groups,
        app: this.clientId,
        organisation: pending.issuer.organisation,
        authTime: typeof claims.auth_time === 'number' ? claims.auth_time : Math.floor(Date.now() / 1000),
        ...(orgRolesOf(claims.roles, pending.issuer.grantsGlobalAdmin === true)
          ? { roles: orgRolesOf(claims.roles, pending.issuer.grantsGlobalAdmin === true) }
          : {}),
      },
      returnTo: pending.returnTo,
    };
  }
}
