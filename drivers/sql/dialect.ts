/**
 * What differs between PostgreSQL, MySQL/MariaDB and SQL Server in the statements the driver makes:
 * how a name is quoted, how a parameter is written, how a row count is limited, how a time becomes
 * milliseconds since the epoch. Statement text is built only from these pieces, from identifiers that
 * passed `quoteIdentifier`, and from integers the driver made; every value a caller sent is a parameter.
 */
import { PlantgateError } from '../core/index.ts';
import type { DialectName } from './settings.ts';

export type TimeStorage = 'timestamp' | 'epochMilliseconds' | 'epochSeconds';

/** How a parameter travels; SQL Server needs the type, the others take it from the value. */
export type ParamType = 'text' | 'time' | 'float' | 'int';

export interface Param {
  type: ParamType;
  /** text: string; time: milliseconds since the epoch; float and int: number. */
  value: string | number | null;
}

export interface Statement {
  text: string;
  params: Param[];
}

export interface SelectParts {
  distinct?: boolean;
  columns: string;
  from: string;
  where?: string;
  groupBy?: string;
  orderBy?: string;
  limit?: number;
  offset?: number;
}

const PART = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

/** A count the driver put in a statement's text: only a non-negative safe integer passes. */
export function integerLiteral(n: number): string {
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`not a row count: ${n}`);
  return String(n);
}

export abstract class Dialect {
  abstract readonly name: DialectName;
  abstract readonly defaultPort: number;
  protected abstract quotePart(part: string): string;
  /** The text of the n-th parameter (1-based). */
  abstract placeholder(n: number, type: ParamType): string;
  /** The expression giving milliseconds since the epoch (UTC) of a time column. */
  protected abstract timestampMs(column: string): string;
  /** A numeric expression as double precision. */
  abstract toDouble(expression: string): string;
  /** Typed NULLs, so the branches of a UNION agree on their columns' types. */
  abstract readonly nullText: string;
  abstract readonly nullDouble: string;

  /** A table or column name from the config, checked again here and quoted. */
  quoteIdentifier(name: string): string {
    const parts = name.split('.');
    if (parts.length > 2 || !parts.every((p) => PART.test(p))) {
      throw new PlantgateError(
        'PG_ERR_BAD_SETTINGS',
        `"${name}" is not a plain SQL name (letters, digits and _, optionally schema.name)`,
      );
    }
    return parts.map((p) => this.quotePart(p)).join('.');
  }

  epochMs(column: string, storage: TimeStorage): string {
    if (storage === 'epochMilliseconds') return this.toDouble(column);
    if (storage === 'epochSeconds') return `(${this.toDouble(column)} * 1000)`;
    return this.timestampMs(column);
  }

  select(p: SelectParts): string {
    let text = `SELECT ${p.distinct ? 'DISTINCT ' : ''}${p.columns} FROM ${p.from}`;
    if (p.where) text += ` WHERE ${p.where}`;
    if (p.groupBy) text += ` GROUP BY ${p.groupBy}`;
    if (p.orderBy) text += ` ORDER BY ${p.orderBy}`;
    if (p.limit !== undefined) text += ` LIMIT ${integerLiteral(p.limit)}`;
    if (p.offset !== undefined) text += ` OFFSET ${integerLiteral(p.offset)}`;
    return text;
  }

  /** Case-insensitive LIKE, with `!` escaping the pattern's wildcards (see `likePattern`). */
  like(column: string, placeholder: string): string {
    return `LOWER(${column}) LIKE LOWER(${placeholder}) ESCAPE '!'`;
  }
}

class PostgresDialect extends Dialect {
  readonly name = 'postgres' as const;
  readonly defaultPort = 5432;
  readonly nullText = 'CAST(NULL AS TEXT)';
  readonly nullDouble = 'CAST(NULL AS DOUBLE PRECISION)';
  protected quotePart(part: string): string {
    return `"${part}"`;
  }
  placeholder(n: number, type: ParamType): string {
    // A parameter in an expression has no type to infer from a column; say it.
    return type === 'float' ? `CAST($${n} AS DOUBLE PRECISION)` : `$${n}`;
  }
  protected timestampMs(column: string): string {
    return `(EXTRACT(EPOCH FROM ${column}) * 1000)`;
  }
  toDouble(expression: string): string {
    return `CAST(${expression} AS DOUBLE PRECISION)`;
  }
}

