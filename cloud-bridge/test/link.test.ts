import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OPERATION_PATHS } from '../../gateway/api/index.ts';
import { HistoryStore } from '../../gateway/history/store.ts';
import { readLocalToken } from '../../gateway/local-api/token.ts';
import { eventually } from '../../gateway/test/harness.ts';
import { type LinkHarness, startLinkHarness } from './link-harness.ts';

const ARCHIVE_VALUES = 50_000;
const ARCHIVE_START = Math.floor(Date.now() / 1000) * 1000 - 86_400_000;

let h: LinkHarness;
beforeAll(async () => {
  h = await startLinkHarness({
    extraBoilerTags: '\n      - { name: Boiler1.Archive, address: "holding:600", type: uint16 }',
    beforeGatewayStarts(dataDir) {
      // Enough history that its answer crosses the link in many chunks.
      const history = new HistoryStore(dataDir, {
        maxAgeDays: 30,
        maxSizeMB: 1024,
        heartbeatMs: 600_000,
        flushMs: 30_000,
      });
      history.record(
        'boiler',
        Array.from({ length: ARCHIVE_VALUES }, (_, i) => ({
          tag: 'Boiler1.Archive',
          time: ARCHIVE_START + i * 1000,
          value: i,
          status: 'good' as const,
        })),
      );
      history.flush(Date.now(), true);
      history.close();
    },
  });
  await h.consent('alice');
}, 60_000);
afterAll(async () => {
  await h?.stop();
});

const SNAPSHOT = '/api/v1/gateways/site-a/sources/boiler/values/snapshot';

describe('a cloud app reads the plant through the bridge and the link', () => {
  it('reads a snapshot with a consented, allowed app and a gateway role', async () => {
    const token = await h.appToken('alice');
    const answer = await eventually(
      () => h.api(SNAPSHOT, { token, body: { tags: ['Boiler1.SteamPressure'] } }),
      (a) => a.status === 200 && a.body.values[0].status === 'good',
    );
    expect(answer.body.values[0]).toMatchObject({ tag: 'Boiler1.SteamPressure', status: 'good' });
    expect(typeof answer.body.values[0].value).toBe('number');
  });

  it('lists the gateway as online, the consented sources, and health with the link state', async () => {
    const token = await h.appToken('alice');
    const gateways = await h.api('/api/v1/gateways', { token });
    expect(gateways.body.gateways).toEqual([{ id: 'site-a', name: 'site-a', enrolled: true, online: true }]);
    const sources = await h.api('/api/v1/gateways/site-a/sources', { token });
    // alice consented to boiler only: the gateway's other source is not shown to this app.
    expect(sources.body.sources.map((s: { id: string }) => s.id)).toEqual(['boiler']);
    const health = await h.api('/api/v1/gateways/site-a/health', { token });
    expect(health.status).toBe(200);
    expect(health.body.link.state).toBe('connected');
    expect(health.body.link.rttMs).toBeGreaterThanOrEqual(0);
  });

  it('a large answer crosses in chunks and arrives whole, the same as from the local API', async () => {
    const request = {
      tags: ['Boiler1.Archive'],
      start: new Date(ARCHIVE_START).toISOString(),
      end: new Date(ARCHIVE_START + ARCHIVE_VALUES * 1000).toISOString(),
      maxValues: ARCHIVE_VALUES,
    };
    const viaBridge = await h.api('/api/v1/gateways/site-a/sources/boiler/values/raw', {
      token: await h.appToken('alice'),
      body: request,
    });
    expect(viaBridge.status).toBe(200);
    expect(viaBridge.text.length).toBeGreaterThan(4 * 256 * 1024);
    expect(viaBridge.body.tags[0].values).toHaveLength(ARCHIVE_VALUES);
    expect(viaBridge.body.tags[0].values[ARCHIVE_VALUES - 1].value).toBe(ARCHIVE_VALUES - 1);

    const dataDir = path.join(h.dir, 'gateway-data');
    const port = Number(/console: \{ port: (\d+) \}/.exec(readFileSync(h.gatewayConfig, 'utf8'))?.[1]);
    const local = await fetch(`http://127.0.0.1:${port}/api/v1/sources/boiler/values/raw`, {
      method: 'POST',
      headers: { authorization: `Bearer ${readLocalToken(dataDir)}`, 'content-type': 'application/json' },
      body: JSON.stringify(request),
    });
    expect(viaBridge.text).toBe(await local.text());
  });

  it('publishes its OpenAPI document with every operation', async () => {
    const answer = await h.api('/api/v1/openapi.json');
    expect(answer.status).toBe(200);
    expect(answer.body.openapi).toBe('3.1.0');
    for (const path of Object.values(OPERATION_PATHS))
      expect(answer.body.paths).toHaveProperty([`/gateways/{gw}/sources/{src}/${path}`]);
    const write = answer.body.paths['/gateways/{gw}/sources/{src}/values/write'].post;
    expect(write.parameters.some((p: { name: string }) => p.name === 'Idempotency-Key')).toBe(true);
  });
});
