/** The query engine: every typed operation, through one pipeline of interceptors. */
import os from 'node:os';
import { type DriverFactory, hasCapability } from '../../drivers/core/index.ts';
import { withAccess } from '../access/interceptor.ts';
import type { AccessPolicy, TagGrant } from '../access/policy.ts';
import {
  type AnnotationEnv,
  createAnnotation,
  deleteAnnotation,
  readAnnotations,
  updateAnnotation,
} from '../annotations/handlers.ts';
import type { AnnotationStore } from '../annotations/store.ts';
import type { CallContext } from '../api/call-context.ts';
import type { OperationName, OperationRequest } from '../api/operations.ts';
import type { GatewayConfig } from '../config/schema.ts';
import { gatewayError } from '../errors.ts';
import type { HistoryStore } from '../history/store.ts';
import {
  createScriptTag,
  deleteScriptTag,
  listTemplates,
  type ScriptEnv,
  updateScriptTag,
} from '../script-tags/handlers.ts';
import type { SourceRegistry } from '../sources/registry.ts';
import type { Source } from '../sources/source.ts';
import { createTag, deleteTag, type TagConfigEnv, updateTag } from '../tag-config/handlers.ts';
import { VERSION } from '../version.ts';
import {
  type Call,
  compose,
  type Handler,
  type Interceptor,
  withTimeout,
  withValidation,
} from './pipeline.ts';
import {
  type ReadEnv,
  readAtTimes,
  readPlot,
  readProcessed,
  readRaw,
  readSnapshot,
} from './read-handlers.ts';
import { subscribe } from './subscription.ts';
import { getTags, searchTags } from './tag-handlers.ts';
import { writeValues } from './write-handler.ts';

export interface EngineOptions {
  gatewayId: string;
  /** The role rules in force (they may change while the gateway runs). */
  access: () => AccessPolicy;
  /** Time limit of one operation. */
  timeoutMs: number;
  /** Extra interceptors, outermost first (access checks, audit). */
  interceptors?: Interceptor[];
  /** The link's state, for health. */
  link?: () => unknown;
  /** Where annotations are kept. */
  annotations?: AnnotationStore;
  /** The config file tags.create/update/delete edit, for drivers whose tags are listed there. */
  tagConfig?: { file: string; drivers: readonly DriverFactory[]; adopt(next: GatewayConfig): void };
}

/** The tags a call may use, as the access check decided; a call that skipped the check gets none. */
function grantOf(call: Call): TagGrant {
  if (call.tags === undefined)
    throw gatewayError('PG_ERR_INTERNAL', `${call.operation} ran without an access decision`);
  return call.tags;
}

export class QueryEngine {
  private readonly registry: SourceRegistry;
  private readonly history: HistoryStore;
  private readonly options: EngineOptions;
  private readonly startedAt = Date.now();
  private readonly pipeline: Handler;

  constructor(registry: SourceRegistry, history: HistoryStore, options: EngineOptions) {
    this.registry = registry;
    this.history = history;
    this.options = options;
    this.pipeline = compose(
      (call) => this.dispatch(call),
      ...(options.interceptors ?? []),
      withAccess(options.access),
      withValidation,
      withTimeout(options.timeoutMs),
    );
  }

  /** Runs one operation for a caller; throws a PlantgateError with a catalogue code when it cannot. */
  execute(
    ctx: CallContext,
    operation: OperationName,
    sourceId: string | undefined,
    request: unknown,
    signal = new AbortController().signal,
  ): Promise<unknown> {
    return this.pipeline({
      ctx,
      operation,
      ...(sourceId === undefined ? {} : { sourceId }),
      request,
      signal,
    });
  }

  /** values.subscribe: validated like every operation, then a stream of changes until `signal` aborts. */
  async subscribe(
    ctx: CallContext,
    sourceId: string,
    request: unknown,
    signal: AbortSignal,
  ): Promise<AsyncGenerator<unknown>> {
    // The pipeline checks access and validates the call like any other; the stream itself runs outside
    // its time limit, for as long as the subscriber stays.
    const accepted = (await compose(
      async (call) => call,
      ...(this.options.interceptors ?? []),
      withAccess(this.options.access),
      withValidation,
    )({ ctx, operation: 'values.subscribe', sourceId, request, signal })) as Call;
    const validated = accepted.request as OperationRequest<'values.subscribe'>;
    return subscribe(this.registry.get(sourceId), validated, signal, grantOf(accepted));
  }

