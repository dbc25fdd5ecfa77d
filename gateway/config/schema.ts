/**
 * The gateway config schema, from the same TypeBox definitions the code validates with. The published
 * file config/schema/gateway.schema.json is generated from `publishedGatewaySchema()`.
 */
import { type Static, type TSchema, Type } from '@sinclair/typebox';
import { type DriverFactory, OneOf } from '../../drivers/core/index.ts';
import { AccessSection } from '../access/rules.ts';
import { DRIVERS } from '../sources/driver-registry.ts';

const doc = (description: string) => ({ description });
const ID_PATTERN = '^[a-z0-9][a-z0-9_-]{0,62}$';

export const GatewaySection = Type.Object(
  {
    id: Type.String({
      pattern: ID_PATTERN,
      ...doc('Gateway id, as enrolled with the bridge (lower case, digits, - and _).'),
    }),
    dataDir: Type.String({
      minLength: 1,
      ...doc('Folder for keys, local history and the local token; relative to this file.'),
    }),
  },
  { additionalProperties: false },
);

export const ConsoleSection = Type.Object(
  {
    port: Type.Integer({
      minimum: 1,
      maximum: 65535,
      default: 7443,
      ...doc('Port of the local API and console, on loopback only.'),
    }),
    host: OneOf(['127.0.0.1', '::1'], {
      default: '127.0.0.1',
      ...doc('Loopback address to listen on; no other address is accepted.'),
    }),
    sessionIdleMinutes: Type.Integer({
      minimum: 1,
      maximum: 480,
      default: 15,
      ...doc('A console session unused this long is over.'),
    }),
  },
  { additionalProperties: false, default: {} },
);

export const HistorySection = Type.Object(
  {
    maxAgeDays: Type.Number({
      minimum: 0.01,
      maximum: 36500,
      default: 30,
      ...doc('Local history older than this is deleted.'),
    }),
    maxSizeMB: Type.Integer({
      minimum: 1,
      maximum: 1048576,
      default: 1024,
      ...doc('Oldest values are deleted past this size.'),
    }),
    heartbeatMs: Type.Integer({
      minimum: 1000,
      maximum: 86400000,
      default: 600000,
      ...doc(
        'An unchanged value is still recorded this often, so reads can tell a steady value from a silent source.',
      ),
    }),
    flushMs: Type.Integer({
      minimum: 1000,
      maximum: 600000,
      default: 30000,
      ...doc(
        'Recorded values wait in memory at most this long before they are written; a power cut loses at most this much local history.',
      ),
    }),
  },
  { additionalProperties: false, default: {} },
);

export const LinkSection = Type.Object(
  {
    bridge: Type.String({
      pattern: '^wss://[^\\s/]+(/\\S*)?$',
      ...doc(
        "The bridge's link endpoint, e.g. wss://bridge.example.com/link (always TLS, one outbound connection).",
      ),
    }),
    caFile: Type.Optional(
      Type.String({
        minLength: 1,
        ...doc('PEM of a private CA the bridge certificate chains to; relative to this file.'),
      }),
    ),
    proxy: Type.Optional(
      Type.String({
        pattern: '^https?://\\S+$',
        ...doc('HTTP proxy the link goes through with CONNECT, e.g. http://proxy:3128.'),
      }),
    ),
  },
  {
    additionalProperties: false,
    ...doc('The link to the cloud bridge; without it the gateway serves only its loopback API.'),
  },
);

/** Everything a source has, whatever its driver; `settings`, `tags` and `poll` are the driver's. */
export const SourceBase = Type.Object(
  {
    id: Type.String({
      pattern: ID_PATTERN,
      ...doc('Source id, unique in the gateway; used in API paths and role rules.'),
    }),
    // Checked against the drivers this build carries when the config is loaded (and listed as an enum
    // in the published schema).
    driver: Type.String({ pattern: '^[a-z][a-z0-9-]{0,31}$', ...doc('Driver that speaks to the source.') }),
    description: Type.String({ default: '', maxLength: 1024, ...doc('What the source is.') }),
    enabled: Type.Boolean({ default: true, ...doc('A disabled source is configured but not started.') }),
    settings: Type.Object(
      {},
      { additionalProperties: true, default: {}, ...doc("The driver's connection settings.") },
    ),
    tags: Type.Array(Type.Object({}, { additionalProperties: true }), {
      default: [],
      ...doc('Configured tags.'),
    }),
    poll: Type.Optional(
      Type.Object({}, { additionalProperties: true, ...doc('Poll intervals, for drivers that poll.') }),
    ),
    browse: Type.Optional(
      Type.Object(
        {},
        {
          additionalProperties: true,
          ...doc("Where the driver finds more tags in the source's own address space."),
        },
      ),
    ),
  },
  { additionalProperties: false },
);

export const GatewayConfigSchema = Type.Object(
  {
    gateway: GatewaySection,
    console: ConsoleSection,
    history: HistorySection,
    link: Type.Optional(LinkSection),
    sources: Type.Array(SourceBase, { default: [], ...doc('Data sources.') }),
    access: AccessSection,
  },
  { additionalProperties: false, $id: 'https://plantgate.dev/schema/gateway.schema.json' },
);

export interface SourceConfigEntry extends Static<typeof SourceBase> {}
export interface GatewayConfig extends Omit<Static<typeof GatewayConfigSchema>, 'sources'> {
  sources: SourceConfigEntry[];
  /** Absolute path of the file the config came from. */
  readonly file: string;
}

const driverSchemas = new WeakMap<DriverFactory, TSchema>();

/** The per-driver schema of a source, checked after the shared part. */
export function driverSourceSchema(driver: DriverFactory): TSchema {
  const cached = driverSchemas.get(driver);
  if (cached) return cached;
  const schema = Type.Object(
    {
      settings: driver.settingsSchema,
      tags: Type.Array(driver.tagSchema, { default: [] }),
      ...(driver.pollSchema ? { poll: driver.pollSchema } : {}),
      ...(driver.browseSchema ? { browse: Type.Optional(driver.browseSchema) } : {}),
    },
    { additionalProperties: true },
  );
  driverSchemas.set(driver, schema);
  return schema;
}

/** The published schema: the shared part plus each driver's settings, tags and poll under `if driver = …`. */
export function publishedGatewaySchema(): Record<string, unknown> {
  const base = structuredClone(GatewayConfigSchema) as unknown as {
    properties: { sources: { items: Record<string, unknown> } };
  };
  const source = base.properties.sources.items as {
    properties: { driver: Record<string, unknown> };
  } & Record<string, unknown>;
  source.properties.driver.enum = DRIVERS.map((d) => d.name);
  source.allOf = DRIVERS.map((driver) => ({
    if: { properties: { driver: { const: driver.name } }, required: ['driver'] },
    // biome-ignore lint/suspicious/noThenProperty: `then` is the JSON Schema keyword, not a thenable.
    then: {
      properties: {
        settings: driver.settingsSchema,
        tags: { type: 'array', items: driver.tagSchema },
        ...(driver.pollSchema ? { poll: driver.pollSchema } : {}),
        ...(driver.browseSchema ? { browse: driver.browseSchema } : {}),
      },
    },
  }));
  return { $schema: 'http://json-schema.org/draft-07/schema#', ...JSON.parse(JSON.stringify(base)) };
}
