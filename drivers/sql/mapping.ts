/**
 * The source's tables as statements use them: every configured name checked and quoted for the
 * dialect once, at start, plus how quality and time are stored.
 */
import type { Tag } from '../core/index.ts';
import { type Dialect, dialectOf, type Param, type Params, type TimeStorage } from './dialect.ts';
import type { SqlSettings, SqlTagConfig } from './settings.ts';

export type QualityCodes = 'opcda' | 'opcua' | 'text';

export interface Mapping {
  dialect: Dialect;
  layout: 'narrow' | 'wide';
  table: string;
  time: string;
  timeStorage: TimeStorage;
  /** Narrow only: the columns of tag name, value, text value and quality (quoted). */
  tag?: string;
  value?: string;
  text?: string;
  quality?: string;
  qualityCodes: QualityCodes;
  catalog?: { table: string; name: string; description?: string; units?: string };
}

export function mappingOf(settings: SqlSettings): Mapping {
  const d = dialectOf(settings.dialect);
  const q = (name: string | undefined) => (name === undefined ? undefined : d.quoteIdentifier(name));
  const h = settings.history;
  const c = settings.catalog;
  return {
    dialect: d,
    layout: h.layout,
    table: d.quoteIdentifier(h.table),
    time: d.quoteIdentifier(h.timeColumn),
    timeStorage: h.timeStorage,
    ...(h.layout === 'narrow'
      ? {
          tag: q(h.tagColumn),
          value: q(h.valueColumn),
          text: q(h.textValueColumn),
          quality: q(h.qualityColumn),
        }
      : {}),
    qualityCodes: h.qualityCodes,
    ...(c
      ? {
          catalog: {
            table: d.quoteIdentifier(c.table),
            name: d.quoteIdentifier(c.nameColumn),
            ...(c.descriptionColumn ? { description: d.quoteIdentifier(c.descriptionColumn) } : {}),
            ...(c.unitsColumn ? { units: d.quoteIdentifier(c.unitsColumn) } : {}),
          },
        }
      : {}),
  } as Mapping;
}

/** One tag's samples in the history table: which rows are its, and which columns hold its value. */
export interface Series {
  /** A condition on the history table selecting this tag's samples; adds its parameters. */
  where(params: Params): string;
  /** The select list: time, value, text value and quality, as t, v, x, q. */
  columns: string;
  /** The numeric value column (for aggregates); undefined for text-only tags. */
  value: string | undefined;
}

/** The series of a tag: a narrow table's rows of that name, or a wide table's column. */
export function seriesOf(m: Mapping, tag: Tag): Series {
  if (m.layout === 'narrow') {
    const columns = `${m.time} AS t, ${m.value} AS v, ${m.text ?? 'NULL'} AS x, ${m.quality ?? 'NULL'} AS q`;
    return { where: (p) => `${m.tag} = ${p.add('text', tag.name)}`, columns, value: m.value };
  }
  const column = m.dialect.quoteIdentifier(String(tag.properties.column));
  const text = tag.dataType === 'string';
  return {
    where: () => `${column} IS NOT NULL`,
    columns: text
      ? `${m.time} AS t, ${m.dialect.nullDouble} AS v, ${column} AS x, NULL AS q`
      : `${m.time} AS t, ${column} AS v, ${m.dialect.nullText} AS x, NULL AS q`,
    value: text ? undefined : column,
  };
}

/** The SQL condition that a sample's quality is good (a null quality is good), as `qualityStatus` reads it. */
export function goodQualitySql(m: Mapping): string {
  if (!m.quality) return '1 = 1';
  const q = m.quality;
  if (m.qualityCodes === 'opcda') return `(${q} IS NULL OR (${q} & 192) = 192)`;
  if (m.qualityCodes === 'opcua') return `(${q} IS NULL OR (${q} & 3221225472) = 0)`;
  return `(${q} IS NULL OR LOWER(${q}) = 'good')`;
}

type Bound = 'ge' | 'gt' | 'le' | 'lt';

/**
 * A time bound as a parameter compared with the time column itself, so the column's index serves.
 * Epoch columns hold whole units; a bound between two of them is rounded the way that keeps the
 * comparison exact.
 */
export function timeParam(m: Mapping, ms: number, bound: Bound): Param {
  if (m.timeStorage === 'timestamp') return { type: 'time', value: ms };
  const unit = m.timeStorage === 'epochSeconds' ? 1000 : 1;
  const scaled = ms / unit;
  const rounded = bound === 'ge' || bound === 'lt' ? Math.ceil(scaled) : Math.floor(scaled);
  return { type: 'int', value: rounded };
}

export function addTime(p: Params, m: Mapping, ms: number, bound: Bound): string {
  const param = timeParam(m, ms, bound);
  return p.add(param.type, param.value);
}

/** Tags of a wide table: the configured list, each naming its column. */
export function wideTags(tags: readonly SqlTagConfig[], writesEnabled: boolean): Tag[] {
  return tags.map((t) => ({
    id: t.name,
    name: t.name,
    description: t.description ?? '',
    units: t.units ?? '',
    dataType: t.dataType ?? 'float64',
    labels: [],
    properties: { column: t.column ?? t.name },
    writable: writesEnabled && (t.writable ?? true),
    stepped: t.dataType === 'bool' || t.dataType === 'string',
  }));
}
