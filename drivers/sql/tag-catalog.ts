/**
 * The tags of a narrow history table: from the catalogue table, or the distinct names in history,
 * with the config's entries adding a type, units or a description. Looked-up tags are kept for a
 * short while, since every read names its tags.
 */
import { PlantgateError, type Tag, type TagQuery } from '../core/index.ts';
import type { SqlClient } from './clients/client.ts';
import type { Mapping } from './mapping.ts';
import type { Row } from './rows.ts';
import type { SqlTagConfig } from './settings.ts';
import { catalogChangeStatement, searchStatements, tagsByNameStatement, unsearchable } from './statements.ts';

const CACHE_MS = 30_000;
const CACHE_MAX = 10_000;
/** Names a search reads to filter by a field the catalogue has no column for. */
const SCAN_LIMIT = 10_000;
const LOOKUP_CHUNK = 500;

const defined = (d: { description?: string | undefined; units?: string | undefined }) => ({
  ...(d.description !== undefined ? { description: d.description } : {}),
  ...(d.units !== undefined ? { units: d.units } : {}),
});

export class SqlTagCatalog {
  private readonly overrides: Map<string, SqlTagConfig>;
  private readonly cache = new Map<string, { tag: Tag; at: number }>();

  private readonly m: Mapping;
  private readonly client: () => SqlClient;
  private readonly writesEnabled: boolean;

  constructor(m: Mapping, client: () => SqlClient, tags: readonly SqlTagConfig[], writesEnabled: boolean) {
    this.m = m;
    this.client = client;
    this.writesEnabled = writesEnabled;
    this.overrides = new Map(tags.map((t) => [t.name, t]));
  }

  private tagOf(row: Row): Tag {
    const name = String(row[0]);
    const o = this.overrides.get(name);
    const dataType = o?.dataType ?? 'float64';
    const textOnly = dataType === 'string' && !this.m.text;
    return {
      id: name,
      name,
      description: o?.description ?? (row[1] === null || row[1] === undefined ? '' : String(row[1])),
      units: o?.units ?? (row[2] === null || row[2] === undefined ? '' : String(row[2])),
      dataType,
      labels: [],
      properties: {},
      writable: this.writesEnabled && !textOnly && (o?.writable ?? true),
      stepped: dataType === 'bool' || dataType === 'string',
    };
  }

  async search(query: TagQuery, signal: AbortSignal): Promise<{ tags: Tag[]; total: number }> {
    // SQL tags carry no labels.
    if (query.label !== undefined) return { tags: [], total: 0 };
    const filter = {
      ...(query.name !== undefined ? { name: query.name } : {}),
      ...(query.description !== undefined ? { description: query.description } : {}),
      ...(query.units !== undefined ? { units: query.units } : {}),
    };
    const offset = (query.page - 1) * query.pageSize;
    const inMemory = unsearchable(this.m, filter);
    if (inMemory.length === 0) {
      const { rows, count } = searchStatements(this.m, filter, { limit: query.pageSize, offset });
      const [found, counted] = await Promise.all([
        this.client().query(rows, signal),
        this.client().query(count, signal),
      ]);
      return { tags: found.map((r) => this.tagOf(r)), total: Number(counted[0]?.[0] ?? 0) };
    }
    // Description or units the catalogue does not hold: only the config's entries can match them.
    const { rows } = searchStatements(
      this.m,
      { ...(filter.name ? { name: filter.name } : {}) },
      {
        limit: SCAN_LIMIT + 1,
        offset: 0,
      },
    );
    const found = await this.client().query(rows, signal);
    if (found.length > SCAN_LIMIT) {
      throw new PlantgateError(
        'PG_ERR_LIMIT_EXCEEDED',
        `more than ${SCAN_LIMIT} tags match the name pattern and ${inMemory.join(' and ')} cannot be searched in the database; give a narrower name`,
      );
    }
    const description = query.description?.toLowerCase();
    const matches = found
      .map((r) => this.tagOf(r))
      .filter(
        (t) =>
          (description === undefined || t.description.toLowerCase().includes(description)) &&
          (query.units === undefined || t.units === query.units),
      );
    return { tags: matches.slice(offset, offset + query.pageSize), total: matches.length };
  }

