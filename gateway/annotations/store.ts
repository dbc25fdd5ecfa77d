/**
 * Annotations: notes people keep against a source's data, at an instant or over a time range,
 * optionally about some of its tags, with who wrote and last changed them. Kept in the gateway's
 * dataDir (`annotations.sqlite`, WAL), one table for all sources.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import type { Annotation, AnnotationStorage } from '../../drivers/core/index.ts';

export type { Annotation };

type Row = { body: string };

export class AnnotationStore {
  private readonly db: DatabaseSync;

  constructor(dataDir: string) {
    mkdirSync(dataDir, { recursive: true });
    this.db = new DatabaseSync(path.join(dataDir, 'annotations.sqlite'));
    this.db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL');
    this.db.exec(`CREATE TABLE IF NOT EXISTS annotations (
      id TEXT PRIMARY KEY, source TEXT NOT NULL, start_ms REAL NOT NULL, end_ms REAL NOT NULL, body TEXT NOT NULL)`);
    this.db.exec('CREATE INDEX IF NOT EXISTS annotations_source_time ON annotations (source, start_ms)');
  }

  /** Annotations of a source that overlap [from, to], oldest first, at most `limit`. */
  read(source: string, from: number, to: number, limit: number): Annotation[] {
    const rows = this.db
      .prepare(
        'SELECT body FROM annotations WHERE source = ? AND start_ms <= ? AND end_ms >= ? ORDER BY start_ms, id LIMIT ?',
      )
      .all(source, to, from, limit) as Row[];
    return rows.map((r) => JSON.parse(r.body) as Annotation);
  }

  get(source: string, id: string): Annotation | undefined {
    const row = this.db.prepare('SELECT body FROM annotations WHERE source = ? AND id = ?').get(source, id) as
      | Row
      | undefined;
    return row ? (JSON.parse(row.body) as Annotation) : undefined;
  }

  put(a: Annotation): void {
    this.db
      .prepare(
        'INSERT INTO annotations (id, source, start_ms, end_ms, body) VALUES (?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET start_ms = excluded.start_ms, end_ms = excluded.end_ms, body = excluded.body',
      )
      .run(a.id, a.source, a.start, a.end ?? a.start, JSON.stringify(a));
  }

  delete(source: string, id: string): boolean {
    return (
      Number(this.db.prepare('DELETE FROM annotations WHERE source = ? AND id = ?').run(source, id).changes) >
      0
    );
  }

  close(): void {
    this.db.close();
  }

  /** This store as one source's annotation storage, the same shape a driver that keeps its own offers. */
  forSource(source: string): AnnotationStorage {
    return {
      keepsAnnotations: () => true,
      readAnnotations: async (from, to, limit) => this.read(source, from, to, limit),
      getAnnotation: async (id) => this.get(source, id),
      createAnnotation: async (a) => this.put(a),
      updateAnnotation: async (a) => this.put(a),
      deleteAnnotation: async (id) => this.delete(source, id),
    };
  }
}
