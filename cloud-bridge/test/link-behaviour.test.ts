/** Streams, writes with idempotency keys, and what apps see when the gateway or its link goes away. */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { bridgeKeyFingerprint } from '../../gateway/console/link-pki-pages.ts';
import { signInUrl } from '../../gateway/console/sessions.ts';
import { enrollmentFacts } from '../../gateway/link/enrollment.ts';
import { readLocalToken } from '../../gateway/local-api/token.ts';
import { eventually } from '../../gateway/test/harness.ts';
import { type LinkHarness, startLinkHarness } from './link-harness.ts';

const BIN = path.resolve(import.meta.dirname, '../../bin/plantgate.js');
const BOILER = '/api/v1/gateways/site-a/sources/boiler';
let h: LinkHarness;
let token: string;

beforeAll(async () => {
  h = await startLinkHarness();
  await h.consent('alice');
  await h.consent('alice', 'stuck');
  token = await h.appToken('alice');
}, 60_000);
afterAll(async () => {
  await h?.stop();
});

const setpoint = async () => {
  const answer = await h.api(`${BOILER}/values/snapshot`, {
    token,
    body: { tags: ['Boiler1.PressureSetpoint'] },
  });
  return answer.body.values[0].value as number;
};
const write = (value: number, key?: string) =>
  h.api(`${BOILER}/values/write`, {
    token,
    body: { values: [{ tag: 'Boiler1.PressureSetpoint', value }] },
    ...(key ? { headers: { 'idempotency-key': key } } : {}),
  });