class MysqlDialect extends Dialect {
  readonly name = 'mysql' as const;
  readonly defaultPort = 3306;
  // MySQL types a plain NULL from the other branches; a cast would bring the connection's collation.
  readonly nullText = 'NULL';
  readonly nullDouble = 'NULL';
  protected quotePart(part: string): string {
    return `\`${part}\``;
  }
  placeholder(): string {
    return '?';
  }
  protected timestampMs(column: string): string {
    // The session's time zone is UTC (set on every connection), so DATETIME and TIMESTAMP read alike.
    return `(UNIX_TIMESTAMP(${column}) * 1000)`;
  }
  toDouble(expression: string): string {
    return `(${expression} + 0E0)`;
  }
}

class MssqlDialect extends Dialect {
  readonly name = 'mssql' as const;
  readonly defaultPort = 1433;
  readonly nullText = 'CAST(NULL AS NVARCHAR(4000))';
  readonly nullDouble = 'CAST(NULL AS FLOAT)';
  protected quotePart(part: string): string {
    return `[${part}]`;
  }
  placeholder(n: number): string {
    return `@p${n}`;
  }
  protected timestampMs(column: string): string {
    return `CAST(DATEDIFF_BIG(MILLISECOND, '19700101', ${column}) AS FLOAT)`;
  }
  toDouble(expression: string): string {
    return `CAST(${expression} AS FLOAT)`;
  }
  override select(p: SelectParts): string {
    // SQL Server: TOP without an offset, OFFSET … FETCH (which needs ORDER BY) with one.
    const top = p.limit !== undefined && p.offset === undefined ? `TOP (${integerLiteral(p.limit)}) ` : '';
    let text = `SELECT ${p.distinct ? 'DISTINCT ' : ''}${top}${p.columns} FROM ${p.from}`;
    if (p.where) text += ` WHERE ${p.where}`;
    if (p.groupBy) text += ` GROUP BY ${p.groupBy}`;
    if (p.orderBy) text += ` ORDER BY ${p.orderBy}`;
    if (p.offset !== undefined) {
      text += ` OFFSET ${integerLiteral(p.offset)} ROWS`;
      if (p.limit !== undefined) text += ` FETCH NEXT ${integerLiteral(p.limit)} ROWS ONLY`;
    }
    return text;
  }
}

const DIALECT_BY_NAME: Record<DialectName, Dialect> = {
  postgres: new PostgresDialect(),
  mysql: new MysqlDialect(),
  mssql: new MssqlDialect(),
};

export function dialectOf(name: DialectName): Dialect {
  return DIALECT_BY_NAME[name];
}

const escapeLike = (text: string) => text.replace(/[%_[!]/g, '!$&');

/**
 * A tags.search name pattern (`*` any run, `?` one character, the rest literal) as a LIKE pattern
 * with `!` as the escape character: `%`, `_`, `[` (a wildcard in SQL Server) and `!` itself are
 * escaped, so a caller's characters only ever match themselves.
 */
export function likePattern(glob: string): string {
  return glob
    .split('*')
    .map((run) => run.split('?').map(escapeLike).join('_'))
    .join('%');
}

/** A LIKE pattern matching text that contains `text`, every character of it literal. */
export function containsPattern(text: string): string {
  return `%${escapeLike(text)}%`;
}

/** Collects parameters in the order their placeholders appear (MySQL's `?` is positional). */
export class Params {
  readonly list: Param[] = [];
  private readonly dialect: Dialect;
  constructor(dialect: Dialect) {
    this.dialect = dialect;
  }
  add(type: ParamType, value: Param['value']): string {
    this.list.push({ type, value });
    return this.dialect.placeholder(this.list.length, type);
  }
}
