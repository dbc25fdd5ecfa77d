/** What an audit record holds, and how it is chained: each record carries the hash of the one before. */
import { createHash } from 'node:crypto';

export interface AuditEvent {
  /** `operation` for every typed operation (allowed, denied or failed); `config` and `admin` for changes. */
  kind: 'operation' | 'config' | 'admin';
  requestId?: string;
  origin?: 'local' | 'link';
  principal?: string;
  groups?: number;
  app?: string;
  consentId?: string;
  source?: string;
  operation?: string;
  /** Number of tags the request named, and the first few. */
  tagCount?: number;
  tags?: string[];
  range?: { start: string; end: string };
  /** `ok`, or the PG_ERR code the caller got. */
  outcome: string;
  /** Values (or tags) returned. */
  values?: number;
  durationMs?: number;
  /** For config and admin records: what changed. */
  detail?: string;
}

export interface AuditRecord extends AuditEvent {
  seq: number;
  time: string;
  /** Hash of the previous record (64 zeros for the first). */
  prev: string;
  /** SHA-256 over this record without `hash`, as hex. */
  hash: string;
}

export const GENESIS = '0'.repeat(64);

export function hashOf(record: Omit<AuditRecord, 'hash'>): string {
  return createHash('sha256').update(JSON.stringify(record)).digest('hex');
}

export function seal(event: AuditEvent, seq: number, prev: string, time = new Date()): AuditRecord {
  const body = { seq, time: time.toISOString(), prev, ...event };
  return { ...body, hash: hashOf(body) };
}
