/**
 * Local history: values of sources that keep none of their own, in SQLite built into Node (`node:sqlite`,
 * WAL). Values are stored on change, with the last unchanged sample kept before a change so a steady
 * value reads as steady and not as a ramp, and at least every `heartbeatMs`. Retention by age and size.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import type { RawQuery, Status, TagValue, TagValueData, Value } from '../../drivers/core/index.ts';

export interface HistoryOptions {
  maxAgeDays: number;
  maxSizeMB: number;
  heartbeatMs: number;
}

const STATUS_CODE: Record<Status, number> = { good: 0, uncertain: 1, bad: 2 };
const STATUS_NAME: Status[] = ['good', 'uncertain', 'bad'];

interface SeriesState {
  id: number;
  lastKey: string;
  lastRecordedAt: number;
  /** The newest sample not stored because it equalled the one before. */
  held?: Value;
}

const valueKey = (v: Value) =>
  `${v.status}|${v.statusCode ?? ''}|${typeof v.value === 'object' ? JSON.stringify(v.value) : String(v.value)}`;

function encodeValue(value: TagValueData): number | string | null {
  if (value === null) return null;
  return typeof value === 'number' ? value : JSON.stringify(value);
}

function decodeValue(stored: unknown): TagValueData {
  if (stored === null || typeof stored === 'number') return stored as number | null;
  if (typeof stored === 'bigint') return Number(stored);
  return JSON.parse(stored as string) as TagValueData;
}

interface Row {
  t: number;
  v: unknown;
  status: number;
  code: number | null;
  err: string | null;
}

function toValue(row: Row): Value {
  const value: Value = { time: row.t, value: decodeValue(row.v), status: STATUS_NAME[row.status] ?? 'bad' };
  if (row.code !== null) value.statusCode = row.code;
  if (row.err !== null) value.error = row.err;
  return value;
}

export class HistoryStore {
  readonly file: string;
  private readonly db: DatabaseSync;
  private readonly options: HistoryOptions;
  private readonly series = new Map<string, SeriesState>();
  private readonly insert: StatementSync;
  private readonly findSeries: StatementSync;
  private readonly addSeries: StatementSync;
  private readonly rangeRead: StatementSync;
  private readonly beforeRead: StatementSync;
  private readonly afterRead: StatementSync;

  constructor(dataDir: string, options: HistoryOptions) {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    this.file = path.join(dataDir, 'history.sqlite');
    this.options = options;
    this.db = new DatabaseSync(this.file);
    // auto_vacuum must be chosen before the first table exists; it lets size retention give pages back.
    this.db.exec(`
      PRAGMA auto_vacuum = INCREMENTAL;
      PRAGMA journal_mode = WAL;
      PRAGMA synchronous = NORMAL;
      CREATE TABLE IF NOT EXISTS series (
        id INTEGER PRIMARY KEY, source TEXT NOT NULL, tag TEXT NOT NULL, UNIQUE (source, tag));
      CREATE TABLE IF NOT EXISTS samples (
        series INTEGER NOT NULL, t INTEGER NOT NULL, v, status INTEGER NOT NULL, code INTEGER, err TEXT,
        PRIMARY KEY (series, t)) WITHOUT ROWID;
    `);
    this.insert = this.db.prepare(
      'INSERT OR REPLACE INTO samples (series, t, v, status, code, err) VALUES (?, ?, ?, ?, ?, ?)',
    );
    this.findSeries = this.db.prepare('SELECT id FROM series WHERE source = ? AND tag = ?');
    this.addSeries = this.db.prepare('INSERT INTO series (source, tag) VALUES (?, ?) RETURNING id');
    this.rangeRead = this.db.prepare(
      'SELECT t, v, status, code, err FROM samples WHERE series = ? AND t >= ? AND t <= ? ORDER BY t LIMIT ?',
    );
    this.beforeRead = this.db.prepare(
      'SELECT t, v, status, code, err FROM samples WHERE series = ? AND t < ? ORDER BY t DESC LIMIT 1',
    );
    this.afterRead = this.db.prepare(
      'SELECT t, v, status, code, err FROM samples WHERE series = ? AND t > ? ORDER BY t LIMIT 1',
    );
  }

