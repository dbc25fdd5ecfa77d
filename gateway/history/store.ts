/**
 * Local history: values of sources that keep none of their own, in SQLite built into Node (`node:sqlite`,
 * WAL). A value is kept when it changes (with the last unchanged sample before the change, so a steady
 * value reads as steady and not as a ramp) and at least every `heartbeatMs`. Kept samples wait in memory
 * per tag and are written as one chunk per tag every `flushMs` (or at 512 samples), all due tags in one
 * transaction; reads see written and waiting samples alike. A clean stop writes everything; a power cut
 * loses at most `flushMs` of local history. Retention by age and by size.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import type { RawQuery, TagValue, Value } from '../../drivers/core/index.ts';
import { decodeChunk } from './chunk.ts';
import { SampleBuffer } from './sample-buffer.ts';

/** Multiples of it modulo 1 spread evenly over [0, 1) (a Weyl sequence). */
const GOLDEN_RATIO = 0.6180339887498949;

export interface HistoryOptions {
  maxAgeDays: number;
  maxSizeMB: number;
  heartbeatMs: number;
  flushMs: number;
}

const MAX_CHUNK = 512;

interface Series {
  id: number;
  /** The newest sample seen, kept or not, in its parts (an object here would outlive the young generation). */
  lastTime: number;
  lastValue: Value['value'];
  lastStatus: Value['status'] | undefined;
  lastCode: number | undefined;
  lastError: string | undefined;
  /** The newest sample was not kept because it equalled the one before. */
  lastHeld: boolean;
  lastRecordedAt: number;
  /** Kept samples not yet written. */
  pending: SampleBuffer;
}

function newSeries(id: number): Series {
  return {
    id,
    lastTime: 0,
    lastValue: null,
    lastStatus: undefined,
    lastCode: undefined,
    lastError: undefined,
    lastHeld: false,
    lastRecordedAt: Number.NEGATIVE_INFINITY,
    pending: new SampleBuffer(),
  };
}

function sameAsLast(series: Series, v: Value): boolean {
  if (series.lastStatus !== v.status || series.lastCode !== v.statusCode) return false;
  if (series.lastValue === v.value) return true;
  return (
    typeof v.value === 'object' &&
    v.value !== null &&
    JSON.stringify(series.lastValue) === JSON.stringify(v.value)
  );
}

function lastOfSeries(series: Series): Value {
  const value: Value = { time: series.lastTime, value: series.lastValue, status: series.lastStatus ?? 'bad' };
  if (series.lastCode !== undefined) value.statusCode = series.lastCode;
  if (series.lastError !== undefined) value.error = series.lastError;
  return value;
}

interface ChunkRow {
  t0: number;
  data: string;
}

