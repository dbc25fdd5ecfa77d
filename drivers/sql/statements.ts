/**
 * Every statement the SQL driver runs, generated from a typed request. The text holds only quoted
 * configured names, SQL keywords and integers the driver made; tag names, patterns, times and values
 * are parameters.
 */
import type { Tag } from '../core/index.ts';
import { containsPattern, integerLiteral, likePattern, Params, type Statement } from './dialect.ts';
import { addTime, goodQualitySql, type Mapping, type Series } from './mapping.ts';

export interface TagFilter {
  name?: string;
  description?: string;
  units?: string;
}

const done = (text: string, p: Params): Statement => ({ text, params: p.list });

/** Conditions of a tag search against the catalogue table, or the history table's tag names. */
function searchWhere(m: Mapping, filter: TagFilter, p: Params): string {
  const d = m.dialect;
  const name = m.catalog ? m.catalog.name : m.tag!;
  const conditions: string[] = [];
  if (filter.name !== undefined && filter.name !== '*')
    conditions.push(d.like(name, p.add('text', likePattern(filter.name))));
  if (filter.description !== undefined && m.catalog?.description)
    conditions.push(d.like(m.catalog.description, p.add('text', containsPattern(filter.description))));
  if (filter.units !== undefined && m.catalog?.units)
    conditions.push(`${m.catalog.units} = ${p.add('text', filter.units)}`);
  return conditions.join(' AND ');
}

/** Which of a filter's fields the statement cannot check (the catalogue lacks the column). */
export function unsearchable(m: Mapping, filter: TagFilter): (keyof TagFilter)[] {
  const out: (keyof TagFilter)[] = [];
  if (filter.description !== undefined && !m.catalog?.description) out.push('description');
  if (filter.units !== undefined && !m.catalog?.units) out.push('units');
  return out;
}

function catalogColumns(m: Mapping): string {
  const c = m.catalog!;
  return `${c.name} AS n, ${c.description ?? 'NULL'} AS d, ${c.units ?? 'NULL'} AS u`;
}

/** A page of tag rows (n, d, u) in name order, and the count of all that match. */
export function searchStatements(
  m: Mapping,
  filter: TagFilter,
  page: { limit: number; offset: number },
): { rows: Statement; count: Statement } {
  const d = m.dialect;
  const rowsParams = new Params(d);
  const where = searchWhere(m, filter, rowsParams);
  const countParams = new Params(d);
  searchWhere(m, filter, countParams);
  if (m.catalog) {
    const rows = d.select({
      columns: catalogColumns(m),
      from: m.catalog.table,
      where,
      orderBy: m.catalog.name,
      ...page,
    });
    const count = d.select({ columns: 'COUNT(*) AS c', from: m.catalog.table, where });
    return { rows: done(rows, rowsParams), count: done(count, countParams) };
  }
  const rows = d.select({
    distinct: true,
    columns: `${m.tag} AS n, NULL AS d, NULL AS u`,
    from: m.table,
    where,
    orderBy: 'n',
    ...page,
  });
  const count = d.select({ columns: `COUNT(DISTINCT ${m.tag}) AS c`, from: m.table, where });
  return { rows: done(rows, rowsParams), count: done(count, countParams) };
}

/** A new catalogue row, a changed one, or one removed: the name is the key, as in history. */
export function catalogChangeStatement(
  m: Mapping,
  change: { kind: 'insert' | 'update' | 'delete'; name: string; description?: string; units?: string },
): Statement {
  const c = m.catalog!;
  const p = new Params(m.dialect);
  const fields = [
    ...(c.description && change.description !== undefined
      ? [[c.description, change.description] as const]
      : []),
    ...(c.units && change.units !== undefined ? [[c.units, change.units] as const] : []),
  ];
  if (change.kind === 'insert') {
    const columns = [c.name, ...fields.map(([col]) => col)];
    const values = [p.add('text', change.name), ...fields.map(([, v]) => p.add('text', v))];
    return done(`INSERT INTO ${c.table} (${columns.join(', ')}) VALUES (${values.join(', ')})`, p);
  }
  if (change.kind === 'delete')
    return done(`DELETE FROM ${c.table} WHERE ${c.name} = ${p.add('text', change.name)}`, p);
  const set = fields.map(([col, v]) => `${col} = ${p.add('text', v)}`).join(', ');
  return done(`UPDATE ${c.table} SET ${set} WHERE ${c.name} = ${p.add('text', change.name)}`, p);
}

