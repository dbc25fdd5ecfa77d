/**
 * Bearer tokens from the configured OpenID Connect issuers, checked with `jose`: signature against the
 * issuer's published keys (fetched, cached and refetched when an unknown key id appears) or a JWKS file,
 * issuer, audience, expiry and not-before with a small clock skew, and an algorithm allow-list — never
 * `none`, never a shared-secret HS* algorithm.
 */
import { readFileSync } from 'node:fs';
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  decodeJwt,
  errors,
  type JSONWebKeySet,
  type JWTPayload,
  type JWTVerifyGetKey,
  jwtVerify,
} from 'jose';
import { gatewayError } from '../gateway/api/index.ts';
import type { IssuerConfig } from './config.ts';

export const ALLOWED_ALGORITHMS = ['RS256', 'ES256', 'EdDSA'];
const CLOCK_SKEW_S = 60;
const MAX_GROUPS = 1024;

/** Who a valid token speaks for. */
export interface TokenIdentity {
  /** `user:<oid>` (Entra's stable object id), else `user:<sub>`. */
  subject: string;
  groups: string[];
  /** The client the token was issued to (`azp`, or Entra's `appid`). */
  app: string;
  organisation: string;
  /** Seconds since the epoch of the interactive sign-in, when the token says. */
  authTime?: number;
  /**
   * The token's `roles` claim (Entra app roles) that mean something here: `developer` and `orgAdmin`
   * in the issuer's organisation, and `globalAdmin` from an issuer allowed to grant it.
   */
  roles?: OrgRole[];
}

export type OrgRole = 'developer' | 'orgAdmin' | 'globalAdmin';

/**
 * The roles a `roles` claim grants; anything else in it is ignored. `globalAdmin` counts only from an
 * issuer that the config says may grant it (`grantsGlobalAdmin`).
 */
export function orgRolesOf(claim: unknown, grantsGlobalAdmin = false): OrgRole[] | undefined {
  if (!Array.isArray(claim)) return undefined;
  const known: readonly OrgRole[] = grantsGlobalAdmin
    ? ['developer', 'orgAdmin', 'globalAdmin']
    : ['developer', 'orgAdmin'];
  const roles = known.filter((role) => claim.includes(role));
  return roles.length ? roles : undefined;
}

export interface KeySetTiming {
  /** How long fetched keys are trusted before they are fetched again. */
  cacheMaxAgeMs: number;
  /** The least time between two fetches (a token with an unknown key id triggers one). */
  cooldownMs: number;
}

const DEFAULT_TIMING: KeySetTiming = { cacheMaxAgeMs: 10 * 60_000, cooldownMs: 30_000 };

function keySetOf(issuer: IssuerConfig, timing: KeySetTiming): JWTVerifyGetKey {
  if (issuer.jwksUri) {
    return createRemoteJWKSet(new URL(issuer.jwksUri), {
      cacheMaxAge: timing.cacheMaxAgeMs,
      cooldownDuration: timing.cooldownMs,
    });
  }
  const file = issuer.jwksFile as string;
  let loaded = createLocalJWKSet(JSON.parse(readFileSync(file, 'utf8')) as JSONWebKeySet);
  let loadedAt = Date.now();
  // A rotated file is read again when a token names a key it does not have (at most once per cooldown).
  return async (header, token) => {
    try {
      return await loaded(header, token);
    } catch (error) {
      if (!(error instanceof errors.JWKSNoMatchingKey) || Date.now() - loadedAt < timing.cooldownMs)
        throw error;
      loaded = createLocalJWKSet(JSON.parse(readFileSync(file, 'utf8')) as JSONWebKeySet);
      loadedAt = Date.now();
      return loaded(header, token);
    }
  };
}

const unauthenticated = (reason: string) =>
  gatewayError('PG_ERR_UNAUTHENTICATED', `bearer token refused: ${reason}`);

