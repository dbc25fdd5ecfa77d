/**
 * The OPC UA driver against node-opcua's own server in a separate process, over TCP, in SignAndEncrypt
 * (Basic256Sha256) with a user name and password, after the two-way certificate trust.
 */
import { describe, expect, it } from 'vitest';
import { describeDriverConformance } from '../../core/conformance.ts';
import {
  line,
  type OpcuaPeer,
  settingsFor,
  sourceConfig,
  startPeer,
  startTrusted,
  type TrustSteps,
} from './peer.ts';

let steps: TrustSteps | undefined;
let peerThumbprint = '';

describeDriverConformance(
  'opcua (node-opcua server process, SignAndEncrypt, Basic256Sha256, user name)',
  async () => {
    const peer: OpcuaPeer = await startPeer();
    peerThumbprint = peer.thumbprint;
    const tags = [
      line('SpeedSetpoint', { writable: true }),
      line('BatchId', { writable: true }),
      line('RecipeStep', { writable: true }),
      line('LaneWidths', { writable: true }),
      line('TotalCount'),
      line('LastStop'),
      line('Enabled'),
      line('GoodCount'),
      { ...line('Nothing'), nodeId: 'ns=1;s=Line1.NoSuchNode' },
    ];
    const started = await startTrusted(peer, sourceConfig(settingsFor(peer), tags));
    steps = started.steps;
    return {
      driver: started.driver,
      host: started.host,
      served: [
        { tag: 'Line1.SpeedSetpoint', value: 420 },
        { tag: 'Line1.BatchId', value: 'B-2026-0001' },
        { tag: 'Line1.RecipeStep', value: 3 },
        { tag: 'Line1.LaneWidths', value: [80.5, 80.5, 79.9, 80.1] },
        { tag: 'Line1.TotalCount', value: '4000000000' },
        { tag: 'Line1.LastStop', value: '2026-12-01T06:00:00.000Z' },
        { tag: 'Line1.Enabled', value: true },
      ],
      writes: [
        { tag: 'Line1.SpeedSetpoint', value: 300 },
        { tag: 'Line1.BatchId', value: 'B-2026-0002' },
        { tag: 'Line1.RecipeStep', value: 4 },
        { tag: 'Line1.LaneWidths', value: [81, 81, 80, 80] },
      ],
      badWrite: { tag: 'Line1.RecipeStep', value: 99999 },
      missing: 'Line1.Nothing',
      readOnly: 'Line1.GoodCount',
      teardown: async () => {
        await started.driver.stop();
        await peer.stop();
      },
    };
  },
);

describe('opcua certificate trust', () => {
  it('given an unknown server certificate, when the gateway first connects, then it refuses, keeps it in rejected and names the command that trusts it', () => {
    expect(steps?.untrustedServer).toMatch(
      /server certificate of opc\.tcp:\/\/127\.0\.0\.1:\d+\/plantgate\/line is not trusted/,
    );
    expect(steps?.untrustedServer).toContain('pki/rejected');
    expect(steps?.untrustedServer).toContain('plantgate opcua trust THUMBPRINT');
    expect(peerThumbprint).toMatch(/^[0-9A-F]{40}$/);
  });

  it('given the server does not yet trust the gateway, when it connects, then the refusal says whose certificate to trust', () => {
    expect(steps?.refusedByServer).toMatch(/refused the gateway's certificate/);
  });
});
