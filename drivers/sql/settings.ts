/**
 * The SQL source's config: the connection, how history is laid out, where the tag catalogue is.
 * Every table and column name here is checked against IDENTIFIER and quoted per dialect; nothing
 * else ever becomes part of a statement's text.
 */
import { type Static, Type } from '@sinclair/typebox';
import { OneOf, SCALAR_TYPES } from '../core/index.ts';

const doc = (description: string) => ({ description });

/** A plain SQL identifier, optionally qualified by a schema: letters, digits and `_`, no quotes. */
export const IDENTIFIER = '^[A-Za-z_][A-Za-z0-9_]{0,127}$';
export const QUALIFIED_IDENTIFIER = '^[A-Za-z_][A-Za-z0-9_]{0,127}(\\.[A-Za-z_][A-Za-z0-9_]{0,127})?$';

const Column = (description: string) => Type.String({ pattern: IDENTIFIER, ...doc(description) });
const Table = (description: string) => Type.String({ pattern: QUALIFIED_IDENTIFIER, ...doc(description) });

export const DIALECTS = ['postgres', 'mysql', 'mssql'] as const;
export type DialectName = (typeof DIALECTS)[number];

const Tls = Type.Object(
  {
    enabled: Type.Boolean({ default: true, ...doc('Encrypt the connection (TLS).') }),
    verifyServer: Type.Boolean({
      default: true,
      ...doc(
        'Check the server’s certificate and name; false accepts any certificate (say so only knowingly).',
      ),
    }),
    caFile: Type.Optional(
      Type.String({
        minLength: 1,
        ...doc('PEM file of a private CA to trust; relative to the config file.'),
      }),
    ),
    serverName: Type.Optional(
      Type.String({ minLength: 1, ...doc('Name the certificate must carry, when it is not the host.') }),
    ),
  },
  { additionalProperties: false, default: {}, ...doc('Transport security; on, with the server checked.') },
);

const Connection = Type.Object(
  {
    host: Type.String({ minLength: 1, maxLength: 253, ...doc('Database server host name or address.') }),
    port: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 65535, ...doc('Default: 5432, 3306 or 1433 by dialect.') }),
    ),
    database: Type.String({ minLength: 1, maxLength: 128, ...doc('Database name.') }),
    user: Type.String({
      minLength: 1,
      maxLength: 128,
      ...doc('User the gateway signs in as (read only where it can be).'),
    }),
    password: Type.Optional(
      Type.String({ minLength: 1, ...doc('Its password, sealed (enc:v1:…, plantgate secrets seal).') }),
    ),
    instanceName: Type.Optional(
      Type.String({ minLength: 1, maxLength: 128, ...doc('SQL Server named instance (mssql only).') }),
    ),
    tls: Tls,
    connectTimeoutMs: Type.Integer({
      minimum: 100,
      maximum: 120000,
      default: 10000,
      ...doc('Time to wait for a connection.'),
    }),
  },
  { additionalProperties: false },
);

const Pool = Type.Object(
  {
    max: Type.Integer({ minimum: 1, maximum: 64, default: 4, ...doc('Connections at most.') }),
    idleMs: Type.Integer({
      minimum: 1000,
      maximum: 3600000,
      default: 30000,
      ...doc('A connection unused this long is closed.'),
    }),
  },
  { additionalProperties: false, default: {}, ...doc('The connection pool.') },
);

const TimeStorage = OneOf(['timestamp', 'epochMilliseconds', 'epochSeconds'], {
  default: 'timestamp',
  ...doc(
    'timestamp: a date-time column (without a zone it is read as UTC); epochMilliseconds or epochSeconds: a number.',
  ),
});

const QualityCodes = OneOf(['opcda', 'opcua', 'text'], {
  default: 'opcda',
  ...doc(
    'opcda: 192 and up good, 64–191 uncertain (bits 7–6); opcua: a 32-bit status code; text: good, uncertain or bad. A null quality is good.',
  ),
});