describe('through the link', () => {
  it('values/stream: a WebSocket of pushes, with the same checks as any call', async () => {
    const url = `${h.bridge.url.replace('https:', 'wss:')}${BOILER}/values/stream?tags=Boiler1.SteamPressure&publishInterval=100`;
    const ws = new WebSocket(url, {
      ca: h.bridge.certificate,
      headers: { authorization: `Bearer ${token}` },
    });
    const messages: { values: { tag: string; status: string }[] }[] = [];
    ws.on('message', (data) => messages.push(JSON.parse(String(data))));
    await eventually(
      async () => messages.length,
      (n) => n >= 2,
    );
    expect(messages[0]?.values[0]).toMatchObject({ tag: 'Boiler1.SteamPressure', status: 'good' });
    ws.close();

    const refused = new WebSocket(url, {
      ca: h.bridge.certificate,
      headers: { authorization: `Bearer ${await h.appToken('carol')}` },
    });
    const status = await new Promise<number>((resolve) =>
      refused.on('unexpected-response', (_request, response) => resolve(response.statusCode ?? 0)),
    );
    expect(status).toBe(403);
  });

  it('a write needs an idempotency key, and a retry with it is not applied twice', async () => {
    const missing = await write(7.5);
    expect(missing.status).toBe(400);
    expect(missing.body.error.message).toMatch(/Idempotency-Key/);

    const first = await write(7.5, 'write-0001');
    expect(first.status, first.text).toBe(200);
    await eventually(setpoint, (v) => Math.abs(v - 7.5) < 1e-6);
    expect((await write(8.5, 'write-0002')).status).toBe(200);
    await eventually(setpoint, (v) => Math.abs(v - 8.5) < 1e-6);

    // The app retries the first write (say its answer was lost): same answer, the device keeps 8.5.
    const retry = await write(7.5, 'write-0001');
    expect(retry.status).toBe(200);
    expect(retry.body).toEqual(first.body);
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(await setpoint()).toBeCloseTo(8.5);

    const reused = await write(9.5, 'write-0001');
    expect(reused.status).toBe(409);
    expect(reused.body.error.code).toBe('PG_ERR_CONFLICT');

    const audit = await h.gatewayAudit();
    expect(audit.some((r) => /not applied again/.test(r.detail ?? ''))).toBe(true);
  });

  it('an annotation through the bridge needs an idempotency key too, and its retry makes no second note', async () => {
    const note = (key?: string) =>
      h.api(`${BOILER}/annotations/create`, {
        token,
        body: { text: 'Feed pump swapped', start: '2026-06-01T10:00:00Z' },
        ...(key ? { headers: { 'idempotency-key': key } } : {}),
      });
    const missing = await note();
    expect(missing.status).toBe(400);
    expect(missing.body.error.message).toContain('annotations.create needs an Idempotency-Key');
    const first = await note('note-0001');
    const again = await note('note-0001');
    expect(first.status, first.text).toBe(200);
    expect(again.body.annotation.id).toBe(first.body.annotation.id);
    const read = await h.api(`${BOILER}/annotations/read`, {
      token,
      body: { start: '2026-06-01T00:00:00Z', end: '2026-06-02T00:00:00Z' },
    });
    expect(read.body.annotations.map((a: { text: string }) => a.text)).toEqual(['Feed pump swapped']);
    expect(read.body.annotations[0].author).toMatch(/^user:/);
  });

  it('a link that drops mid-request gives PG_ERR_LINK_LOST; the gateway comes back by itself', async () => {
    const pending = h.api('/api/v1/gateways/site-a/sources/stuck/values/write', {
      token,
      body: { values: [{ tag: 'Valve', value: 1 }] },
      headers: { 'idempotency-key': 'stuck-0001' },
    });
    await new Promise((resolve) => setTimeout(resolve, 500));
    h.gateway.kill('SIGKILL');
    const answer = await pending;
    expect(answer.status, answer.text).toBe(502);
    expect(answer.body.error.code).toBe('PG_ERR_LINK_LOST');

    const offline = await h.api(`${BOILER}/values/snapshot`, {
      token,
      body: { tags: ['Boiler1.SteamPressure'] },
    });
    expect(offline.status).toBe(503);
    expect(offline.body.error.code).toBe('PG_ERR_GATEWAY_OFFLINE');

    await h.startGateway();
    const back = await h.api(`${BOILER}/values/snapshot`, {
      token,
      body: { tags: ['Boiler1.SteamPressure'] },
    });
    expect(back.status).toBe(200);
  });

  it('reconnects with back-off after the bridge closes its link, and counts it in health', async () => {
    h.bridge.broker.disconnect('site-a');
    await eventually(
      async () => h.bridge.broker.isOnline('site-a'),
      (online) => !online,
    );
    await eventually(
      async () => h.bridge.broker.isOnline('site-a'),
      (online) => online,
      20_000,
    );
    const health = await h.api('/api/v1/gateways/site-a/health', { token });
    expect(health.body.link).toMatchObject({ state: 'connected' });
    expect(health.body.link.reconnects).toBeGreaterThanOrEqual(1);
  });

  it('deleting the gateway closes its link at once; enrolling again rotates its keys', async () => {
    const admin = await h.ownToken('admin');
    const before = await h.bridge.store.getGateway('site-a');
    const deleted = await h.api('/api/v1/gateways/site-a', { method: 'DELETE', token: admin });
    expect(deleted.status).toBe(204);
    expect(h.bridge.broker.isOnline('site-a')).toBe(false);
    const gone = await h.api(`${BOILER}/values/snapshot`, {
      token,
      body: { tags: ['Boiler1.SteamPressure'] },
    });
    expect(gone.status).toBe(404);

    const code = await h.api('/api/v1/gateways', { token: admin, body: { id: 'site-a' } });
    await promisify(execFile)(process.execPath, [
      BIN,
      'enroll',
      '--config',
      h.gatewayConfig,
      '--code',
      code.body.code,
    ]);
    const after = await h.bridge.store.getGateway('site-a');
    expect(after?.signPublicKey).toBeDefined();
    expect(after?.signPublicKey).not.toBe(before?.signPublicKey);
    expect(after?.boxPublicKey).not.toBe(before?.boxPublicKey);
    // The running gateway still holds its old keys in memory: the bridge no longer lets it in.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(h.bridge.broker.isOnline('site-a')).toBe(false);
    await h.stopGateway();
    await h.startGateway();
    await h.consent('alice');
    const answer = await h.api(`${BOILER}/values/snapshot`, {
      token,
      body: { tags: ['Boiler1.SteamPressure'] },
    });
    expect(answer.status).toBe(200);
    // The secret half of the new keys is sealed to this machine, not stored in the clear.
    const sealed = readFileSync(path.join(h.dir, 'gateway-data/keys/link-keys'), 'utf8');
    expect(sealed.startsWith('enc:v1:')).toBe(true);
  });

  it("enrolling from the gateway's console with a code pins the bridge key whose fingerprint it shows", async () => {
    const admin = await h.ownToken('admin');
    await h.api('/api/v1/gateways/site-a', { method: 'DELETE', token: admin });
    const code = await h.api('/api/v1/gateways', { token: admin, body: { id: 'site-a' } });
    const port = /console: \{ port: (\d+) \}/.exec(readFileSync(h.gatewayConfig, 'utf8'))![1];
    const origin = `http://127.0.0.1:${port}`;
    const dataDir = path.join(h.dir, 'gateway-data');
    const signIn = new URL(signInUrl(origin, readLocalToken(dataDir)));
    const opened = await fetch(signIn, { redirect: 'manual' });
    const cookie = opened.headers.get('set-cookie')!.split(';')[0]!;
    const pageText = await (await fetch(`${origin}/console/enrollment`, { headers: { cookie } })).text();
    const csrf = /name="csrf" value="([^"]+)"/.exec(pageText)![1]!;
    const enrolled = await fetch(`${origin}/console/enrollment`, {
      method: 'POST',
      headers: { cookie, origin, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ csrf, code: code.body.code }).toString(),
    });
    const text = await enrolled.text();
    expect(enrolled.status, text).toBe(200);
    expect(text).toContain('Enrolled.');
    const pinned = enrollmentFacts(dataDir)!;
    const stored = await h.bridge.store.getGateway('site-a');
    expect(pinned.bridge).toBeDefined();
    expect(stored?.signPublicKey).toBeDefined();
    expect(text).toContain(bridgeKeyFingerprint(pinned));
    await h.stopGateway();
    await h.startGateway();
    await h.consent('alice');
    const answer = await h.api(`${BOILER}/values/snapshot`, {
      token,
      body: { tags: ['Boiler1.SteamPressure'] },
    });
    expect(answer.status).toBe(200);
  });
});
