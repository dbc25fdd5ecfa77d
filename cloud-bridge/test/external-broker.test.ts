/**
 * The link protocol over an external MQTT 3.1.1 broker (Mosquitto): the gateway's link client answers
 * sealed, signed envelopes published by a bridge that is only an MQTT client — nothing in the protocol
 * needs the embedded broker or MQTT 5. The broker's address comes from PLANTGATE_TEST_MQTT_URL
 * (.ci/run sets it and starts Mosquitto); without it the test is skipped with a notice, except in CI.
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../drivers/core/index.ts';
import {
  type FrameHeader,
  generateLinkKeys,
  LinkSession,
  linkTopics,
  openFrame,
  publicKeysOf,
  type RequestEnvelope,
  sealRequest,
} from '../../gateway/api/index.ts';
import { IdempotencyStore } from '../../gateway/link/idempotency.ts';
import { LinkClient } from '../../gateway/link/link-client.ts';
import { eventually, type Harness, startHarness } from '../../gateway/test/harness.ts';

const url = process.env.PLANTGATE_TEST_MQTT_URL;
if (!url) {
  if (process.env.CI) throw new Error('PLANTGATE_TEST_MQTT_URL is required in CI (.ci/run starts Mosquitto)');
  console.warn('NOTICE: PLANTGATE_TEST_MQTT_URL is not set: the external broker test is skipped');
}

// Unique per run: the broker is shared with whatever else runs on this machine.
const gatewayId = `ext-${process.pid}`;
const bridgeInstance = `br-ext-${process.pid}`;
const bridgeKeys = generateLinkKeys();
const gatewayKeys = generateLinkKeys();
const session = LinkSession.forBridge(bridgeKeys, gatewayKeys.boxPublic);

let h: Harness;
let link: LinkClient;
let idempotency: IdempotencyStore;
let bridge: MqttClient;
const frames = new Map<string, { header: FrameHeader; body: Buffer }[]>();

describe.skipIf(!url)('the link over an external MQTT 3.1.1 broker', () => {
  beforeAll(async () => {
    h = await startHarness({
      extraConfig: `access:\n  rules:\n    - { principal: "user:alice", sources: [boiler], roles: [read] }\n`,
    });
    idempotency = new IdempotencyStore(mkdtempSync(path.join(os.tmpdir(), 'plantgate-ext-')));
    link = new LinkClient({
      enrollment: {
        gatewayId,
        organisation: 'testorg',
        bridgeOrigin: 'https://bridge.invalid',
        linkPath: '/link',
        bridge: publicKeysOf(bridgeKeys),
        enrolledAt: new Date().toISOString(),
      },
      keys: gatewayKeys,
      url: url as string,
      engine: h.gateway.engine,
      idempotency,
      audit: async (event) => void (await h.gateway.audit.append(event)),
      log: silentLogger,
    });
    bridge = await mqtt.connectAsync(url as string, {
      protocolVersion: 4,
      clientId: bridgeInstance,
      clean: true,
    });
    await bridge.subscribeAsync(linkTopics.replies(bridgeInstance), { qos: 1 });
    bridge.on('message', (topic, payload) => {
      const frame = openFrame(payload, topic.slice(topic.lastIndexOf('/') + 1), session);
      if (frame) frames.set(frame.header.id, [...(frames.get(frame.header.id) ?? []), frame]);
    });
    link.start();
    await eventually(
      async () => link.health().state,
      (state) => state === 'connected',
    );
  }, 60_000);

  afterAll(async () => {
    await link?.stop();
    idempotency?.close();
    await bridge?.endAsync();
    await h?.stop();
  });

  const ask = async (id: string, operation: RequestEnvelope['operation'], request: unknown) => {
    const now = Date.now();
    const envelope: RequestEnvelope = {
      kind: 'request',
      id,
      gatewayId,
      replyTo: bridgeInstance,
      operation,
      sourceId: 'boiler',
      principal: { subject: 'user:alice', groups: [] },
      app: 'trend-viewer',
      consentId: 'c1',
      issuedAt: now,
      expiresAt: now + 30_000,
      request,
    };
    await bridge.publishAsync(linkTopics.request(gatewayId), sealRequest(envelope, bridgeKeys, session), {
      qos: 1,
    });
    const received = await eventually(
      async () => frames.get(id) ?? [],
      (f) => f.some((x) => x.header.kind === 'end' || x.header.kind === 'error'),
    );
    expect(received.map((f) => f.header.seq)).toEqual(received.map((_, i) => i));
    return received;
  };

  it('answers a snapshot, sealed, to the asking bridge instance', async () => {
    const received = await eventually(
      () => ask(`snap-${Math.random()}`, 'values.snapshot', { tags: ['Boiler1.SteamPressure'] }),
      (f) => JSON.parse(Buffer.concat(f.map((x) => x.body)).toString()).values?.[0]?.status === 'good',
    );
    // A small answer is one `end` frame.
    expect(received.map((f) => f.header.kind)).toEqual(['end']);
    const answer = JSON.parse(Buffer.concat(received.map((f) => f.body)).toString());
    expect(answer.values[0]).toMatchObject({ tag: 'Boiler1.SteamPressure', status: 'good' });
    expect(link.health()).toMatchObject({ state: 'connected', reconnects: 0 });
    expect(link.health().rttMs).toBeGreaterThanOrEqual(0);
  });

  it("applies the gateway's role rules to the envelope's user", async () => {
    const now = Date.now();
    const id = `denied-${now}`;
    const envelope: RequestEnvelope = {
      kind: 'request',
      id,
      gatewayId,
      replyTo: bridgeInstance,
      operation: 'values.write',
      sourceId: 'boiler',
      principal: { subject: 'user:alice', groups: [] },
      app: 'trend-viewer',
      consentId: 'c1',
      issuedAt: now,
      expiresAt: now + 30_000,
      request: { values: [{ tag: 'Boiler1.Running', value: false }] },
    };
    await bridge.publishAsync(linkTopics.request(gatewayId), sealRequest(envelope, bridgeKeys, session), {
      qos: 1,
    });
    const received = await eventually(
      async () => frames.get(id) ?? [],
      (f) => f.length > 0,
    );
    expect(received[0]?.header.error?.code).toBe('PG_ERR_ACCESS_DENIED');
  });
});
