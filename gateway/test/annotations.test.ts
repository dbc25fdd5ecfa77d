/** Annotations in a running gateway: made with writeAnnotations, read with read, tag rules applied, changes audited, kept across restarts. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OperationName } from '../api/operations.ts';
import { exportAudit } from '../audit/verify.ts';
import { loadGatewayConfig } from '../config/load.ts';
import { startGateway } from '../runtime.ts';
import { type Harness, linkCaller, runAs, startHarness } from './harness.ts';

const RULES = `access:
  rules:
    - { principal: "user:shift-lead", sources: [boiler], roles: [read, writeAnnotations] }
    - { principal: "user:operator", sources: [boiler], roles: [read, writeAnnotations], tags: ["Boiler1.Steam*"] }
    - { principal: "user:viewer", sources: [boiler], roles: [read] }
`;

let h: Harness;
const _as = linkCaller;
const run = (who: string, operation: OperationName, request: unknown) =>
  runAs(h, who, operation, request, 'boiler');
type Note = {
  id: string;
  text: string;
  start: string;
  end?: string;
  tags: string[];
  author: string;
  modifiedBy: string;
};
const read = async (who: string, request: Record<string, unknown> = {}) =>
  (
    (await run(who, 'annotations.read', {
      start: '2026-01-01T00:00:00Z',
      end: '2026-12-31T00:00:00Z',
      ...request,
    })) as { annotations: Note[] }
  ).annotations;

beforeAll(async () => {
  h = await startHarness({ extraConfig: RULES });
}, 30_000);
afterAll(async () => h?.stop());

describe('annotations', () => {
  let rangeNote: Note;

  it('given writeAnnotations, when notes are made, then they read back with author and times, in time order', async () => {
    rangeNote = (
      (await run('user:shift-lead', 'annotations.create', {
        text: 'Burner inspection',
        start: '2026-03-01T08:00:00Z',
        end: '2026-03-01T10:00:00Z',
      })) as { annotation: Note }
    ).annotation;
    await run('user:operator', 'annotations.create', {
      text: 'Steam pressure spike, valve V12 sticking',
      start: '2026-02-10T13:05:00Z',
      tags: ['Boiler1.SteamPressure'],
    });
    const notes = await read('user:viewer');
    expect(notes.map((n) => n.text)).toEqual([
      'Steam pressure spike, valve V12 sticking',
      'Burner inspection',
    ]);
    expect(notes[1]).toMatchObject({
      author: 'user:shift-lead',
      start: '2026-03-01T08:00:00.000Z',
      end: '2026-03-01T10:00:00.000Z',
      tags: [],
    });
    expect(notes[0]!.end).toBeUndefined();
    expect(
      await read('user:viewer', { start: '2026-03-01T09:00:00Z', end: '2026-03-01T09:30:00Z' }),
    ).toHaveLength(1);
  });

  it('given tag rules, when notes about other tags are made or read, then they are refused or not shown', async () => {
    await expect(
      run('user:operator', 'annotations.create', {
        text: 'x',
        start: '2026-02-01T00:00:00Z',
        tags: ['Boiler1.PressureSetpoint'],
      }),
    ).rejects.toMatchObject({
      code: 'PG_ERR_ACCESS_DENIED',
      message: expect.stringContaining('Boiler1.PressureSetpoint'),
    });
    await run('user:shift-lead', 'annotations.create', {
      text: 'Setpoint lowered',
      start: '2026-02-02T00:00:00Z',
      tags: ['Boiler1.PressureSetpoint'],
    });
    expect((await read('user:operator')).map((n) => n.text)).not.toContain('Setpoint lowered');
    expect((await read('user:shift-lead')).map((n) => n.text)).toContain('Setpoint lowered');
    await expect(run('user:viewer', 'annotations.create', { text: 'x', start: '*' })).rejects.toMatchObject({
      code: 'PG_ERR_ACCESS_DENIED',
    });
    await expect(
      run('user:shift-lead', 'annotations.create', {
        text: 'x',
        start: '2026-02-02T00:00:00Z',
        end: '2026-02-01T00:00:00Z',
      }),
    ).rejects.toMatchObject({ code: 'PG_ERR_BAD_TIME' });
  });

  it('given a note, when changed and deleted, then it reads as changed, then is gone, and both are audited', async () => {
    const changed = (
      (await run('user:operator', 'annotations.update', {
        id: rangeNote.id,
        text: 'Burner inspection, nozzle replaced',
        end: null,
      })) as {
        annotation: Note;
      }
    ).annotation;
    expect(changed).toMatchObject({
      author: 'user:shift-lead',
      modifiedBy: 'user:operator',
      text: 'Burner inspection, nozzle replaced',
    });
    expect(changed.end).toBeUndefined();
    await run('user:shift-lead', 'annotations.delete', { id: rangeNote.id });
    expect((await read('user:viewer')).map((n) => n.id)).not.toContain(rangeNote.id);
    await expect(run('user:shift-lead', 'annotations.delete', { id: rangeNote.id })).rejects.toMatchObject({
      code: 'PG_ERR_NOT_FOUND',
    });
    const details = [...exportAudit(h.gateway.config.gateway.dataDir, 0, Date.now() + 1000)].map(
      (r) => r.detail ?? '',
    );
    expect(
      details.some((d) => d.includes(`annotation ${rangeNote.id} changed from "Burner inspection"`)),
    ).toBe(true);
    expect(details.some((d) => d.startsWith(`annotation ${rangeNote.id} deleted`))).toBe(true);
  });

  it('given a restart, when read again, then the notes are still there', async () => {
    const before = await read('user:shift-lead');
    await h.gateway.stop();
    h.gateway = await startGateway(await loadGatewayConfig(h.configFile), {
      debug() {},
      info() {},
      warn() {},
      error() {},
    });
    expect(await read('user:shift-lead')).toEqual(before);
  });
});
