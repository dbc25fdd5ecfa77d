/**
 * `plantgate audit verify`: walks the chain and names the first record that breaks it — edited,
 * deleted, reordered, inserted — and a log cut short at its end (the head file remembers the newest
 * record). The chain is a plain SHA-256 chain: it proves order and completeness against everyone who
 * cannot rewrite the whole log and its head; anchoring heads off the machine makes it hold against them.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { auditFiles, headFile } from './log.ts';
import { type AuditRecord, GENESIS, hashOf } from './record.ts';

export type ProblemKind = 'unreadable' | 'edited' | 'deleted' | 'reordered' | 'inserted' | 'truncated';

export interface VerifyResult {
  ok: boolean;
  records: number;
  files: number;
  problem?: { kind: ProblemKind; file: string; line: number; seq?: number; message: string };
}

interface Entry {
  file: string;
  line: number;
  text: string;
  record?: AuditRecord;
}

function* entries(dataDir: string): Generator<Entry> {
  for (const file of auditFiles(dataDir)) {
    const lines = readFileSync(file, 'utf8').split('\n');
    if (lines.at(-1) === '') lines.pop();
    for (let i = 0; i < lines.length; i++) {
      const text = lines[i]!;
      let record: AuditRecord | undefined;
      try {
        record = JSON.parse(text) as AuditRecord;
      } catch {
        record = undefined;
      }
      yield { file, line: i + 1, text, ...(record ? { record } : {}) };
    }
  }
}

export function verifyAudit(dataDir: string): VerifyResult {
  const files = auditFiles(dataDir).length;
  const seqs = new Set<number>();
  for (const e of entries(dataDir)) if (typeof e.record?.seq === 'number') seqs.add(e.record.seq);

  let expected = 1;
  let prev = GENESIS;
  let count = 0;
  let last: Entry | undefined;
  const seen = new Set<number>();
  const fail = (kind: ProblemKind, e: Entry, message: string): VerifyResult => ({
    ok: false,
    records: count,
    files,
    problem: {
      kind,
      file: path.basename(e.file),
      line: e.line,
      ...(e.record ? { seq: e.record.seq } : {}),
      message,
    },
  });

  for (const e of entries(dataDir)) {
    const r = e.record;
    if (!r || typeof r.seq !== 'number' || typeof r.hash !== 'string')
      return fail('unreadable', e, 'the line is not an audit record');
    const { hash, ...body } = r;
    if (hashOf(body) !== hash) return fail('edited', e, `record ${r.seq} was changed after it was written`);
    if (r.seq !== expected || r.prev !== prev) {
      if (seen.has(r.seq))
        return fail('inserted', e, `a second record ${r.seq}: a record was inserted or copied`);
      if (r.seq > expected) {
        return seqs.has(expected)
          ? fail('reordered', e, `record ${r.seq} stands where record ${expected} belongs`)
          : fail(
              'deleted',
              e,
              `records ${expected}${r.seq - 1 > expected ? `-${r.seq - 1}` : ''} are missing before record ${r.seq}`,
            );
      }
      if (r.seq < expected) return fail('reordered', e, `record ${r.seq} comes after record ${expected - 1}`);
      return fail(
        'edited',
        e,
        `record ${r.seq} does not link to the record before it (that one was replaced)`,
      );
    }
    seen.add(r.seq);
    prev = hash;
    expected++;
    count++;
    last = e;
  }

  let head: { seq: number; hash: string } | undefined;
  try {
    head = JSON.parse(readFileSync(headFile(dataDir), 'utf8'));
  } catch {
    head = undefined;
  }
  if (head && head.seq > count) {
    const at = last ?? { file: headFile(dataDir), line: 0, text: '' };
    return fail(
      'truncated',
      at,
      `the log ends at record ${count} but ${head.seq} were written: the end was cut off`,
    );
  }
  return { ok: true, records: count, files };
}

/** Records whose time lies in [since, until], in order, for a SIEM. */
export function* exportAudit(dataDir: string, since: number, until: number): Generator<AuditRecord> {
  for (const e of entries(dataDir)) {
    if (!e.record) continue;
    const t = Date.parse(e.record.time);
    if (t >= since && t <= until) yield e.record;
  }
}
