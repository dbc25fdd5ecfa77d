/**
 * The driver contract. A driver is a small object with a lifecycle and optional capabilities; its type
 * is the intersection of what it offers. The core checks a capability before any I/O and answers
 * PG_ERR_NOT_SUPPORTED when a driver lacks it.
 */
import type { TSchema } from '@sinclair/typebox';
import type { DriverHost } from './host.ts';
import type { Annotation, Tag, TagValue, TagValueData, Value } from './model.ts';

export type DriverState = 'starting' | 'running' | 'degraded' | 'stopped' | 'failed';

export interface DriverHealth {
  state: DriverState;
  message?: string;
  /** Driver-specific facts for `health` (connection, units, poll timing). Never secrets. */
  details?: Record<string, unknown>;
}

export interface Driver {
  start(signal: AbortSignal): Promise<void>;
  stop(): Promise<void>;
  health(): DriverHealth;
}

/** The source's whole tag list is known in memory (configured or browsed); the core searches it. */
export interface TagCatalog {
  listTags(): readonly Tag[];
}

export interface TagQuery {
  name?: string;
  description?: string;
  units?: string;
  label?: string;
  page: number;
  pageSize: number;
}

/** The driver searches its own catalogue (a database table, a server's address space). */
export interface TagSearch {
  searchTags(query: TagQuery, signal: AbortSignal): Promise<{ tags: Tag[]; total: number }>;
  getTags(idsOrNames: readonly string[], signal: AbortSignal): Promise<Tag[]>;
}

export interface SnapshotRead {
  readSnapshot(tags: readonly Tag[], signal: AbortSignal): Promise<Value[]>;
}

export interface RawQuery {
  start: number;
  end: number;
  maxValues: number;
  /** `outside` adds the last sample before `start` and the first after `end`. */
  boundary: 'inside' | 'outside';
}

export interface RawHistoryRead {
  readRaw(tag: Tag, query: RawQuery, signal: AbortSignal): AsyncIterable<Value[]>;
  /**
   * Whether the source keeps history of this tag; where it does not, the core reads local history (for
   * drivers that record locally). Absent: the source keeps history of every tag.
   */
  keepsHistory?(tag: Tag): boolean;
}

/** The aggregates of DESIGN.md's values.processed, by their plantgate names. */
export const AGGREGATE_NAMES = [
  'INTERP',
  'AVG',
  'TIMEAVERAGE',
  'MIN',
  'MAX',
  'COUNT',
  'RANGE',
  'DELTA',
  'TOTAL',
  'PERCENTGOOD',
  'PERCENTBAD',
  'VARIANCE',
  'STDDEV',
] as const;
export type AggregateName = (typeof AGGREGATE_NAMES)[number];

export interface ProcessedQuery {
  start: number;
  end: number;
  intervalMs: number;
  functions: readonly AggregateName[];
}

/**
 * Aggregates the source computes itself. The driver answers the functions it computed, one value per
 * bucket `[start + k·interval, …)` stamped at its start; the core computes the rest from raw values.
 */
export interface ProcessedHistoryRead {
  readProcessed(tag: Tag, query: ProcessedQuery, signal: AbortSignal): Promise<Map<AggregateName, Value[]>>;
}

export interface PlotQuery {
  start: number;
  end: number;
  /** Buckets of equal width between start and end. */
  intervals: number;
}

/**
 * Plot values picked by the source itself, by the same rule as the core's (per bucket the first, last,
 * minimum, maximum and first non-good sample, each once, in time order); `undefined`: the core picks
 * them from raw values.
 */
export interface PlotHistoryRead {
  readPlot(tag: Tag, query: PlotQuery, signal: AbortSignal): Promise<Value[] | undefined>;
}

/**
 * Values at given times, from the source's own history service. `undefined`: the source cannot answer
 * for this tag, and the core takes the value in force at each time from raw values.
 */
export interface AtTimesRead {
  readAtTimes(tag: Tag, times: readonly number[], signal: AbortSignal): Promise<Value[] | undefined>;
}

export interface WriteRequest {
  tag: Tag;
  value: TagValueData;
  /** Present for a history write; absent for a write to the live value. */
  time?: number;
}

export type WriteResult = { ok: true } | { ok: false; code: string; message: string; statusCode?: number };

export interface ValueWrite {
  /** One result per request, in order; a failed value never fails the others. */
  writeValues(requests: readonly WriteRequest[], signal: AbortSignal): Promise<WriteResult[]>;
}

/** The driver keeps its tag list in its source (a catalogue table) and changes it there. */
export interface TagConfiguration {
  /** A new tag from a definition of the driver's own shape; answers it. */
  createTag(definition: Record<string, unknown>, signal: AbortSignal): Promise<Tag>;
  updateTag(ref: string, changes: Record<string, unknown>, signal: AbortSignal): Promise<Tag>;
  deleteTag(ref: string, signal: AbortSignal): Promise<void>;
}

/** The driver keeps annotations in its source (a configured SQL table) instead of the gateway's store. */
export interface AnnotationStorage {
  /** Whether this source keeps annotations itself (a SQL source does only with an annotations table). */
  keepsAnnotations(): boolean;
  /** Annotations overlapping [from, to], oldest first, at most `limit`. */
  readAnnotations(from: number, to: number, limit: number, signal: AbortSignal): Promise<Annotation[]>;
  getAnnotation(id: string, signal: AbortSignal): Promise<Annotation | undefined>;
  createAnnotation(annotation: Annotation, signal: AbortSignal): Promise<void>;
  updateAnnotation(annotation: Annotation, signal: AbortSignal): Promise<void>;
  deleteAnnotation(id: string, signal: AbortSignal): Promise<boolean>;
}

