/**
 * The bridge's half of "who may reach what" (DESIGN.md, "Consent"): before a request is forwarded, the
 * organisation must allow the app for the user and the user must have consented to that app using that
 * gateway's source. The gateway's own role rules decide the rest, on site.
 */
import { gatewayError } from '../gateway/api/index.ts';
import type { BridgeConfig } from './config.ts';
import type { BridgeStore, ConsentRecord, GatewayRecord, TrustSettings } from './store.ts';
import type { TokenIdentity } from './tokens.ts';

export class CloudAccess {
  private readonly config: BridgeConfig;
  private readonly store: BridgeStore;

  constructor(config: BridgeConfig, store: BridgeStore) {
    this.config = config;
    this.store = store;
  }

  private principalsOf(identity: TokenIdentity): Set<string> {
    return new Set([identity.subject, ...identity.groups.map((g) => `group:${g}`)]);
  }

  /**
   * A global admin: named in the config (signed in through the named organisation's issuer), or with
   * the globalAdmin role from an issuer allowed to grant it.
   */
  isGlobalAdmin(identity: TokenIdentity): boolean {
    if (identity.roles?.includes('globalAdmin')) return true;
    const mine = this.principalsOf(identity);
    return this.config.auth.globalAdmins.some(
      (a) => a.organisation === identity.organisation && mine.has(a.principal),
    );
  }

  /**
   * From the config, or the orgAdmin role in a token of that organisation's issuer, or a global admin;
   * deny by default.
   */
  isOrgAdmin(identity: TokenIdentity, organisation: string): boolean {
    if (!Object.hasOwn(this.config.organisations, organisation)) return false;
    if (this.isGlobalAdmin(identity)) return true;
    if (identity.organisation !== organisation) return false;
    if (identity.roles?.includes('orgAdmin')) return true;
    const admins = this.config.organisations[organisation]?.admins ?? [];
    const mine = this.principalsOf(identity);
    return admins.some((admin) => mine.has(admin));
  }

  /** Developers (and org admins) register the organisation's apps. */
  requireDeveloper(identity: TokenIdentity, action: string): void {
    const org = this.config.organisations[identity.organisation];
    const mine = this.principalsOf(identity);
    if (
      identity.roles?.includes('developer') ||
      org?.developers.some((d) => mine.has(d)) ||
      this.isOrgAdmin(identity, identity.organisation)
    )
      return;
    throw gatewayError(
      'PG_ERR_FORBIDDEN',
      `${action} needs the developer role in organisation "${identity.organisation}"`,
    );
  }

  /** People's actions (consent, enrollment, app choices) go only through the bridge's own client. */
  requireOwnClient(identity: TokenIdentity, action: string): void {
    if (identity.app !== this.config.auth.clientId)
      throw gatewayError(
        'PG_ERR_FORBIDDEN',
        `${action} is done through the bridge's own client ("${this.config.auth.clientId}"), not app "${identity.app}"`,
      );
  }

  requireOrgAdmin(identity: TokenIdentity, organisation: string, action: string): void {
    if (!this.isOrgAdmin(identity, organisation))
      throw gatewayError(
        'PG_ERR_FORBIDDEN',
        `${action} needs the orgAdmin role in organisation "${organisation}"`,
      );
  }

  /** The app is allowed for the organisation, and — where the decision names people — for this person. */
  async requireAppAllowed(identity: TokenIdentity, app = identity.app): Promise<void> {
    const org = this.config.organisations[identity.organisation];
    const decision = await this.store.appDecision(identity.organisation, app);
    const allowed = org?.appPolicy === 'open' ? decision?.allowed !== false : decision?.allowed === true;
    if (!allowed)
      throw gatewayError(
        'PG_ERR_APP_NOT_ALLOWED',
        `organisation "${identity.organisation}" does not allow app "${app}"`,
      );
    const mine = this.principalsOf(identity);
    if (decision?.principals && !decision.principals.some((p) => mine.has(p)))
      throw gatewayError(
        'PG_ERR_APP_NOT_ALLOWED',
        `organisation "${identity.organisation}" allows app "${app}" only for some of its people, not ${identity.subject}`,
      );
  }

  /** The gateway, if it exists in the caller's organisation (another organisation's gateways do not exist for them). */
  async gatewayOf(identity: TokenIdentity, gatewayId: string): Promise<GatewayRecord> {
    const gateway = await this.store.getGateway(gatewayId);
    if (!gateway || gateway.organisation !== identity.organisation)
      throw gatewayError(
        'PG_ERR_NOT_FOUND',
        `no gateway "${gatewayId}" in organisation "${identity.organisation}"`,
      );
    return gateway;
  }

  /** All three bridge-side checks for an app's call on one source; the consent it rests on. */
  async authorizeSourceCall(
    identity: TokenIdentity,
    gatewayId: string,
    sourceId: string,
  ): Promise<{ gateway: GatewayRecord; consent: ConsentRecord }> {
    const gateway = await this.gatewayOf(identity, gatewayId);
    await this.requireAppAllowed(identity);
    const consent = await this.store.findConsent(identity.subject, identity.app, gatewayId, sourceId);
    if (!consent)
      throw gatewayError(
        'PG_ERR_CONSENT_REQUIRED',
        `${identity.subject} has not consented to app "${identity.app}" using source "${sourceId}" of gateway "${gatewayId}"`,
      );
    await this.requireFreshSignIn(identity, consent);
    return { gateway, consent };
  }

  /** Gateway-wide calls (health, the source list): the app allowed and some consent on that gateway. */
  async authorizeGatewayCall(
    identity: TokenIdentity,
    gatewayId: string,
  ): Promise<{ gateway: GatewayRecord; consents: ConsentRecord[] }> {
    const gateway = await this.gatewayOf(identity, gatewayId);
    await this.requireAppAllowed(identity);
    const consents = (await this.store.listConsents(identity.subject)).filter(
      (c) => c.app === identity.app && c.gatewayId === gatewayId,
    );
    if (!consents.length)
      throw gatewayError(
        'PG_ERR_CONSENT_REQUIRED',
        `${identity.subject} has not consented to app "${identity.app}" using gateway "${gatewayId}"`,
      );
    for (const consent of consents) await this.requireFreshSignIn(identity, consent);
    return { gateway, consents };
  }

  /** The organisation's trust settings: its admins' choice, else the config's defaults. */
  async trustOf(organisation: string): Promise<TrustSettings> {
    return (
      (await this.store.trustSettings(organisation)) ?? {
        offlineAccess: 'allowed',
        sessionHours: this.config.auth.sessionHours,
      }
    );
  }

  /**
   * A token from a sign-in older than the organisation's session limit serves only apps consented with
   * offline access, and only while the organisation allows offline access.
   */
  private async requireFreshSignIn(identity: TokenIdentity, consent: ConsentRecord): Promise<void> {
    if (identity.authTime === undefined) return;
    const trust = await this.trustOf(identity.organisation);
    if (consent.offlineAccess && trust.offlineAccess === 'allowed') return;
    const ageHours = (Date.now() / 1000 - identity.authTime) / 3600;
    if (ageHours > trust.sessionHours)
      throw gatewayError(
        'PG_ERR_UNAUTHENTICATED',
        `the sign-in is ${Math.floor(ageHours)} h old; app "${identity.app}" has no offline access${consent.offlineAccess ? ` (organisation "${identity.organisation}" refuses it)` : ''}, so sign in again`,
      );
  }
}
