/**
 * The audit log: append-only JSON-lines files in dataDir/audit, every record hash-chained to the one
 * before (across files), written durably before the caller's answer leaves. Records arriving together
 * share one write and one fdatasync (group commit), done off the event loop so the gateway keeps working
 * while the disk does. A head file records the newest record (at most once a second, and at close), so
 * a log cut short at its end is detected too.
 */
import {
  closeSync,
  fdatasync,
  fstatSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  write,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Logger } from '../../drivers/core/index.ts';
import { type AuditEvent, type AuditRecord, GENESIS, seal } from './record.ts';

export interface AuditOptions {
  /** A file past this size is closed and the next one opened. */
  maxFileBytes: number;
}

const FILE_PATTERN = /^audit-(\d{6})\.jsonl$/;
const HEAD_EVERY_MS = 1000;
const writeAsync = promisify(write);
const fdatasyncAsync = promisify(fdatasync);
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
  seq: number;
  hash: string;
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
  /** The flush under way, if any. */
  private flushing: Promise<void> | undefined;
  private headTimer: NodeJS.Timeout | undefined;
  /** The newest record known to be on disk: what the head names. */
  private durable = { seq: 0, hash: GENESIS };
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
      this.queue.push({ line, seq: record.seq, hash: record.hash, resolve: () => resolve(record), reject });
      if (!this.flushing) {
        // One flush for every record appended in this turn of the event loop, and then one for all
        // that arrived while the previous one was on its way to the disk.
        this.flushing = new Promise((done) => setImmediate(() => this.flush().then(done)));
      }
    });
  }

  /** Waits for records on their way to disk, writes the head and closes the file. */
  async close(): Promise<void> {
    this.closed = true;
    await this.flushing;
    clearTimeout(this.headTimer);
    this.headTimer = undefined;
    if (this.fd >= 0) {
      this.writeHead();
      closeSync(this.fd);
    }
    this.fd = -1;
  }

  private async flush(): Promise<void> {
    while (this.queue.length) {
      const batch = this.queue;
      this.queue = [];
      try {
        const bytes = Buffer.from(batch.map((w) => w.line).join(''));
        if (this.fileBytes > 0 && this.fileBytes + bytes.length > this.options.maxFileBytes) this.rotate();
        const fd = this.fd;
        let written = 0;
        while (written < bytes.length) {
          written += (await writeAsync(fd, bytes, written, bytes.length - written, null)).bytesWritten;
        }
        await fdatasyncAsync(fd);
        this.flushes++;
        this.fileBytes += bytes.length;
        const last = batch[batch.length - 1] as Waiter;
        this.durable = { seq: last.seq, hash: last.hash };
        if (!this.headTimer) {
          this.headTimer = setTimeout(() => {
            this.headTimer = undefined;
            if (this.fd >= 0) this.writeHead();
          }, HEAD_EVERY_MS);
          this.headTimer.unref();
        }
        for (const w of batch) w.resolve();
      } catch (error) {
        this.log.error('audit write failed', { error: (error as Error).message });
        for (const w of batch) w.reject(error as Error);
      }
    }
    this.flushing = undefined;
  }

  /**
   * The head is replaced by rename but not fsynced: the records themselves are durable, and a head
   * that lags after a power cut (or a kill) only means the log may run ahead of it, which verify
   * accepts. Writing it once a second rather than per flush keeps it off every request's path.
   */
  private writeHead(): void {
    const file = headFile(this.dataDir);
    const temporary = `${file}.tmp`;
    try {
      writeFileSync(temporary, JSON.stringify(this.durable), { mode: 0o600 });
      renameSync(temporary, file);
    } catch (error) {
      this.log.error('audit head write failed', { error: (error as Error).message });
    }
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
    this.durable = { seq: record.seq, hash: record.hash };
  }
}