const History = Type.Object(
  {
    layout: OneOf(['narrow', 'wide'], {
      default: 'narrow',
      ...doc('narrow: one row per sample (tag, time, value); wide: one row per time, one column per tag.'),
    }),
    table: Table('Table or view of history, e.g. history or hist.samples.'),
    timeColumn: Column('Column with the sample time.'),
    timeStorage: TimeStorage,
    tagColumn: Type.Optional(Column('Narrow: the column with the tag name (required).')),
    valueColumn: Type.Optional(Column('Narrow: the column with the numeric value (required).')),
    textValueColumn: Type.Optional(
      Column('Narrow: a column with a text value, read where the numeric one is null.'),
    ),
    qualityColumn: Type.Optional(Column('Narrow: the column with the sample’s quality.')),
    qualityCodes: QualityCodes,
  },
  {
    additionalProperties: false,
    ...doc('How history is stored; wide tables take their columns from the tags list.'),
  },
);

const Catalog = Type.Object(
  {
    table: Table('Table or view listing the tags.'),
    nameColumn: Column('Column with the tag name (as in the history table).'),
    descriptionColumn: Type.Optional(Column('Column with the description.')),
    unitsColumn: Type.Optional(Column('Column with the engineering units.')),
  },
  {
    additionalProperties: false,
    ...doc('Where the tags are listed (narrow layout); without it, the distinct tag names in history.'),
  },
);

const NamedColumn = (name: string, description: string) =>
  Type.String({ pattern: IDENTIFIER, default: name, ...doc(`${description} Default ${name}.`) });

const AnnotationsTable = Type.Object(
  {
    table: Table('Table the annotations are kept in (the site makes it; see README).'),
    timeStorage: TimeStorage,
    idColumn: NamedColumn('id', 'Text column of the id (the gateway makes UUIDs).'),
    startColumn: NamedColumn('start_time', 'Time column of the start.'),
    endColumn: NamedColumn('end_time', 'Time column of the end, null for an instant.'),
    textColumn: NamedColumn('note', 'Text column of the note.'),
    tagsColumn: NamedColumn('tags', 'Text column of the tag names (a JSON array).'),
    authorColumn: NamedColumn('author', 'Text column of who wrote it.'),
    createdAtColumn: NamedColumn('created_at', 'Time column of when it was written.'),
    modifiedByColumn: NamedColumn('modified_by', 'Text column of who changed it last.'),
    modifiedAtColumn: NamedColumn('modified_at', 'Time column of when it was changed last.'),
  },
  {
    additionalProperties: false,
    ...doc("Keep this source's annotations in this table instead of the gateway's store."),
  },
);

export const SqlSettings = Type.Object(
  {
    dialect: OneOf(DIALECTS, {
      ...doc('postgres (PostgreSQL), mysql (MySQL or MariaDB) or mssql (SQL Server).'),
    }),
    connection: Connection,
    pool: Pool,
    queryTimeoutMs: Type.Integer({
      minimum: 100,
      maximum: 600000,
      default: 30000,
      ...doc('A statement running longer is cancelled on the server.'),
    }),
    history: History,
    catalog: Type.Optional(Catalog),
    annotations: Type.Optional(AnnotationsTable),
    writes: Type.Object(
      {
        enabled: Type.Boolean({
          default: false,
          ...doc('values.write inserts rows into the history table; off: the source is read only.'),
        }),
      },
      { additionalProperties: false, default: {} },
    ),
    healthIntervalMs: Type.Integer({
      minimum: 1000,
      maximum: 600000,
      default: 10000,
      ...doc('How often the connection is checked; a lost database shows in health and is retried.'),
    }),
  },
  { additionalProperties: false },
);

export const SqlTagConfig = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 256, ...doc('Tag name: in history (narrow) or its own.') }),
    column: Type.Optional(Column('Wide layout: the column holding this tag; defaults to the name.')),
    description: Type.Optional(Type.String({ maxLength: 1024, ...doc('Overrides the catalogue’s.') })),
    units: Type.Optional(Type.String({ maxLength: 64, ...doc('Overrides the catalogue’s.') })),
    dataType: Type.Optional(
      OneOf(SCALAR_TYPES, { ...doc('Type of the values; default float64 (string for text-only tags).') }),
    ),
    writable: Type.Optional(
      Type.Boolean({ ...doc('Whether values.write may insert values of it; default: writes.enabled.') }),
    ),
  },
  { additionalProperties: false },
);

export type SqlSettings = Static<typeof SqlSettings>;
export type SqlTagConfig = Static<typeof SqlTagConfig>;
export type SqlHistory = Static<typeof History>;
export type SqlCatalog = Static<typeof Catalog>;
export type SqlAnnotationsTable = Static<typeof AnnotationsTable>;