/** The tag rows (n, d, u) of the given names that exist. */
export function tagsByNameStatement(m: Mapping, names: readonly string[]): Statement {
  const d = m.dialect;
  const p = new Params(d);
  const column = m.catalog ? m.catalog.name : m.tag!;
  const list = names.map((n) => p.add('text', n)).join(', ');
  const text = m.catalog
    ? d.select({ columns: catalogColumns(m), from: m.catalog.table, where: `${column} IN (${list})` })
    : d.select({
        distinct: true,
        columns: `${m.tag} AS n, NULL AS d, NULL AS u`,
        from: m.table,
        where: `${column} IN (${list})`,
      });
  return done(text, p);
}

/**
 * One row per item at most, each the item's latest sample at or before a time (or its latest of all):
 * a UNION ALL of one-row reads, each served by an index on (tag, time). Rows carry k, the item's index.
 */
export function latestStatement(
  m: Mapping,
  items: readonly { series: Series; atOrBefore?: number }[],
): Statement {
  const d = m.dialect;
  const p = new Params(d);
  const parts = items.map((item, k) => {
    let where = item.series.where(p);
    if (item.atOrBefore !== undefined) where += ` AND ${m.time} <= ${addTime(p, m, item.atOrBefore, 'le')}`;
    const one = d.select({
      columns: `${integerLiteral(k)} AS k, ${item.series.columns}`,
      from: m.table,
      where,
      orderBy: `${m.time} DESC`,
      limit: 1,
    });
    return `SELECT * FROM (${one}) AS s${k}`;
  });
  return done(parts.join(' UNION ALL '), p);
}

/** Samples inside [start, end] in time order, at most `limit`. */
export function rangeStatement(
  m: Mapping,
  series: Series,
  start: number,
  end: number,
  limit: number,
): Statement {
  const d = m.dialect;
  const p = new Params(d);
  const where = `${series.where(p)} AND ${m.time} >= ${addTime(p, m, start, 'ge')} AND ${m.time} <= ${addTime(p, m, end, 'le')}`;
  return done(d.select({ columns: series.columns, from: m.table, where, orderBy: m.time, limit }), p);
}

/** The first sample after `time`. */
export function firstAfterStatement(m: Mapping, series: Series, time: number): Statement {
  const d = m.dialect;
  const p = new Params(d);
  const where = `${series.where(p)} AND ${m.time} > ${addTime(p, m, time, 'gt')}`;
  return done(d.select({ columns: series.columns, from: m.table, where, orderBy: m.time, limit: 1 }), p);
}

/** The last sample before `time`. */
export function lastBeforeStatement(m: Mapping, series: Series, time: number): Statement {
  const d = m.dialect;
  const p = new Params(d);
  const where = `${series.where(p)} AND ${m.time} < ${addTime(p, m, time, 'lt')}`;
  return done(
    d.select({ columns: series.columns, from: m.table, where, orderBy: `${m.time} DESC`, limit: 1 }),
    p,
  );
}

/**
 * The samples of [start, end) with their bucket number b = floor((time − start) / interval), plus g:
 * the value where the sample is good and numeric (else null) and nk: 1 where its quality is not good.
 */
function bucketed(
  m: Mapping,
  series: Series,
  start: number,
  end: number,
  interval: number,
  p: Params,
): string {
  const d = m.dialect;
  const value = series.value ? d.toDouble(series.value) : 'NULL';
  const good = goodQualitySql(m);
  const bucket = `FLOOR((${d.epochMs(m.time, m.timeStorage)} - ${p.add('float', start)}) / ${p.add('float', interval)})`;
  const goodValue = series.value
    ? `CASE WHEN ${series.value} IS NOT NULL AND ${good} THEN ${value} END`
    : 'NULL';
  const columns = `${series.columns}, ${bucket} AS b, ${goodValue} AS g, CASE WHEN ${good} THEN 0 ELSE 1 END AS nk`;
  const where = `${series.where(p)} AND ${m.time} >= ${addTime(p, m, start, 'ge')} AND ${m.time} < ${addTime(p, m, end, 'lt')}`;
  return d.select({ columns, from: m.table, where });
}

/**
 * Count-based aggregates per bucket, as the core defines them over the good numeric samples: rows
 * b, n (samples), ng (good numeric samples), avg, min, max, var, sd (of the sample, n − 1).
 */
