import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteBridgeStore } from './store.ts';

let store: SqliteBridgeStore;
afterEach(() => store?.close());

const open = () => {
  store = new SqliteBridgeStore(mkdtempSync(path.join(os.tmpdir(), 'plantgate-store-')));
  return store;
};

describe('the bridge store answers repeated reads from memory', () => {
  it('given a gateway read, when its keys are pinned or it is deleted, then the next read sees it', async () => {
    const s = open();
    expect(await s.getGateway('site-a')).toBeUndefined();
    await s.createGateway({ id: 'site-a', organisation: 'org', name: 'Site A' });
    expect(await s.getGateway('site-a')).toMatchObject({ id: 'site-a', organisation: 'org' });
    await s.pinGatewayKeys('site-a', { signPublicKey: 'sign', boxPublicKey: 'box' });
    expect(await s.getGateway('site-a')).toMatchObject({ signPublicKey: 'sign', boxPublicKey: 'box' });
    await s.deleteGateway('site-a');
    expect(await s.getGateway('site-a')).toBeUndefined();
  });

  it('given a consent and an app decision read, when they change, then the next read sees the change', async () => {
    const s = open();
    await s.createGateway({ id: 'site-a', organisation: 'org', name: 'Site A' });
    const consent = {
      id: 'c1',
      organisation: 'org',
      subject: 'user:alice',
      app: 'viewer',
      gatewayId: 'site-a',
      sourceId: 'boiler',
      offlineAccess: false,
      createdAt: new Date().toISOString(),
    };
    expect(await s.findConsent('user:alice', 'viewer', 'site-a', 'boiler')).toBeUndefined();
    await s.addConsent(consent);
    expect(await s.findConsent('user:alice', 'viewer', 'site-a', 'boiler')).toEqual(consent);
    await s.revokeConsent('c1', 'user:alice');
    expect(await s.findConsent('user:alice', 'viewer', 'site-a', 'boiler')).toBeUndefined();

    expect(await s.appDecision('org', 'viewer')).toBeUndefined();
    await s.setAppDecision('org', 'viewer', { allowed: true });
    expect(await s.appDecision('org', 'viewer')).toEqual({ allowed: true });
    await s.setAppDecision('org', 'viewer', { allowed: true, principals: ['group:operators'] });
    expect(await s.appDecision('org', 'viewer')).toEqual({ allowed: true, principals: ['group:operators'] });
    await s.setAppDecision('org', 'viewer', { allowed: false });
    expect(await s.appDecision('org', 'viewer')).toEqual({ allowed: false });
  });

  it('hands out records no caller can change under the others', async () => {
    const s = open();
    await s.createGateway({ id: 'site-a', organisation: 'org', name: 'Site A' });
    const gateway = await s.getGateway('site-a');
    expect(Object.isFrozen(gateway)).toBe(true);
  });
});
