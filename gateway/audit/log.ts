/**
 * The audit log: append-only JSON-lines files in dataDir/audit, every record hash-chained to the one
 * before (across files), written durably before the caller's answer leaves. Records arriving together
 * share one write and one fsync (group commit). After each flush a head file records the newest record,
 * so a log cut short at its end is detected too.
 */
import {
  closeSync,
  fdatasyncSync,
  fstatSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';
import type { Logger } from '../../drivers/core/index.ts';
import { type AuditEvent, type AuditRecord, GENESIS, seal } from './record.ts';

export interface AuditOptions {
  /** A file past this size is closed and the next one opened. */
  maxFileBytes: number;
}

const FILE_PATTERN = /^audit-(\d{6})\.jsonl$/;
export const auditDir = (dataDir: string) => path.join(dataDir, 'audit');
export const headFile = (dataDir: string) => path.join(auditDir(dataDir), 'head.json');

export function auditFiles(dataDir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(auditDir(dataDir));
  } catch {
    return [];
  }
  return names
    .filter((n) => FILE_PATTERN.test(n))
    .sort()
    .map((n) => path.join(auditDir(dataDir), n));
}

interface Waiter {
  line: string;
  resolve(): void;
  reject(error: Error): void;
}

export class AuditLog {
  private readonly dataDir: string;
  private readonly options: AuditOptions;
  private readonly log: Logger;
  private fd = -1;
  private fileIndex = 0;
  private fileBytes = 0;
  private seq = 0;
  private prev = GENESIS;
  private queue: Waiter[] = [];
  /** Writes to disk so far (each one write and one fsync, for any number of records). */
  flushes = 0;
  private flushing = false;
  private closed = false;

  constructor(dataDir: string, log: Logger, options: AuditOptions = { maxFileBytes: 64 * 1024 * 1024 }) {
    this.dataDir = dataDir;
    this.log = log;
    this.options = options;
    mkdirSync(auditDir(dataDir), { recursive: true, mode: 0o700 });
    this.openLatest();
  }

  /** Appends a record; resolves once it is on disk. */
  append(event: AuditEvent): Promise<AuditRecord> {
    if (this.closed) return Promise.reject(new Error('the audit log is closed'));
    this.seq++;
    const record = seal(event, this.seq, this.prev);
    this.prev = record.hash;
    const line = `${JSON.stringify(record)}\n`;
    return new Promise<AuditRecord>((resolve, reject) => {
      this.queue.push({ line, resolve: () => resolve(record), reject });
      if (!this.flushing) {
        this.flushing = true;
        // One flush for every record appended in this turn of the event loop, and the ones that arrive
        // while it is on its way to the disk.
        setImmediate(() => this.flush());
      }
    });
  }

  close(): void {
    this.closed = true;
    if (this.queue.length) this.flush();
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }

  private flush(): void {
    const batch = this.queue;
    this.queue = [];
    try {
      const text = batch.map((w) => w.line).join('');
      const bytes = Buffer.from(text);
      if (this.fileBytes > 0 && this.fileBytes + bytes.length > this.options.maxFileBytes) this.rotate();
      let written = 0;
      while (written < bytes.length) written += writeSync(this.fd, bytes, written);
      fdatasyncSync(this.fd);
      this.flushes++;
      this.fileBytes += bytes.length;
      this.writeHead();
      for (const w of batch) w.resolve();
    } catch (error) {
      this.log.error('audit write failed', { error: (error as Error).message });
      for (const w of batch) w.reject(error as Error);
    }
    if (this.queue.length) setImmediate(() => this.flush());
    else this.flushing = false;
  }

  /**
   * The head is replaced by rename but not fsynced: the records themselves are durable, and a head
   * that lags after a power cut only means the log may run ahead of it, which verify accepts. A second
   * fsync per batch would double the wait of every audited request for no record's sake.
   */
  private writeHead(): void {
    const file = headFile(this.dataDir);
    const temporary = `${file}.tmp`;
    writeFileSync(temporary, JSON.stringify({ seq: this.seq, hash: this.prev }), { mode: 0o600 });
    renameSync(temporary, file);
  }

  private fileName(index: number): string {
    return path.join(auditDir(this.dataDir), `audit-${String(index).padStart(6, '0')}.jsonl`);
  }

  private rotate(): void {
    closeSync(this.fd);
    this.fileIndex++;
    this.fd = openSync(this.fileName(this.fileIndex), 'a', 0o600);
    this.fileBytes = 0;
  }

  /** Opens the newest file and takes up the chain from its last whole record. */
  private openLatest(): void {
    const files = auditFiles(this.dataDir);
    const latest = files.at(-1);
    this.fileIndex = latest ? Number(FILE_PATTERN.exec(path.basename(latest))![1]) : 1;
    const file = latest ?? this.fileName(this.fileIndex);
    this.fd = openSync(file, 'a+', 0o600);
    const size = fstatSync(this.fd).size;
    if (size === 0) {
      // A new file: the chain continues from the previous file's last record, if there is one.
      const before = files.at(-2);
      if (before) this.takeUpFrom(readFileSync(before, 'utf8'));
      this.fileBytes = 0;
      return;
    }
    const text = readFileSync(file, 'utf8');
    const end = text.lastIndexOf('\n') + 1;
    if (end < text.length) {
      // A record cut short by a crash mid-write was never acknowledged: drop the fragment.
      ftruncateSync(this.fd, end);
      this.log.warn('audit log: removed an unfinished record left by a crash', {
        file,
        bytes: text.length - end,
      });
    }
    this.takeUpFrom(text.slice(0, end));
    this.fileBytes = end;
  }

  private takeUpFrom(text: string): void {
    const lines = text.trimEnd().split('\n');
    const last = lines.at(-1);
    if (!last) return;
    const record = JSON.parse(last) as AuditRecord;
    this.seq = record.seq;
    this.prev = record.hash;
  }
}