  /** Records a batch of values of one source in one transaction; unchanged values are held back. */
  record(source: string, values: readonly TagValue[]): number {
    let written = 0;
    this.db.exec('BEGIN');
    try {
      for (const v of values) {
        const state = this.state(source, v.tag);
        const key = valueKey(v);
        const changed = key !== state.lastKey;
        if (!changed && v.time - state.lastRecordedAt < this.options.heartbeatMs) {
          state.held = v;
          continue;
        }
        if (changed && state.held) {
          this.write(state.id, state.held);
          written++;
        }
        this.write(state.id, v);
        written++;
        state.lastKey = key;
        state.lastRecordedAt = v.time;
        delete state.held;
      }
      this.db.exec('COMMIT');
    } catch (error) {
      this.db.exec('ROLLBACK');
      throw error;
    }
    return written;
  }

  /** Raw samples of one tag, in time order, at most `maxValues` inside the range plus boundaries. */
  readRaw(source: string, tag: string, query: RawQuery): Value[] {
    const row = this.findSeries.get(source, tag) as { id: number } | undefined;
    if (!row) return [];
    const result = (
      this.rangeRead.all(row.id, query.start, query.end, query.maxValues) as unknown as Row[]
    ).map(toValue);
    // The held-back sample is the newest known value: reads see it as if it were stored.
    const held = this.series.get(`${source}\u0000${tag}`)?.held;
    const heldInRange = held && held.time >= query.start && held.time <= query.end;
    if (held && heldInRange && result.length < query.maxValues) result.push(held);
    if (query.boundary === 'outside') {
      const before = this.beforeRead.get(row.id, query.start) as Row | undefined;
      if (before) result.unshift(toValue(before));
      if (result.length <= query.maxValues) {
        const after = this.afterRead.get(row.id, query.end) as Row | undefined;
        if (after) result.push(toValue(after));
        else if (held && held.time > query.end) result.push(held);
      }
    }
    return result;
  }

  /** Deletes what is past the age limit, then the oldest values until the file is under its size limit. */
  enforceRetention(now = Date.now()): { deleted: number } {
    const seriesIds = (this.db.prepare('SELECT id FROM series').all() as { id: number }[]).map((r) => r.id);
    const deleteOlder = this.db.prepare('DELETE FROM samples WHERE series = ? AND t < ?');
    const deleteBefore = (cutoff: number) => {
      let deleted = 0;
      this.db.exec('BEGIN');
      for (const id of seriesIds) deleted += Number(deleteOlder.run(id, cutoff).changes);
      this.db.exec('COMMIT');
      this.db.exec('PRAGMA incremental_vacuum');
      return deleted;
    };
    let deleted = deleteBefore(now - this.options.maxAgeDays * 86_400_000);
    const limit = this.options.maxSizeMB * 1024 * 1024;
    for (let round = 0; round < 20 && this.sizeBytes() > limit; round++) {
      const oldestOf = this.db.prepare('SELECT min(t) AS t FROM samples WHERE series = ?');
      const oldest = Math.min(
        ...seriesIds.map((id) => (oldestOf.get(id) as { t: number | null }).t ?? Number.POSITIVE_INFINITY),
      );
      if (!Number.isFinite(oldest)) break;
      // Drop the oldest share of the time span in proportion to the excess, plus a margin.
      const share = Math.min(1, (this.sizeBytes() - limit) / this.sizeBytes() + 0.05);
      deleted += deleteBefore(oldest + Math.max(1, (now - oldest) * share));
    }
    return { deleted };
  }

  /** Bytes the database uses, not counting free pages. */
  sizeBytes(): number {
    const pages = (this.db.prepare('PRAGMA page_count').get() as { page_count: number }).page_count;
    const free = (this.db.prepare('PRAGMA freelist_count').get() as { freelist_count: number })
      .freelist_count;
    const pageSize = (this.db.prepare('PRAGMA page_size').get() as { page_size: number }).page_size;
    return (pages - free) * pageSize;
  }

  close(): void {
    this.db.close();
  }

  private write(series: number, v: Value): void {
    this.insert.run(
      series,
      v.time,
      encodeValue(v.value),
      STATUS_CODE[v.status],
      v.statusCode ?? null,
      v.error ?? null,
    );
  }

  private state(source: string, tag: string): SeriesState {
    const key = `${source}\u0000${tag}`;
    let state = this.series.get(key);
    if (!state) {
      const found = this.findSeries.get(source, tag) as { id: number } | undefined;
      const id = found?.id ?? (this.addSeries.get(source, tag) as { id: number }).id;
      state = { id, lastKey: '', lastRecordedAt: Number.NEGATIVE_INFINITY };
      this.series.set(key, state);
    }
    return state;
  }
}