  health() {
    const memory = process.memoryUsage();
    return {
      gateway: {
        id: this.options.gatewayId,
        version: VERSION,
        startedAt: new Date(this.startedAt).toISOString(),
        uptimeS: Math.round((Date.now() - this.startedAt) / 1000),
        rssMB: Math.round(memory.rss / 1048576),
        heapUsedMB: Math.round(memory.heapUsed / 1048576),
        heapTotalMB: Math.round(memory.heapTotal / 1048576),
        externalMB: Math.round(memory.external / 1048576),
        historyMB: Math.round(this.history.sizeBytes() / 1048576),
      },
      machine: {
        hostname: os.hostname(),
        platform: os.platform(),
        arch: os.arch(),
        cpus: os.cpus().length,
        loadAverage: os.loadavg(),
        memoryTotalMB: Math.round(os.totalmem() / 1048576),
        memoryFreeMB: Math.round(os.freemem() / 1048576),
        uptimeS: Math.round(os.uptime()),
      },
      link: this.options.link?.() ?? { state: 'disabled' },
      sources: this.registry.health(),
    };
  }

  private async dispatch(call: Call): Promise<unknown> {
    if (call.operation === 'health') return this.health();
    if (call.sourceId === undefined)
      throw gatewayError('PG_ERR_BAD_REQUEST', `${call.operation} needs a source`);
    const grant = grantOf(call);
    const source = this.registry.get(call.sourceId);
    const env = { source, grant, history: this.history, signal: call.signal, now: Date.now() };
    const request = call.request as never;
    return source.guarded(() => this.run(call, source, env, request, grant));
  }

  private tagConfigEnv(call: Call, source: Source, grant: TagGrant): TagConfigEnv {
    const c = this.options.tagConfig;
    if (!c) throw gatewayError('PG_ERR_NOT_SUPPORTED', 'this gateway does not change tags');
    return {
      source,
      grant,
      signal: call.signal,
      configFile: c.file,
      drivers: c.drivers,
      adopt: c.adopt,
      ...(call.notes ? { notes: call.notes } : {}),
    };
  }

  private annotationEnv(call: Call, env: ReadEnv, grant: TagGrant): AnnotationEnv {
    const driver = env.source.driver;
    const own = driver && hasCapability(driver, 'annotationStorage') ? driver : undefined;
    const local = this.options.annotations?.forSource(env.source.id);
    const store = own ?? local;
    if (!store) throw gatewayError('PG_ERR_NOT_SUPPORTED', 'this gateway keeps no annotations');
    return {
      ctx: call.ctx,
      sourceId: env.source.id,
      store,
      signal: call.signal,
      grant,
      now: env.now,
      ...(call.notes ? { notes: call.notes } : {}),
    };
  }

  private scriptEnv(call: Call, source: Source): ScriptEnv {
    return {
      ctx: call.ctx,
      source,
      registry: this.registry,
      policy: this.options.access(),
      signal: call.signal,
      ...(call.notes ? { notes: call.notes } : {}),
    };
  }

  private async run(
    call: Call,
    source: Source,
    env: ReadEnv,
    request: never,
    grant: TagGrant,
  ): Promise<unknown> {
    switch (call.operation) {
      case 'tags.search':
        return searchTags(source, request, call.signal, grant);
      case 'tags.get':
        return getTags(source, request, call.signal, grant);
      case 'values.snapshot':
        return readSnapshot(env, request);
      case 'values.raw':
        return readRaw(env, request);
      case 'values.plot':
        return readPlot(env, request);
      case 'values.processed':
        return readProcessed(env, request);
      case 'values.atTimes':
        return readAtTimes(env, request);
      case 'values.write':
        return writeValues(source, request, call.signal, env.now, grant);
      case 'tags.create':
        return createTag(this.tagConfigEnv(call, source, grant), request);
      case 'tags.update':
        return updateTag(this.tagConfigEnv(call, source, grant), request);
      case 'tags.delete':
        return deleteTag(this.tagConfigEnv(call, source, grant), request);
      case 'annotations.read':
        return readAnnotations(this.annotationEnv(call, env, grant), request);
      case 'annotations.create':
        return createAnnotation(this.annotationEnv(call, env, grant), request);
      case 'annotations.update':
        return updateAnnotation(this.annotationEnv(call, env, grant), request);
      case 'annotations.delete':
        return deleteAnnotation(this.annotationEnv(call, env, grant), request);
      case 'scriptTags.templates':
        return listTemplates(source);
      case 'scriptTags.create':
        return createScriptTag(this.scriptEnv(call, source), request);
      case 'scriptTags.update':
        return updateScriptTag(this.scriptEnv(call, source), request);
      case 'scriptTags.delete':
        return deleteScriptTag(this.scriptEnv(call, source), request);
      case 'values.subscribe':
        throw gatewayError('PG_ERR_BAD_REQUEST', 'values.subscribe streams: use subscribe()');
      case 'health':
        return this.health();
      default:
        throw gatewayError('PG_ERR_UNKNOWN_OPERATION', `no operation ${call.operation satisfies never}`);
    }
  }
}
