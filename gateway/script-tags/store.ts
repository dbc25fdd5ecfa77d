/**
 * The script tags of one script source, kept in its data folder (`script-tags.sqlite`, WAL): each a
 * template, its parameters and its input tags, with who made and last changed it and when.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';

export interface ScriptInput {
  source: string;
  /** The input tag's id in its source. */
  tag: string;
}

export interface ScriptTagDefinition {
  id: string;
  name: string;
  description: string;
  template: string;
  templateVersion: number;
  parameters: Record<string, unknown>;
  inputs: ScriptInput[];
  /** Evaluated every periodMs besides on each input change; absent: on input change only. */
  periodMs?: number;
  createdBy: string;
  createdAt: string;
  modifiedBy: string;
  modifiedAt: string;
}

export class ScriptTagStore {
  private readonly db: DatabaseSync;

  constructor(dataDir: string) {
    mkdirSync(dataDir, { recursive: true });
    this.db = new DatabaseSync(path.join(dataDir, 'script-tags.sqlite'));
    this.db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL');
    this.db.exec(
      'CREATE TABLE IF NOT EXISTS script_tags (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, definition TEXT NOT NULL)',
    );
  }

  list(): ScriptTagDefinition[] {
    const rows = this.db.prepare('SELECT definition FROM script_tags ORDER BY name').all() as {
      definition: string;
    }[];
    return rows.map((r) => JSON.parse(r.definition) as ScriptTagDefinition);
  }

  /** Adds or replaces a definition (by id), in one transaction. */
  put(definition: ScriptTagDefinition): void {
    this.db
      .prepare(
        'INSERT INTO script_tags (id, name, definition) VALUES (?, ?, ?) ON CONFLICT(id) DO UPDATE SET name = excluded.name, definition = excluded.definition',
      )
      .run(definition.id, definition.name, JSON.stringify(definition));
  }

  delete(id: string): boolean {
    return Number(this.db.prepare('DELETE FROM script_tags WHERE id = ?').run(id).changes) > 0;
  }

  close(): void {
    this.db.close();
  }
}