  /** A tag definition of this source: name, and description and units where the catalogue has them. */
  private definition(input: Record<string, unknown>, needName: boolean) {
    const allowed = new Set(['name', 'description', 'units']);
    const unknown = Object.keys(input).filter((k) => !allowed.has(k));
    if (unknown.length)
      throw new PlantgateError(
        'PG_ERR_BAD_VALUE',
        `a SQL catalogue tag has name, description and units; not ${unknown.join(', ')}`,
      );
    const text = (key: string, max: number) => {
      const v = input[key];
      if (v === undefined) return undefined;
      if (typeof v !== 'string' || v.length > max)
        throw new PlantgateError('PG_ERR_BAD_VALUE', `${key} must be text of at most ${max} characters`);
      return v;
    };
    const name = text('name', 256);
    if (needName && !name) throw new PlantgateError('PG_ERR_BAD_VALUE', 'a new tag needs its name');
    const c = this.m.catalog!;
    for (const [key, column] of [
      ['description', c.description],
      ['units', c.units],
    ] as const)
      if (input[key] !== undefined && !column)
        throw new PlantgateError(
          'PG_ERR_NOT_SUPPORTED',
          `the catalogue table has no ${key} column (settings.catalog.${key}Column)`,
        );
    return { name, description: text('description', 1024), units: text('units', 64) };
  }

  private requireCatalog(): void {
    if (!this.m.catalog)
      throw new PlantgateError(
        'PG_ERR_NOT_SUPPORTED',
        'tags of this SQL source are the names in its history; configure a catalogue table (settings.catalog) to create, change or delete tags',
      );
  }

  async create(input: Record<string, unknown>, signal: AbortSignal): Promise<Tag> {
    this.requireCatalog();
    const d = this.definition(input, true);
    if ((await this.get([d.name!], signal)).length)
      throw new PlantgateError('PG_ERR_CONFLICT', `the catalogue already has a tag named "${d.name}"`);
    await this.client().run(
      catalogChangeStatement(this.m, { kind: 'insert', name: d.name!, ...defined(d) }),
      signal,
    );
    return this.fresh(d.name!, signal);
  }

  async update(ref: string, changes: Record<string, unknown>, signal: AbortSignal): Promise<Tag> {
    this.requireCatalog();
    const d = this.definition(changes, false);
    if (d.name !== undefined && d.name !== ref)
      throw new PlantgateError(
        'PG_ERR_BAD_VALUE',
        'a SQL tag is not renamed: its name is its key in history',
      );
    await this.fresh(ref, signal);
    if (d.description !== undefined || d.units !== undefined)
      await this.client().run(
        catalogChangeStatement(this.m, { kind: 'update', name: ref, ...defined(d) }),
        signal,
      );
    return this.fresh(ref, signal);
  }

  async delete(ref: string, signal: AbortSignal): Promise<void> {
    this.requireCatalog();
    await this.fresh(ref, signal);
    await this.client().run(catalogChangeStatement(this.m, { kind: 'delete', name: ref }), signal);
    this.cache.delete(ref);
  }

  /** The tag as the catalogue holds it now (not from the cache). */
  private async fresh(name: string, signal: AbortSignal): Promise<Tag> {
    this.cache.delete(name);
    const [tag] = await this.get([name], signal);
    if (!tag) throw new PlantgateError('PG_ERR_TAG_NOT_FOUND', `no tag "${name}" in the catalogue`);
    return tag;
  }

  async get(names: readonly string[], signal: AbortSignal): Promise<Tag[]> {
    const now = Date.now();
    const found: Tag[] = [];
    const missing: string[] = [];
    for (const name of new Set(names)) {
      const hit = this.cache.get(name);
      if (hit && now - hit.at < CACHE_MS) found.push(hit.tag);
      else missing.push(name);
    }
    for (let i = 0; i < missing.length; i += LOOKUP_CHUNK) {
      const rows = await this.client().query(
        tagsByNameStatement(this.m, missing.slice(i, i + LOOKUP_CHUNK)),
        signal,
      );
      if (this.cache.size > CACHE_MAX) this.cache.clear();
      for (const row of rows) {
        const tag = this.tagOf(row);
        this.cache.set(tag.name, { tag, at: now });
        found.push(tag);
      }
    }
    return found;
  }
}