export function bucketAggregatesStatement(
  m: Mapping,
  series: Series,
  start: number,
  end: number,
  interval: number,
): Statement {
  const d = m.dialect;
  const p = new Params(d);
  const inner = bucketed(m, series, start, end, interval, p);
  const variance = d.name === 'mssql' ? 'VAR(g)' : 'VAR_SAMP(g)';
  const deviation = d.name === 'mssql' ? 'STDEV(g)' : 'STDDEV_SAMP(g)';
  const columns = `b, COUNT(*) AS n, COUNT(g) AS ng, AVG(g) AS av, MIN(g) AS mn, MAX(g) AS mx, ${variance} AS va, ${deviation} AS sd`;
  return done(d.select({ columns, from: `(${inner}) AS s`, groupBy: 'b', orderBy: 'b' }), p);
}

/**
 * Plot values per bucket, as the core picks them: the first and last sample, the first good minimum
 * and maximum, and the first sample of quality not good, each once, in time order.
 */
export function plotStatement(
  m: Mapping,
  series: Series,
  start: number,
  end: number,
  interval: number,
): Statement {
  const d = m.dialect;
  const p = new Params(d);
  const inner = bucketed(m, series, start, end, interval, p);
  const gk = 'CASE WHEN g IS NULL THEN 0 ELSE 1 END';
  const ranked = [
    't, v, x, q, g, nk',
    'ROW_NUMBER() OVER (PARTITION BY b ORDER BY t) AS r1',
    'ROW_NUMBER() OVER (PARTITION BY b ORDER BY t DESC) AS r2',
    `ROW_NUMBER() OVER (PARTITION BY b, ${gk} ORDER BY g, t) AS r3`,
    `ROW_NUMBER() OVER (PARTITION BY b, ${gk} ORDER BY g DESC, t) AS r4`,
    'ROW_NUMBER() OVER (PARTITION BY b, nk ORDER BY t) AS r5',
  ].join(', ');
  const windows = d.select({ columns: ranked, from: `(${inner}) AS s` });
  const where = 'r1 = 1 OR r2 = 1 OR (g IS NOT NULL AND (r3 = 1 OR r4 = 1)) OR (nk = 1 AND r5 = 1)';
  return done(d.select({ columns: 't, v, x, q', from: `(${windows}) AS w`, where, orderBy: 't' }), p);
}

export interface InsertRow {
  tag: Tag;
  time: number;
  value: number | null;
  text: string | null;
}

/** One multi-row INSERT of samples into the history table, with the quality that reads as good. */
export function insertStatement(
  m: Mapping,
  rows: readonly InsertRow[],
  columnOf: (tag: Tag) => string,
): Statement[] {
  const d = m.dialect;
  const good: number | string = m.qualityCodes === 'opcda' ? 192 : m.qualityCodes === 'opcua' ? 0 : 'good';
  if (m.layout === 'wide') {
    // One row per value: the other tags' columns stay null.
    return rows.map((r) => {
      const p = new Params(d);
      const time = addTime(p, m, r.time, 'ge');
      const value = r.text !== null ? p.add('text', r.text) : p.add('float', r.value);
      return done(`INSERT INTO ${m.table} (${m.time}, ${columnOf(r.tag)}) VALUES (${time}, ${value})`, p);
    });
  }
  const columns = [m.tag!, m.time, m.value!, ...(m.text ? [m.text] : []), ...(m.quality ? [m.quality] : [])];
  const p = new Params(d);
  const values = rows.map((r) => {
    const parts = [p.add('text', r.tag.name), addTime(p, m, r.time, 'ge'), p.add('float', r.value)];
    if (m.text) parts.push(p.add('text', r.text));
    if (m.quality) parts.push(typeof good === 'number' ? p.add('int', good) : p.add('text', good));
    return `(${parts.join(', ')})`;
  });
  return [done(`INSERT INTO ${m.table} (${columns.join(', ')}) VALUES ${values.join(', ')}`, p)];
}

/** Statements that name every configured column and return no rows: the mapping is checked at start. */
export function probeStatements(m: Mapping, wideColumns: readonly string[]): Statement[] {
  const d = m.dialect;
  const columns =
    m.layout === 'narrow'
      ? [m.tag!, m.time, m.value!, ...(m.text ? [m.text] : []), ...(m.quality ? [m.quality] : [])]
      : [m.time, ...wideColumns.map((c) => d.quoteIdentifier(c))];
  const statements = [d.select({ columns: columns.join(', '), from: m.table, where: '1 = 0' })];
  if (m.catalog)
    statements.push(d.select({ columns: catalogColumns(m), from: m.catalog.table, where: '1 = 0' }));
  return statements.map((text) => ({ text, params: [] }));
}
