/**
 * What a broker operator or another gateway could try: forged, expired, replayed and misaddressed
 * envelopes (refused by the gateway and in its audit log), and MQTT clients reaching for topics or
 * identities that are not theirs (refused by the broker and in the bridge audit).
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  connectToken,
  decodePublicKeys,
  generateLinkKeys,
  LinkSession,
  linkTopics,
  openFrame,
  publicKeysOf,
  type RequestEnvelope,
  sealRequest,
} from '../../gateway/api/index.ts';
import { enroll, readEnrollment } from '../../gateway/link/enrollment.ts';
import { machineIdentity } from '../../gateway/secrets/machine-identity.ts';
import { Sealer } from '../../gateway/secrets/sealer.ts';
import { eventually } from '../../gateway/test/harness.ts';
import { type LinkHarness, startLinkHarness } from './link-harness.ts';

let h: LinkHarness;
let session: LinkSession;
const replies: { id: string; code?: string }[] = [];

beforeAll(async () => {
  h = await startLinkHarness();
  const gateway = await h.bridge.store.getGateway('site-a');
  const keys = decodePublicKeys({
    signPublicKey: gateway?.signPublicKey as string,
    boxPublicKey: gateway?.boxPublicKey as string,
  });
  session = LinkSession.forBridge(h.bridge.keys, keys.box);
  // An observer in the bridge's place, to see what the gateway answers to refused envelopes.
  await h.bridge.broker.subscribe(linkTopics.reply('observer', 'site-a'), async (_topic, payload) => {
    const frame = openFrame(payload, 'site-a', session);
    if (frame)
      replies.push({ id: frame.header.id, ...(frame.header.error ? { code: frame.header.error.code } : {}) });
  });
}, 60_000);
afterAll(async () => {
  await h?.stop();
});

function envelope(overrides: Partial<RequestEnvelope> = {}): RequestEnvelope {
  const now = Date.now();
  return {
    kind: 'request',
    id: `forged-${Math.random().toString(36).slice(2)}`,
    gatewayId: 'site-a',
    replyTo: 'observer',
    operation: 'values.snapshot',
    sourceId: 'boiler',
    principal: { subject: 'user:alice', groups: [] },
    app: 'trend-viewer',
    consentId: 'c',
    issuedAt: now,
    expiresAt: now + 30_000,
    request: { tags: ['Boiler1.SteamPressure'] },
    ...overrides,
  };
}

async function rejectedInAudit(detail: RegExp) {
  return eventually(
    () => h.gatewayAudit(),
    (records) => records.some((r) => r.outcome === 'PG_ERR_ENVELOPE_REJECTED' && detail.test(r.detail ?? '')),
  );
}

describe('envelopes the gateway refuses', () => {
  it('bytes not sealed by the bridge, and a bad signature', async () => {
    await h.bridge.broker.publish(linkTopics.request('site-a'), Buffer.from('not an envelope at all'));
    await rejectedInAudit(/not sealed for this gateway/);

    const impostor = generateLinkKeys();
    await h.bridge.broker.publish(linkTopics.request('site-a'), sealRequest(envelope(), impostor, session));
    await rejectedInAudit(/signature is not the bridge's/);
  });

  it('an expired envelope and one that lives too long, each answered with PG_ERR_ENVELOPE_REJECTED', async () => {
    const now = Date.now();
    const expired = envelope({ issuedAt: now - 120_000, expiresAt: now - 61_000 });
    await h.bridge.broker.publish(linkTopics.request('site-a'), sealRequest(expired, h.bridge.keys, session));
    await rejectedInAudit(/has expired/);
    const long = envelope({ expiresAt: now + 3_600_000 });
    await h.bridge.broker.publish(linkTopics.request('site-a'), sealRequest(long, h.bridge.keys, session));
    await rejectedInAudit(/longer than 60 s/);
    await eventually(
      async () => replies,
      (r) =>
        [expired.id, long.id].every((id) =>
          r.some((x) => x.id === id && x.code === 'PG_ERR_ENVELOPE_REJECTED'),
        ),
    );
  });

  it('a replayed envelope: the copy is refused, the original was answered once', async () => {
    await h.consent('alice');
    let captured: Buffer | undefined;
    await h.bridge.broker.subscribe(linkTopics.request('site-a'), async (_topic, payload) => {
      captured ??= Buffer.from(payload);
    });
    const first = await h.api('/api/v1/gateways/site-a/sources/boiler/values/snapshot', {
      token: await h.appToken('alice'),
      body: { tags: ['Boiler1.SteamPressure'] },
    });
    expect(first.status).toBe(200);
    expect(captured).toBeDefined();
    await h.bridge.broker.publish(linkTopics.request('site-a'), captured as Buffer);
    await rejectedInAudit(/already received/);
  });

  it('an envelope for another gateway does not open here', async () => {
    const forOther = envelope({ gatewayId: 'site-b' });
    await h.bridge.broker.publish(
      linkTopics.request('site-a'),
      sealRequest(forOther, h.bridge.keys, session),
    );
    const records = await rejectedInAudit(/not sealed for this gateway/);
    expect(records.filter((r) => r.outcome === 'PG_ERR_ENVELOPE_REJECTED').length).toBeGreaterThanOrEqual(2);
  });

  it('an envelope that passes is audited with the caller it names', async () => {
    const genuine = envelope({ principal: { subject: 'user:mallory', groups: [] } });
    await h.bridge.broker.publish(linkTopics.request('site-a'), sealRequest(genuine, h.bridge.keys, session));
    // Only the bridge can make it; the gateway's own rules still decide: mallory has no rule.
    const records = await eventually(
      () => h.gatewayAudit(),
      (r) => r.some((x) => x.requestId === genuine.id),
    );
    expect(records.find((r) => r.requestId === genuine.id)?.outcome).toBe('PG_ERR_ACCESS_DENIED');
  });
});

describe('broker clients', () => {
  const url = () => `wss://127.0.0.1:${h.bridge.port}/link`;
  const connect = (options: mqtt.IClientOptions) =>
    mqtt.connect(url(), {
      protocolVersion: 4,
      reconnectPeriod: 0,
      connectTimeout: 5000,
      ca: h.bridge.certificate,
      ...options,
    });

  it("an enrolled gateway cannot use another gateway's topics, nor its identity", async () => {
    const code = await h.api('/api/v1/gateways', {
      token: await h.ownToken('admin'),
      body: { id: 'site-b' },
    });
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'plantgate-site-b-'));
    await enroll({
      dataDir,
      gatewayId: 'site-b',
      bridge: h.bridge.url,
      code: code.body.code,
      sealer: Sealer.open(dataDir, await machineIdentity()),
      ca: h.bridge.certificate,
    });
    // The code is good once.
    const spare = publicKeysOf(generateLinkKeys());
    const again = await h.api('/api/v1/enroll', {
      body: { code: code.body.code, gatewayId: 'site-b', ...spare },
    });
    expect(again.status).toBe(403);
    expect(again.body.error.code).toBe('PG_ERR_ENROLLMENT_REFUSED');

    const identity = await machineIdentity();
    const siteB = readEnrollment(dataDir, () => Sealer.open(dataDir, identity));
    const keys = siteB?.keys as NonNullable<typeof siteB>['keys'];
    const client = connect({
      clientId: linkTopics.clientId('site-b'),
      username: 'site-b',
      password: connectToken('site-b', keys.signSecret),
    });
    await new Promise((resolve, reject) => {
      client.once('connect', resolve);
      client.once('error', reject);
    });
    // SUBACK 0x80 (refused); the connection stays.
    await expect(client.subscribeAsync(linkTopics.request('site-a'), { qos: 1 })).rejects.toThrow(
      /Subscribe error/,
    );
    const own = await client.subscribeAsync(linkTopics.request('site-b'), { qos: 1 });
    expect(own[0]?.qos).toBe(1);
    // Publishing into site-a's reply topic ends the connection.
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    client.publish(linkTopics.reply(h.bridge.dispatcher.instanceId, 'site-a'), Buffer.from('x'), { qos: 1 });
    await closed;
    client.end(true);

    // site-b's key does not get it in as site-a.
    const impostor = connect({
      clientId: linkTopics.clientId('site-a'),
      username: 'site-a',
      password: connectToken('site-a', keys.signSecret),
    });
    const error = await new Promise<Error>((resolve) => impostor.once('error', resolve));
    expect(error.message).toMatch(/Bad username or password|Not authorized/i);
    impostor.end(true);
    // And the real site-a is still linked.
    expect(h.bridge.broker.isOnline('site-a')).toBe(true);

    const entries = await h.bridge.store.listAudit('testorg', '1970-01-01T00:00:00.000Z', 10_000);
    const link = entries.filter((e) => e.action === 'link');
    expect(
      link.some((e) => /subscribe to "plantgate\/v1\/gw\/site-a\/req" refused/.test(e.detail ?? '')),
    ).toBe(true);
    expect(link.some((e) => /publish to .*rep\/site-a" refused/.test(e.detail ?? ''))).toBe(true);
    expect(
      link.some((e) => e.gatewayId === 'site-a' && /signature is not the gateway's/.test(e.detail ?? '')),
    ).toBe(true);
  });

  it('no password, a made-up gateway, or a client id that is not the gateway’s: refused', async () => {
    for (const options of [
      { clientId: linkTopics.clientId('site-a'), username: 'site-a' },
      { clientId: linkTopics.clientId('nobody'), username: 'nobody', password: 'x.1.y' },
      { clientId: 'sneaky', username: 'site-a', password: 'x' },
    ]) {
      const client = connect(options);
      const error = await new Promise<Error>((resolve) => client.once('error', resolve));
      expect(error.message).toMatch(/Bad username or password|Not authorized/i);
      client.end(true);
    }
  });
});
