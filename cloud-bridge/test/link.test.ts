import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../../gateway/test/harness.ts';
import { type LinkHarness, startLinkHarness } from './link-harness.ts';

let h: LinkHarness;
beforeAll(async () => {
  h = await startLinkHarness();
}, 60_000);
afterAll(async () => {
  await h?.stop();
});

const SNAPSHOT = '/api/v1/gateways/site-a/sources/boiler/values/snapshot';

describe('a cloud app reads the plant through the bridge and the link', () => {
  it('reads a snapshot with a consented, allowed app and a gateway role', async () => {
    await h.consent('alice');
    const token = await h.appToken('alice');
    const answer = await eventually(
      () => h.api(SNAPSHOT, { token, body: { tags: ['Boiler1.SteamPressure'] } }),
      (a) => a.status === 200 && a.body.values[0].status === 'good',
    );
    expect(answer.body.values[0]).toMatchObject({ tag: 'Boiler1.SteamPressure', status: 'good' });
    expect(typeof answer.body.values[0].value).toBe('number');
  });

  it('lists the gateway as online and answers health with the link state', async () => {
    await h.consent('alice');
    const token = await h.appToken('alice');
    const gateways = await h.api('/api/v1/gateways', { token });
    expect(gateways.body.gateways).toEqual([{ id: 'site-a', name: 'site-a', enrolled: true, online: true }]);
    const health = await h.api('/api/v1/gateways/site-a/health', { token });
    expect(health.status).toBe(200);
    expect(health.body.link.state).toBe('connected');
    expect(health.body.link.rttMs).toBeGreaterThanOrEqual(0);
  });
});