function reasonOf(error: unknown): string {
  if (error instanceof errors.JWTExpired) return 'it has expired';
  if (error instanceof errors.JWTClaimValidationFailed)
    return `claim "${error.claim}" ${error.reason === 'check_failed' ? 'is not valid' : error.reason}`;
  if (error instanceof errors.JOSEAlgNotAllowed)
    return 'its algorithm is not allowed (RS256, ES256, EdDSA only)';
  if (error instanceof errors.JWKSNoMatchingKey) return 'no key of the issuer has its key id';
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'the signature does not verify';
  if (error instanceof errors.JOSEError) return error.message;
  return 'it is malformed';
}

/** Verified tokens kept, so an app's repeated calls skip the signature check until the token expires. */
const CACHE_SIZE = 10_000;

export class TokenVerifier {
  private readonly issuers = new Map<string, { config: IssuerConfig; keys: JWTVerifyGetKey }>();
  private readonly verified = new Map<string, { identity: TokenIdentity; expiresAt: number }>();

  constructor(issuers: readonly IssuerConfig[], timing: KeySetTiming = DEFAULT_TIMING) {
    for (const issuer of issuers)
      this.issuers.set(issuer.issuer, { config: issuer, keys: keySetOf(issuer, timing) });
  }

  /** The organisation a token claims to come from (unverified: for the audit of refusals only). */
  claimedOrganisation(token: string): string | undefined {
    try {
      const { iss } = decodeJwt(token);
      return typeof iss === 'string' ? this.issuers.get(iss)?.config.organisation : undefined;
    } catch {
      return undefined;
    }
  }

  /** The identity of a valid token; throws PG_ERR_UNAUTHENTICATED naming what is wrong. */
  async verify(token: string): Promise<TokenIdentity> {
    const known = this.verified.get(token);
    if (known && known.expiresAt > Date.now()) return known.identity;
    if (known) this.verified.delete(token);
    const identity = await this.check(token);
    if (this.verified.size >= CACHE_SIZE) this.verified.delete(this.verified.keys().next().value as string);
    this.verified.set(token, { identity, expiresAt: (decodeJwt(token).exp as number) * 1000 });
    return identity;
  }

  private async check(token: string): Promise<TokenIdentity> {
    let claims: JWTPayload;
    try {
      claims = decodeJwt(token);
    } catch {
      throw unauthenticated('it is not a JWT');
    }
    const issuer = typeof claims.iss === 'string' ? this.issuers.get(claims.iss) : undefined;
    if (!issuer) throw unauthenticated(`issuer "${String(claims.iss)}" is not configured`);
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, issuer.keys, {
        issuer: issuer.config.issuer,
        audience: issuer.config.audience,
        algorithms: ALLOWED_ALGORITHMS,
        clockTolerance: CLOCK_SKEW_S,
        requiredClaims: ['exp'],
      }));
    } catch (error) {
      throw unauthenticated(reasonOf(error));
    }
    const id = typeof payload.oid === 'string' ? payload.oid : payload.sub;
    if (!id) throw unauthenticated('it names no user (oid or sub)');
    const app =
      typeof payload.azp === 'string' ? payload.azp : typeof payload.appid === 'string' ? payload.appid : '';
    if (!app) throw unauthenticated('it names no client (azp or appid)');
    const groups = Array.isArray(payload.groups) ? payload.groups : [];
    if (
      groups.length > MAX_GROUPS ||
      !groups.every((g) => typeof g === 'string' && g.length > 0 && g.length <= 256)
    )
      throw unauthenticated('its groups claim is not a list of at most 1024 group ids');
    return {
      subject: `user:${id}`,
      groups: groups as string[],
      app,
      organisation: issuer.config.organisation,
      ...(typeof payload.auth_time === 'number' ? { authTime: payload.auth_time } : {}),
      ...(orgRolesOf(payload.roles, issuer.config.grantsGlobalAdmin === true)
        ? { roles: orgRolesOf(payload.roles, issuer.config.grantsGlobalAdmin === true) }
        : {}),
    };
  }
}
