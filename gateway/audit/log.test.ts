import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../drivers/core/index.ts';
import { AuditLog, auditFiles } from './log.ts';
import type { AuditEvent } from './record.ts';
import { exportAudit, verifyAudit } from './verify.ts';

const event = (n: number): AuditEvent => ({
  kind: 'operation',
  operation: 'values.snapshot',
  source: 'boiler',
  principal: `user:u${n}`,
  outcome: 'ok',
});

async function logWith(count: number, maxFileBytes = 64 * 1024 * 1024) {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'plantgate-audit-'));
  const log = new AuditLog(dataDir, silentLogger, { maxFileBytes });
  // One at a time, so every record is its own flush (and small files rotate between them).
  for (let i = 0; i < count; i++) await log.append(event(i + 1));
  await log.close();
  return dataDir;
}

const lines = (file: string) => readFileSync(file, 'utf8').trimEnd().split('\n');
const rewrite = (file: string, edit: (lines: string[]) => string[]) =>
  writeFileSync(file, `${edit(lines(file)).join('\n')}\n`);

describe('audit log', () => {
  it('given records appended together, when written, then they share fsyncs, chain, and verify', async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'plantgate-audit-'));
    const log = new AuditLog(dataDir, silentLogger);
    const records = await Promise.all(Array.from({ length: 500 }, (_, i) => log.append(event(i))));
    expect(log.flushes).toBeLessThan(10);
    expect(records.map((r) => r.seq)).toEqual(Array.from({ length: 500 }, (_, i) => i + 1));
    expect(records[1]!.prev).toBe(records[0]!.hash);
    await log.close();
    expect(verifyAudit(dataDir)).toEqual({ ok: true, records: 500, files: 1 });
  });

  it('given a reopened log, when appending, then the chain continues from the last record', async () => {
    const dataDir = await logWith(3);
    const log = new AuditLog(dataDir, silentLogger);
    expect((await log.append(event(4))).seq).toBe(4);
    await log.close();
    expect(verifyAudit(dataDir)).toMatchObject({ ok: true, records: 4 });
  });

  it('given small files, when records rotate across them, then the chain spans the files and verifies', async () => {
    const dataDir = await logWith(200, 4000);
    const files = auditFiles(dataDir);
    expect(files.length).toBeGreaterThan(3);
    expect(verifyAudit(dataDir)).toMatchObject({ ok: true, records: 200, files: files.length });
    rmSync(files[1]!);
    expect(verifyAudit(dataDir).problem).toMatchObject({ kind: 'deleted' });
  });

  it('given an edited record, when verified, then it is named as edited', async () => {
    const dataDir = await logWith(10);
    const [file] = auditFiles(dataDir);
    rewrite(file!, (l) => l.map((line, i) => (i === 4 ? line.replace('"user:u5"', '"user:eve"') : line)));
    expect(verifyAudit(dataDir).problem).toMatchObject({ kind: 'edited', line: 5, seq: 5 });
  });

  it('given an edited record whose hash was recomputed, when verified, then the next record no longer links', async () => {
    const dataDir = await logWith(10);
    const [file] = auditFiles(dataDir);
    const { createHash } = await import('node:crypto');
    rewrite(file!, (l) =>
      l.map((line, i) => {
        if (i !== 4) return line;
        const { hash: _, ...body } = JSON.parse(line);
        body.principal = 'user:eve';
        return JSON.stringify({
          ...body,
          hash: createHash('sha256').update(JSON.stringify(body)).digest('hex'),
        });
      }),
    );
    expect(verifyAudit(dataDir).problem).toMatchObject({ kind: 'edited', line: 6, seq: 6 });
  });

  it('given a deleted record, when verified, then the gap is named', async () => {
    const dataDir = await logWith(10);
    const [file] = auditFiles(dataDir);
    rewrite(file!, (l) => l.filter((_, i) => i !== 3));
    expect(verifyAudit(dataDir).problem).toMatchObject({
      kind: 'deleted',
      line: 4,
      seq: 5,
      message: expect.stringContaining('records 4 are missing'),
    });
  });

  it('given two records swapped, when verified, then the order is named', async () => {
    const dataDir = await logWith(10);
    const [file] = auditFiles(dataDir);
    rewrite(file!, (l) => [...l.slice(0, 2), l[3]!, l[2]!, ...l.slice(4)]);
    expect(verifyAudit(dataDir).problem).toMatchObject({ kind: 'reordered', line: 3, seq: 4 });
  });

  it('given a copied record inserted, when verified, then the insertion is named', async () => {
    const dataDir = await logWith(10);
    const [file] = auditFiles(dataDir);
    rewrite(file!, (l) => [...l.slice(0, 6), l[2]!, ...l.slice(6)]);
    expect(verifyAudit(dataDir).problem).toMatchObject({ kind: 'inserted', line: 7, seq: 3 });
  });

  it('given the last records cut off, when verified, then the truncation is named from the head', async () => {
    const dataDir = await logWith(10);
    const [file] = auditFiles(dataDir);
    rewrite(file!, (l) => l.slice(0, 7));
    expect(verifyAudit(dataDir).problem).toMatchObject({
      kind: 'truncated',
      message: expect.stringContaining('ends at record 7 but 10 were written'),
    });
  });

  it('given a half-written last record from a crash, when the log reopens, then the fragment goes and the chain verifies', async () => {
    const dataDir = await logWith(5);
    const [file] = auditFiles(dataDir);
    appendFileSync(file!, '{"seq":6,"time":"2026-');
    const log = new AuditLog(dataDir, silentLogger);
    expect((await log.append(event(6))).seq).toBe(6);
    await log.close();
    expect(verifyAudit(dataDir)).toMatchObject({ ok: true, records: 6 });
  });

  it('given records over time, when exported for a range, then only those come out, in order', async () => {
    const dataDir = await logWith(5);
    const all = [...exportAudit(dataDir, 0, Date.now() + 1000)];
    expect(all.map((r) => r.seq)).toEqual([1, 2, 3, 4, 5]);
    expect([...exportAudit(dataDir, Date.now() + 60_000, Date.now() + 120_000)]).toEqual([]);
  });
});
