/**
 * Writes that come over the link carry an idempotency key. The first answer for a key is kept (in
 * dataDir/link/idempotency.db, for 24 h, across restarts), and a retry with the same key and the same
 * request gets that answer without the write being applied again; the same key with another request is
 * refused. Two copies arriving at once share one execution.
 */
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { gatewayError } from '../errors.ts';

const KEEP_MS = 24 * 3_600_000;

export class IdempotencyStore {
  private readonly db: DatabaseSync;
  private readonly running = new Map<string, { hash: string; answer: Promise<unknown> }>();
  private writes = 0;

  constructor(dataDir: string) {
    const dir = path.join(dataDir, 'link');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    this.db = new DatabaseSync(path.join(dir, 'idempotency.db'));
    this.db.exec(`PRAGMA journal_mode = WAL;
      CREATE TABLE IF NOT EXISTS answers (key TEXT PRIMARY KEY, request_hash TEXT NOT NULL, answer TEXT NOT NULL, at INTEGER NOT NULL);`);
  }

  /** `execute` once per key; a retry gets the stored answer, marked with `replayed: true`. */
  async run(
    key: string,
    request: unknown,
    execute: () => Promise<unknown>,
  ): Promise<{ answer: unknown; replayed: boolean }> {
    const hash = createHash('sha256').update(JSON.stringify(request)).digest('hex');
    const conflict = () =>
      gatewayError(
        'PG_ERR_CONFLICT',
        'this idempotency key was used for another request; use a new key for a new write',
      );
    const inFlight = this.running.get(key);
    if (inFlight) {
      if (inFlight.hash !== hash) throw conflict();
      return { answer: await inFlight.answer, replayed: true };
    }
    const stored = this.db
      .prepare('SELECT request_hash, answer FROM answers WHERE key = ? AND at > ?')
      .get(key, Date.now() - KEEP_MS) as { request_hash: string; answer: string } | undefined;
    if (stored) {
      if (stored.request_hash !== hash) throw conflict();
      return { answer: JSON.parse(stored.answer), replayed: true };
    }
    const answer = execute();
    this.running.set(key, { hash, answer });
    try {
      const result = await answer;
      this.db
        .prepare('INSERT OR REPLACE INTO answers (key, request_hash, answer, at) VALUES (?, ?, ?, ?)')
        .run(key, hash, JSON.stringify(result), Date.now());
      if (++this.writes % 1000 === 0)
        this.db.prepare('DELETE FROM answers WHERE at <= ?').run(Date.now() - KEEP_MS);
      return { answer: result, replayed: false };
    } finally {
      this.running.delete(key);
    }
  }

  close(): void {
    this.db.close();
  }
}
