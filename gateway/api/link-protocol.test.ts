import { describe, expect, it } from 'vitest';
import { generateLinkKeys, LinkSession } from './link-crypto.ts';
import {
  checkConnectToken,
  checkEnvelopeTimes,
  connectToken,
  type EnvelopeRejected,
  openFrame,
  openRequest,
  ReplayGuard,
  type RequestEnvelope,
  sealFrame,
  sealRequest,
} from './link-protocol.ts';

const bridge = generateLinkKeys();
const gateway = generateLinkKeys();
const bridgeSide = LinkSession.forBridge(bridge, gateway.boxPublic);
const gatewaySide = LinkSession.forGateway(gateway, bridge.boxPublic);

function envelope(overrides: Partial<RequestEnvelope> = {}): RequestEnvelope {
  const now = Date.now();
  return {
    kind: 'request',
    id: 'r1',
    gatewayId: 'site-a',
    replyTo: 'br-1',
    operation: 'values.snapshot',
    sourceId: 'boiler',
    principal: { subject: 'user:u1', groups: ['g1'] },
    app: 'trend-viewer',
    consentId: 'c1',
    issuedAt: now,
    expiresAt: now + 30_000,
    request: { tags: ['Boiler1.SteamPressure'] },
    ...overrides,
  };
}

const rejection = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    return (error as EnvelopeRejected).message;
  }
  throw new Error('expected a rejection');
};

describe('link protocol', () => {
  it('opens what the bridge sealed and signed, and nothing else', () => {
    const sealed = sealRequest(envelope(), bridge, bridgeSide);
    expect(sealed.includes(Buffer.from('SteamPressure'))).toBe(false);
    expect(openRequest(sealed, 'site-a', gatewaySide, bridge.signPublic).request).toEqual({
      tags: ['Boiler1.SteamPressure'],
    });

    const tampered = Buffer.from(sealed);
    tampered[tampered.length - 5]! ^= 1;
    expect(rejection(() => openRequest(tampered, 'site-a', gatewaySide, bridge.signPublic))).toMatch(
      /not sealed/,
    );

    // Sealed for the right gateway but signed by another key: the signature check refuses it.
    const impostor = generateLinkKeys();
    const forged = sealRequest(envelope(), impostor, bridgeSide);
    expect(rejection(() => openRequest(forged, 'site-a', gatewaySide, bridge.signPublic))).toMatch(
      /signature/,
    );

    // Sealed under another gateway's name: it does not open here.
    const other = sealRequest(envelope({ gatewayId: 'site-b' }), bridge, bridgeSide);
    expect(rejection(() => openRequest(other, 'site-a', gatewaySide, bridge.signPublic))).toMatch(
      /not sealed/,
    );
  });

  it('refuses expired, long-lived, future and replayed envelopes', () => {
    const now = Date.now();
    expect(
      rejection(() => checkEnvelopeTimes(envelope({ issuedAt: now - 120_000, expiresAt: now - 61_000 }))),
    ).toMatch(/expired/);
    expect(rejection(() => checkEnvelopeTimes(envelope({ expiresAt: now + 3_600_000 })))).toMatch(
      /longer than 60 s/,
    );
    expect(
      rejection(() => checkEnvelopeTimes(envelope({ issuedAt: now + 120_000, expiresAt: now + 130_000 }))),
    ).toMatch(/future/);
    const guard = new ReplayGuard(now - 1000);
    const first = envelope();
    guard.check(first);
    expect(rejection(() => guard.check(first))).toMatch(/already received/);
    expect(rejection(() => guard.check(envelope({ id: 'r2', issuedAt: now - 5000 })))).toMatch(
      /before this gateway/,
    );
  });

  it('the replay guard forgets an id only once its envelope can no longer pass the expiry check', () => {
    const start = Date.now();
    const guard = new ReplayGuard(start - 1000);
    const issued = (id: string, at: number) => envelope({ id, issuedAt: at, expiresAt: at + 60_000 });
    for (let i = 0; i < 1000; i++) guard.check(issued(`old-${i}`, start), start);
    const live = issued('live', start + 50_000);
    guard.check(live, start + 50_000);
    // Past expiry and clock skew the old ids are gone (a replay of them fails the expiry check instead)…
    const later = start + 60_000 + 30_001;
    guard.check(issued('new', later), later);
    expect(guard.size).toBe(2);
    expect(() => checkEnvelopeTimes(issued('old-0', start), later)).toThrow(/expired/);
    // …while a live one is still refused.
    expect(rejection(() => guard.check(live, later))).toMatch(/already received/);
  });

  it('frames travel sealed, in both parts', () => {
    const body = Buffer.from('{"values":[1,2,3]}');
    const sealed = sealFrame({ id: 'r1', seq: 0, kind: 'data' }, body, 'site-a', gatewaySide);
    const opened = openFrame(sealed, 'site-a', bridgeSide);
    expect(opened?.header).toEqual({ id: 'r1', seq: 0, kind: 'data' });
    expect(opened?.body.toString()).toBe('{"values":[1,2,3]}');
    expect(openFrame(sealed, 'site-b', bridgeSide)).toBeUndefined();
    // A frame is one-way: the gateway cannot open its own reply as if it came from the bridge.
    expect(openFrame(sealed, 'site-a', gatewaySide)).toBeUndefined();
  });

  it('connect tokens: signed by the gateway, short-lived, for one gateway', () => {
    const token = connectToken('site-a', gateway.signSecret);
    expect(checkConnectToken(token, 'site-a', gateway.signPublic)).toBeUndefined();
    expect(checkConnectToken(token, 'site-b', gateway.signPublic)).toMatch(/another gateway/);
    expect(checkConnectToken(token, 'site-a', bridge.signPublic)).toMatch(/signature/);
    const old = connectToken('site-a', gateway.signSecret, Date.now() - 3_600_000);
    expect(checkConnectToken(old, 'site-a', gateway.signPublic)).toMatch(/expired/);
    const [id, expires, signature] = token.split('.');
    expect(
      checkConnectToken(`${id}.${Number(expires) + 1}.${signature}`, 'site-a', gateway.signPublic),
    ).toMatch(/signature/);
  });
});