/** Values the driver pushes through `host.update` (polled or subscribed); the core keeps history. */
export interface PushesValues {
  readonly pushesValues: true;
  /** Whether the core should record pushed values in local history (no history of its own). */
  readonly recordsLocally: boolean;
}

export type Capability =
  | 'tagCatalog'
  | 'tagSearch'
  | 'snapshotRead'
  | 'rawHistoryRead'
  | 'processedHistoryRead'
  | 'plotHistoryRead'
  | 'atTimesRead'
  | 'valueWrite'
  | 'tagConfiguration'
  | 'annotationStorage'
  | 'pushesValues';

interface CapabilityMap {
  tagCatalog: TagCatalog;
  tagSearch: TagSearch;
  snapshotRead: SnapshotRead;
  rawHistoryRead: RawHistoryRead;
  processedHistoryRead: ProcessedHistoryRead;
  plotHistoryRead: PlotHistoryRead;
  atTimesRead: AtTimesRead;
  valueWrite: ValueWrite;
  tagConfiguration: TagConfiguration;
  annotationStorage: AnnotationStorage;
  pushesValues: PushesValues;
}

const capabilityProbe: { [C in Capability]: (driver: object) => boolean } = {
  tagCatalog: (d) => typeof (d as TagCatalog).listTags === 'function',
  tagSearch: (d) => typeof (d as TagSearch).searchTags === 'function',
  snapshotRead: (d) => typeof (d as SnapshotRead).readSnapshot === 'function',
  rawHistoryRead: (d) => typeof (d as RawHistoryRead).readRaw === 'function',
  processedHistoryRead: (d) => typeof (d as ProcessedHistoryRead).readProcessed === 'function',
  plotHistoryRead: (d) => typeof (d as PlotHistoryRead).readPlot === 'function',
  atTimesRead: (d) => typeof (d as AtTimesRead).readAtTimes === 'function',
  valueWrite: (d) => typeof (d as ValueWrite).writeValues === 'function',
  tagConfiguration: (d) => typeof (d as TagConfiguration).createTag === 'function',
  annotationStorage: (d) => (d as { keepsAnnotations?: () => boolean }).keepsAnnotations?.() === true,
  pushesValues: (d) => (d as PushesValues).pushesValues === true,
};

export function hasCapability<C extends Capability>(
  driver: Driver,
  capability: C,
): driver is Driver & CapabilityMap[C] {
  return capabilityProbe[capability](driver);
}

export function capabilitiesOf(driver: Driver): Capability[] {
  return (Object.keys(capabilityProbe) as Capability[]).filter((c) => capabilityProbe[c](driver));
}

/** What a source's config holds for its driver; `settings` and `tags` are validated by the driver's schemas. */
export interface SourceConfig<Settings = unknown, TagConfig = unknown> {
  id: string;
  driver: string;
  enabled: boolean;
  settings: Settings;
  tags: TagConfig[];
  poll?: unknown;
  /** Where the driver finds more tags in its source (OPC UA browsing); validated by `browseSchema`. */
  browse?: unknown;
}

/** A driver as the gateway registers it: its schemas and a constructor. */
export interface DriverFactory<Settings = unknown, TagConfig = unknown> {
  name: string;
  /** JSON Schema (TypeBox) of `settings`; published in the gateway config schema. */
  settingsSchema: TSchema;
  /** JSON Schema of one entry in `tags`. */
  tagSchema: TSchema;
  /** JSON Schema of `poll`, for drivers that poll. */
  pollSchema?: TSchema;
  /** JSON Schema of `browse`, for drivers that find tags in their source. */
  browseSchema?: TSchema;
  /**
   * Settings (dotted paths under `settings`) that hold secrets: they must be sealed (`enc:v1:`) in the
   * config, and only they may be. The driver receives them opened.
   */
  secretFields?: readonly string[];
  /** Settings (dotted paths under `settings`) that name files: resolved relative to the config file. */
  fileFields?: readonly string[];
  /**
   * Whether tags.create/update/delete edit this source's `tags` list in the config file (the gateway
   * writes it and restarts the source). Drivers whose tags live in their source offer TagConfiguration.
   */
  tagsInConfig?: boolean;
  /** Why tags.create/update/delete cannot work for this driver, when neither of the above. */
  tagsNotConfigurable?: string;
  /** Checks that the schema cannot express (cross-field rules); returns problems as path + reason. */
  check?(config: SourceConfig<Settings, TagConfig>): { path: string; message: string }[];
  create(config: SourceConfig<Settings, TagConfig>, host: DriverHost): Driver;
}

export type { TagValue };

/** Config problems every driver with configured tags checks: a name or an explicit id given twice. */
export function duplicateTagProblems(
  tags: readonly { name: string; id?: string }[],
): { path: string; message: string }[] {
  const problems: { path: string; message: string }[] = [];
  const names = new Set<string>();
  const ids = new Set<string>();
  tags.forEach((tag, i) => {
    if (names.has(tag.name))
      problems.push({ path: `tags/${i}/name`, message: `duplicate tag name ${tag.name}` });
    names.add(tag.name);
    const id = tag.id ?? tag.name;
    if (ids.has(id) && tag.id !== undefined)
      problems.push({ path: `tags/${i}/id`, message: `duplicate tag id ${id}` });
    ids.add(id);
  });
  return problems;
}
