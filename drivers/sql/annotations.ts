/**
 * Annotations kept in a SQL table the site configured (`settings.annotations`), read and changed
 * through generated statements like everything else: configured, quoted names and parameters.
 */
import type { Annotation, AnnotationStorage } from '../core/index.ts';
import type { SqlClient } from './clients/client.ts';
import { type Dialect, Params, type Statement } from './dialect.ts';
import { timeParam } from './mapping.ts';
import type { Row } from './rows.ts';
import { timeOf } from './rows.ts';
import type { SqlAnnotationsTable } from './settings.ts';

const FIELDS = [
  'idColumn',
  'startColumn',
  'endColumn',
  'textColumn',
  'tagsColumn',
  'authorColumn',
  'createdAtColumn',
  'modifiedByColumn',
  'modifiedAtColumn',
] as const;

export class SqlAnnotations implements AnnotationStorage {
  private readonly d: Dialect;
  private readonly t: SqlAnnotationsTable | undefined;
  private readonly client: () => SqlClient;
  private readonly sourceId: string;
  private readonly q: Record<(typeof FIELDS)[number], string> & { table: string };

  constructor(
    dialect: Dialect,
    table: SqlAnnotationsTable | undefined,
    client: () => SqlClient,
    sourceId: string,
  ) {
    this.d = dialect;
    this.t = table;
    this.client = client;
    this.sourceId = sourceId;
    const quoted = Object.fromEntries(FIELDS.map((f) => [f, table ? dialect.quoteIdentifier(table[f]) : '']));
    this.q = {
      ...(quoted as Record<(typeof FIELDS)[number], string>),
      table: table ? dialect.quoteIdentifier(table.table) : '',
    };
  }

  keepsAnnotations(): boolean {
    return this.t !== undefined;
  }

  private time(p: Params, ms: number | undefined): string {
    if (ms === undefined) return 'NULL';
    const param = timeParam({ timeStorage: this.t!.timeStorage } as never, ms, 'ge');
    return p.add(param.type, param.value);
  }

  private columns(): string {
    return FIELDS.map((f) => this.q[f]).join(', ');
  }

  private annotationOf(row: Row): Annotation {
    const storage = this.t!.timeStorage;
    const tags = (() => {
      try {
        const parsed = JSON.parse(String(row[4] ?? '[]'));
        return Array.isArray(parsed) ? parsed.map(String) : [];
      } catch {
        return [];
      }
    })();
    return {
      id: String(row[0]),
      source: this.sourceId,
      start: timeOf(row[1], storage),
      ...(row[2] === null || row[2] === undefined ? {} : { end: timeOf(row[2], storage) }),
      text: String(row[3] ?? ''),
      tags,
      author: String(row[5] ?? ''),
      createdAt: timeOf(row[6], storage),
      modifiedBy: String(row[7] ?? ''),
      modifiedAt: timeOf(row[8], storage),
    };
  }

  private statement(build: (p: Params) => string): Statement {
    const p = new Params(this.d);
    return { text: build(p), params: p.list };
  }

  async readAnnotations(from: number, to: number, limit: number, signal: AbortSignal): Promise<Annotation[]> {
    const q = this.q;
    const s = this.statement((p) => {
      const before = this.time(p, to);
      const after = this.time(p, from);
      const afterInstant = this.time(p, from);
      return this.d.select({
        columns: this.columns(),
        from: q.table,
        where: `${q.startColumn} <= ${before} AND (${q.endColumn} >= ${after} OR (${q.endColumn} IS NULL AND ${q.startColumn} >= ${afterInstant}))`,
        orderBy: `${q.startColumn}, ${q.idColumn}`,
        limit,
      });
    });
    return (await this.client().query(s, signal)).map((r) => this.annotationOf(r));
  }

  async getAnnotation(id: string, signal: AbortSignal): Promise<Annotation | undefined> {
    const s = this.statement((p) =>
      this.d.select({
        columns: this.columns(),
        from: this.q.table,
        where: `${this.q.idColumn} = ${p.add('text', id)}`,
      }),
    );
    const [row] = await this.client().query(s, signal);
    return row ? this.annotationOf(row) : undefined;
  }

  /** Placeholders of the annotation's fields in FIELDS order, the id first unless `withId` is false. */
  private values(p: Params, a: Annotation, withId = true): string[] {
    return [
      ...(withId ? [p.add('text', a.id)] : []),
      this.time(p, a.start),
      this.time(p, a.end),
      p.add('text', a.text),
      p.add('text', JSON.stringify(a.tags)),
      p.add('text', a.author),
      this.time(p, a.createdAt),
      p.add('text', a.modifiedBy),
      this.time(p, a.modifiedAt),
    ];
  }

  async createAnnotation(a: Annotation, signal: AbortSignal): Promise<void> {
    const s = this.statement(
      (p) => `INSERT INTO ${this.q.table} (${this.columns()}) VALUES (${this.values(p, a).join(', ')})`,
    );
    await this.client().run(s, signal);
  }

  async updateAnnotation(a: Annotation, signal: AbortSignal): Promise<void> {
    const s = this.statement((p) => {
      const values = this.values(p, a, false);
      const assignments = FIELDS.slice(1)
        .map((f, k) => `${this.q[f]} = ${values[k]}`)
        .join(', ');
      return `UPDATE ${this.q.table} SET ${assignments} WHERE ${this.q.idColumn} = ${p.add('text', a.id)}`;
    });
    await this.client().run(s, signal);
  }

  async deleteAnnotation(id: string, signal: AbortSignal): Promise<boolean> {
    const s = this.statement(
      (p) => `DELETE FROM ${this.q.table} WHERE ${this.q.idColumn} = ${p.add('text', id)}`,
    );
    return (await this.client().run(s, signal)) > 0;
  }
}