export class HistoryStore {
  readonly file: string;
  private readonly db: DatabaseSync;
  private readonly options: HistoryOptions;
  private readonly sources = new Map<string, Map<string, Series>>();
  private readonly statements: Record<
    'insert' | 'findSeries' | 'addSeries' | 'overlapping' | 'before' | 'after',
    StatementSync
  >;
  private readonly flushTimer: NodeJS.Timeout;
  private closed = false;

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
      CREATE TABLE IF NOT EXISTS chunks (
        series INTEGER NOT NULL, t0 INTEGER NOT NULL, t1 INTEGER NOT NULL, data TEXT NOT NULL,
        PRIMARY KEY (series, t0)) WITHOUT ROWID;
    `);
    const columns = 't0, data FROM chunks WHERE series = ?';
    this.statements = {
      insert: this.db.prepare('INSERT OR REPLACE INTO chunks (series, t0, t1, data) VALUES (?, ?, ?, ?)'),
      findSeries: this.db.prepare('SELECT id FROM series WHERE source = ? AND tag = ?'),
      addSeries: this.db.prepare('INSERT INTO series (source, tag) VALUES (?, ?) RETURNING id'),
      overlapping: this.db.prepare(`SELECT ${columns} AND t1 >= ? AND t0 <= ? ORDER BY t0`),
      before: this.db.prepare(`SELECT ${columns} AND t1 < ? ORDER BY t0 DESC LIMIT 1`),
      after: this.db.prepare(`SELECT ${columns} AND t0 > ? ORDER BY t0 LIMIT 1`),
    };
    this.flushTimer = setInterval(() => this.flush(Date.now()), Math.min(1000, options.flushMs));
    this.flushTimer.unref();
  }

  /** Takes a batch of values of one source; unchanged values are held back, kept ones wait for the flush. */
  record(source: string, values: readonly TagValue[]): number {
    let kept = 0;
    const tags = this.tagsOf(source);
    for (const v of values) {
      let series = tags.get(v.tag);
      if (!series) {
        // The first unknown tag of a batch adds all of the batch's unknown tags in one transaction.
        this.addSeries(
          source,
          values.map((x) => x.tag).filter((t) => !tags.has(t)),
          tags,
        );
        series = tags.get(v.tag)!;
      }
      const changed = series.lastStatus === undefined || !sameAsLast(series, v);
      const held = series.lastHeld;
      if (changed && held) {
        series.pending.push(lastOfSeries(series));
        kept++;
      }
      series.lastTime = v.time;
      series.lastValue = v.value;
      series.lastStatus = v.status;
      series.lastCode = v.statusCode;
      series.lastError = v.error;
      if (!changed && v.time - series.lastRecordedAt < this.options.heartbeatMs) {
        series.lastHeld = true;
        continue;
      }
      series.pending.push(v);
      kept++;
      series.lastRecordedAt = v.time;
      series.lastHeld = false;
      if (series.pending.length >= MAX_CHUNK) this.writeChunks([series]);
    }
    return kept;
  }

  /**
   * Writes every tag whose oldest waiting sample has waited its share of `flushMs` (all with `force`).
   * Each tag waits between half of flushMs and flushMs, spread evenly over the tags by their ids, so
   * thousands of tags that began together do not all encode and write in the same second.
   */
  flush(now: number, force = false): void {
    if (this.closed) return;
    const due: Series[] = [];
    const flushMs = this.options.flushMs;
    for (const tags of this.sources.values()) {
      for (const series of tags.values()) {
        const waitMs = flushMs * (0.5 + 0.5 * ((series.id * GOLDEN_RATIO) % 1));
        if (series.pending.length && (force || now - series.pending.timeAt(0) >= waitMs)) due.push(series);
      }
    }
    if (due.length) this.writeChunks(due);
  }

  /** Raw samples of one tag in time order: at most `maxValues` inside the range, plus boundaries. */
  readRaw(source: string, tag: string, query: RawQuery): Value[] {
    const series = this.sources.get(source)?.get(tag) ?? this.loadSeries(source, tag);
    if (!series) return [];
    const waiting = series.pending.toValues();
    if (series.lastHeld) waiting.push(lastOfSeries(series));
    const inRange: Value[] = [];
    let before: Value | undefined;
    let after: Value | undefined;
    const take = (s: Value) => {
      if (s.time < query.start) {
        if (!before || s.time >= before.time) before = s;
      } else if (s.time > query.end) {
        if (!after || s.time < after.time) after = s;
      } else if (inRange.length <= query.maxValues) {
        inRange.push(s);
      }
    };
    for (const row of this.statements.overlapping.iterate(
      series.id,
      query.start,
      query.end,
    ) as Iterable<ChunkRow>) {
      for (const s of decodeChunk(row.t0, row.data)) take(s);
      if (inRange.length > query.maxValues) break;
    }
    for (const s of waiting) take(s);
    inRange.sort((a, b) => a.time - b.time);
    const result = inRange.slice(0, query.maxValues);
    if (query.boundary === 'outside') {
      // Neighbours may also sit in chunks wholly outside the range; the nearest one wins.
      const earlier = this.lastOf(this.statements.before.get(series.id, query.start) as ChunkRow | undefined);
      if (earlier && (!before || earlier.time > before.time)) before = earlier;
      const later = this.firstOf(
        this.statements.after.get(series.id, query.end) as ChunkRow | undefined,
        query.end,
      );
      if (later && (!after || later.time < after.time)) after = later;
      if (before) result.unshift(before);
      if (after && inRange.length <= query.maxValues) result.push(after);
    }
    return result;
  }

  /** Deletes what is past the age limit, then the oldest values until the file is under its size limit. */
  enforceRetention(now = Date.now()): { deleted: number } {
    const seriesIds = (this.db.prepare('SELECT id FROM series').all() as { id: number }[]).map((r) => r.id);
    const deleteOlder = this.db.prepare('DELETE FROM chunks WHERE series = ? AND t1 < ?');
    const countOlder = this.db.prepare('SELECT data FROM chunks WHERE series = ? AND t1 < ?');
    const deleteBefore = (cutoff: number) => {
      let deleted = 0;
      this.db.exec('BEGIN');
      try {
        for (const id of seriesIds) {
          for (const row of countOlder.iterate(id, cutoff) as Iterable<{ data: string }>) {
            deleted += (JSON.parse(row.data) as { t: unknown[] }).t.length;
          }
          deleteOlder.run(id, cutoff);
        }
        this.db.exec('COMMIT');
      } catch (error) {
        this.db.exec('ROLLBACK');
        throw error;
      }
      this.db.exec('PRAGMA incremental_vacuum');
      return deleted;
    };
    let deleted = deleteBefore(now - this.options.maxAgeDays * 86_400_000);
    const limit = this.options.maxSizeMB * 1024 * 1024;
    const oldestOf = this.db.prepare('SELECT min(t0) AS t FROM chunks WHERE series = ?');
    for (let round = 0; round < 20 && this.sizeBytes() > limit; round++) {
      let oldest = Number.POSITIVE_INFINITY;
      for (const id of seriesIds)
        oldest = Math.min(oldest, (oldestOf.get(id) as { t: number | null }).t ?? oldest);
      if (!Number.isFinite(oldest)) break;
      // Drop the oldest share of the time span in proportion to the excess, plus a margin.
      const share = Math.min(1, (this.sizeBytes() - limit) / this.sizeBytes() + 0.05);
      deleted += deleteBefore(oldest + Math.max(1, (now - oldest) * share));
    }
    return { deleted };
  }

  /** Bytes the database uses, not counting free pages. */
  sizeBytes(): number {
    const pragma = (name: string) =>
      Object.values(this.db.prepare(`PRAGMA ${name}`).get() as object)[0] as number;
    return (pragma('page_count') - pragma('freelist_count')) * pragma('page_size');
  }

  /** Writes what waits and closes the database. */
  close(): void {
    if (this.closed) return;
    clearInterval(this.flushTimer);
    this.flush(Date.now(), true);
    this.closed = true;
    this.db.close();
  }

  private writeChunks(due: readonly Series[]): void {
    this.db.exec('BEGIN');
    try {
      for (const series of due) {
        const { t0, t1, data } = series.pending.encode();
        this.statements.insert.run(series.id, t0, t1, data);
      }
      this.db.exec('COMMIT');
    } catch (error) {
      this.db.exec('ROLLBACK');
      throw error;
    }
    for (const series of due) series.pending.clear();
  }

  private lastOf(row: ChunkRow | undefined): Value | undefined {
    return row ? decodeChunk(row.t0, row.data).at(-1) : undefined;
  }

  private firstOf(row: ChunkRow | undefined, after: number): Value | undefined {
    return row ? decodeChunk(row.t0, row.data).find((s) => s.time > after) : undefined;
  }

  private tagsOf(source: string): Map<string, Series> {
    let tags = this.sources.get(source);
    if (!tags) {
      tags = new Map();
      this.sources.set(source, tags);
    }
    return tags;
  }

  private loadSeries(source: string, tag: string): Series | undefined {
    const found = this.statements.findSeries.get(source, tag) as { id: number } | undefined;
    if (!found) return undefined;
    const series = newSeries(found.id);
    this.tagsOf(source).set(tag, series);
    return series;
  }

  /** Finds or creates the series of new tags, all in one transaction. */
  private addSeries(source: string, newTags: readonly string[], tags: Map<string, Series>): void {
    this.db.exec('BEGIN');
    try {
      for (const tag of newTags) {
        if (tags.has(tag) || this.loadSeries(source, tag)) continue;
        const { id } = this.statements.addSeries.get(source, tag) as { id: number };
        tags.set(tag, newSeries(id));
      }
      this.db.exec('COMMIT');
    } catch (error) {
      this.db.exec('ROLLBACK');
      throw error;
    }
  }
}
