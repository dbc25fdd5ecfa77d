/**
 * The OPC UA driver: one session to one server; tags from the node list and browsing; values from
 * monitored items or polled reads; history, aggregates and at-time values from the server where it
 * keeps them; writes to the Value attribute coerced to each node's type, one result per value.
 */
import {
  AttributeIds,
  type DataValue,
  StatusCodes as UaStatus,
  type WriteValueOptions,
} from 'node-opcua-client';
import {
  type AggregateName,
  type AtTimesRead,
  badValue,
  type Driver,
  type DriverHealth,
  type DriverHost,
  LatestValues,
  type ProcessedHistoryRead,
  type ProcessedQuery,
  type PushesValues,
  type RawHistoryRead,
  type RawQuery,
  type SnapshotRead,
  type SourceConfig,
  StatusCodes,
  type Tag,
  type TagCatalog,
  type TagValue,
  throwIfAborted,
  type Value,
  type ValueWrite,
  type WriteRequest,
  type WriteResult,
} from '../core/index.ts';
import { browseVariables, describeNodes, type NodeRequest, type NodeTag } from './catalog.ts';
import {
  AGGREGATE_OF,
  readAtTimesHistory,
  readProcessedHistory,
  readRawHistory,
  serverAggregates,
} from './history.ts';
import { type OperationLimits, readLimits, splitCall } from './limits.ts';
import { Monitoring } from './monitoring.ts';
import { OpcuaSession } from './session.ts';
import type { OpcuaBrowse, OpcuaSettings, OpcuaTagConfig } from './settings.ts';
import { CoercionError, statusOf, toValue, toVariant } from './values.ts';

export type OpcuaSourceConfig = SourceConfig<OpcuaSettings, OpcuaTagConfig> & { browse?: OpcuaBrowse };

const WRITE_REFUSALS: Record<number, string> = {
  [UaStatus.BadNotWritable.value]: 'PG_ERR_TAG_NOT_WRITABLE',
  [UaStatus.BadUserAccessDenied.value]: 'PG_ERR_TAG_NOT_WRITABLE',
  [UaStatus.BadWriteNotSupported.value]: 'PG_ERR_TAG_NOT_WRITABLE',
  [UaStatus.BadTypeMismatch.value]: 'PG_ERR_BAD_VALUE',
  [UaStatus.BadOutOfRange.value]: 'PG_ERR_BAD_VALUE',
  [UaStatus.BadNodeIdUnknown.value]: 'PG_ERR_TAG_NOT_FOUND',
};

export class OpcuaDriver
  implements
    Driver,
    TagCatalog,
    SnapshotRead,
    ValueWrite,
    PushesValues,
    RawHistoryRead,
    ProcessedHistoryRead,
    AtTimesRead
{
  readonly pushesValues = true;
  readonly recordsLocally: boolean;
  private nodes: NodeTag[] = [];
  private tags: Tag[] = [];
  private readonly indexById = new Map<string, number>();
  private latest = new LatestValues(0);
  private refused = 0;
  private monitored = 0;
  private limits: OperationLimits | undefined;
  private aggregates = new Set<number>();
  private readonly session: OpcuaSession;
  private readonly monitoring: Monitoring;
  private pollTimer: NodeJS.Timeout | undefined;
  private state: DriverHealth['state'] = 'stopped';
  private readonly config: OpcuaSourceConfig;
  private readonly host: DriverHost;

  constructor(config: OpcuaSourceConfig, host: DriverHost) {
    this.config = config;
    this.host = host;
    this.recordsLocally = config.settings.recordHistory;
    this.session = new OpcuaSession(config.settings, host.pkiDir, host.log);
    this.session.onLost = () => this.markAll(StatusCodes.BadNotConnected, 'connection to the server lost');
    this.monitoring = new Monitoring(
      config.settings,
      {
        changed: (batch) => this.changed(batch),
        refused: (index, code, reason) => {
          this.refused++;
          this.report([[index, badValue(Date.now(), code, `the server refused to monitor it: ${reason}`)]]);
        },
      },
      host.log,
    );
  }

  listTags(): readonly Tag[] {
    return this.tags;
  }

  async start(_signal: AbortSignal): Promise<void> {
    this.state = 'starting';
    this.refused = 0;
    this.monitored = 0;
    await this.session.open();
    try {
      const session = this.session.session;
      this.limits = await readLimits(session);
      this.nodes = await describeNodes(session, await this.nodeRequests(), this.limits);
      this.tags = this.nodes.map((n) => n.tag);
      this.indexById.clear();
      for (const [i, t] of this.tags.entries()) this.indexById.set(t.id, i);
      this.latest = new LatestValues(this.tags.length);
      this.aggregates = await serverAggregates(session).catch(() => new Set<number>());
      const unresolved: [number, Value][] = [];
      this.nodes.forEach((n, i) => {
        if (n.unresolved !== undefined)
          unresolved.push([
            i,
            badValue(Date.now(), n.unresolved, `the server has no node ${n.tag.properties.nodeId}`),
          ]);
      });
      this.report(unresolved);
      if (this.config.settings.mode === 'subscribe') {
        this.monitored = await this.monitoring.start(session, this.nodes, this.limits);
      } else {
        this.schedulePoll(0);
      }
      this.state = 'running';
    } catch (error) {
      await this.stop();
      throw error;
    }
  }

  async stop(): Promise<void> {
    clearTimeout(this.pollTimer);
    this.pollTimer = undefined;
    await this.monitoring.stop();
    await this.session.close();
    this.state = 'stopped';
  }

  health(): DriverHealth {
    const s = this.config.settings;
    const stats = this.session.stats;
    const certificates = this.session.certificates();
    const warnings: string[] = [];
    for (const [which, facts] of Object.entries(certificates)) {
      if (!facts) continue;
      const whose = which === 'own' ? "the gateway's certificate" : "the server's certificate";
      if (facts.daysLeft < 0) warnings.push(`${whose} expired on ${facts.notAfter}`);
      else if (facts.daysLeft < s.certificateWarningDays)
        warnings.push(`${whose} expires on ${facts.notAfter}`);
    }
    const degraded = !stats.connected || this.refused > 0 || warnings.length > 0;
    const message = [!stats.connected ? stats.lastError : undefined, ...warnings].filter(Boolean).join('; ');
    return {
      state: this.state === 'running' && degraded ? 'degraded' : this.state,
      ...(message ? { message } : {}),
      details: {
        endpoint: s.endpoint,
        securityMode: s.securityMode,
        securityPolicy: s.securityMode === 'None' ? 'None' : s.securityPolicy,
        mode: s.mode,
        connected: stats.connected,
        sessionsCreated: stats.sessionsCreated,
        reconnects: stats.reconnects,
        monitoredItems: this.monitored,
        refusedItems: this.refused,
        publishingIntervalMs: this.monitoring.revisedPublishingIntervalMs ?? null,
        operationLimits: this.limits ?? null,
        certificates: Object.fromEntries(
          Object.entries(certificates).map(([k, c]) => [
            k,
            c && { subject: c.subject, thumbprint: c.thumbprint, notAfter: c.notAfter, daysLeft: c.daysLeft },
          ]),
        ),
      },
    };
  }

  async readSnapshot(tags: readonly Tag[]): Promise<Value[]> {
    const now = Date.now();
    return tags.map((tag) =>
      this.latest.get(this.indexById.get(tag.id), now, 'no value from the server yet'),
    );
  }

  async writeValues(requests: readonly WriteRequest[], signal: AbortSignal): Promise<WriteResult[]> {
    throwIfAborted(signal);
    const results: (WriteResult | undefined)[] = new Array(requests.length);
    const writes: { at: number; write: WriteValueOptions }[] = [];
    requests.forEach((request, at) => {
      const index = this.indexById.get(request.tag.id);
      const node = index === undefined ? undefined : this.nodes[index];
      if (!node)
        results[at] = { ok: false, code: 'PG_ERR_TAG_NOT_FOUND', message: `no tag ${request.tag.name}` };
      else if (request.time !== undefined)
        results[at] = {
          ok: false,
          code: 'PG_ERR_NOT_SUPPORTED',
          message: 'history writes are not supported; omit time',
        };
      else if (!node.tag.writable)
        results[at] = {
          ok: false,
          code: 'PG_ERR_TAG_NOT_WRITABLE',
          message: `${request.tag.name} is not writable`,
        };
      else {
        try {
          const value = toVariant(node.builtIn, node.isArray, request.value);
          writes.push({
            at,
            write: { nodeId: node.nodeId, attributeId: AttributeIds.Value, value: { value } },
          });
        } catch (error) {
          if (!(error instanceof CoercionError)) throw error;
          results[at] = {
            ok: false,
            code: 'PG_ERR_BAD_VALUE',
            message: `${request.tag.name}: ${error.message}`,
          };
        }
      }
    });
    if (writes.length) {
      throwIfAborted(signal);
      const session = this.session.session;
      const codes = await splitCall(writes, this.limits!.maxNodesPerWrite, (slice) =>
        session.write(slice.map((w) => w.write)),
      );
      writes.forEach((w, k) => {
        const code = codes[k]!;
        results[w.at] =
          statusOf(code.value) === 'good'
            ? { ok: true }
            : {
                ok: false,
                code: WRITE_REFUSALS[code.value] ?? 'PG_ERR_DEVICE_EXCEPTION',
                message: `the server refused the write: ${code.name}`,
                statusCode: code.value,
              };
      });
    }
    return results as WriteResult[];
  }

  keepsHistory(tag: Tag): boolean {
    const index = this.indexById.get(tag.id);
    return index !== undefined && this.nodes[index]!.historizing;
  }

  readRaw(tag: Tag, query: RawQuery, signal: AbortSignal): AsyncIterable<Value[]> {
    return readRawHistory(
      this.session.session,
      this.nodeOf(tag).nodeId,
      query,
      this.config.settings.historyPageSize,
      signal,
    );
  }

  async readProcessed(
    tag: Tag,
    query: ProcessedQuery,
    signal: AbortSignal,
  ): Promise<Map<AggregateName, Value[]>> {
    const out = new Map<AggregateName, Value[]>();
    if (!this.keepsHistory(tag)) return out;
    for (const fn of query.functions) {
      if (!this.aggregates.has(AGGREGATE_OF[fn])) continue;
      try {
        out.set(
          fn,
          await readProcessedHistory(this.session.session, this.nodeOf(tag).nodeId, query, fn, signal),
        );
      } catch (error) {
        if ((error as { code?: string }).code !== 'PG_ERR_NOT_SUPPORTED') throw error;
      }
    }
    return out;
  }

  async readAtTimes(tag: Tag, times: readonly number[], signal: AbortSignal): Promise<Value[] | undefined> {
    if (!this.keepsHistory(tag)) return undefined;
    return readAtTimesHistory(this.session.session, this.nodeOf(tag).nodeId, times, signal);
  }

  private nodeOf(tag: Tag): NodeTag {
    const index = this.indexById.get(tag.id);
    if (index === undefined) throw new Error(`no tag ${tag.name}`);
    return this.nodes[index]!;
  }

  private async nodeRequests(): Promise<NodeRequest[]> {
    const listed: NodeRequest[] = this.config.tags.map((t) => ({
      nodeId: t.nodeId,
      name: t.name,
      id: t.id ?? t.name,
      config: t,
      writable: t.writable ?? false,
    }));
    if (!this.config.browse) return listed;
    const have = new Set(listed.map((r) => r.nodeId));
    const names = new Set(listed.map((r) => r.name));
    const browsed = await browseVariables(this.session.session, this.config.browse, this.limits!);
    for (const b of browsed) {
      if (have.has(b.nodeId) || names.has(b.name)) continue;
      names.add(b.name);
      listed.push({ nodeId: b.nodeId, name: b.name, id: b.nodeId, writable: false });
    }
    return listed;
  }

  private schedulePoll(delayMs: number): void {
    this.pollTimer = setTimeout(async () => {
      const started = Date.now();
      await this.poll().catch((error: Error) =>
        this.host.log.warn('OPC UA poll failed', { error: error.message }),
      );
      if (this.state !== 'stopped')
        this.schedulePoll(Math.max(0, this.config.settings.pollIntervalMs - (Date.now() - started)));
    }, delayMs);
  }

  private async poll(): Promise<void> {
    if (!this.session.stats.connected) return;
    const indices = this.nodes.flatMap((n, i) => (n.unresolved === undefined ? [i] : []));
    const session = this.session.session;
    const read = await splitCall(indices, this.limits!.maxNodesPerRead, (slice) =>
      session.read(
        slice.map((i) => ({ nodeId: this.nodes[i]!.nodeId, attributeId: AttributeIds.Value })),
        0,
      ),
    );
    this.changed(indices.map((index, k) => [index, read[k]!]));
  }

  private changed(batch: readonly [number, DataValue][]): void {
    const now = Date.now();
    this.report(batch.map(([index, dv]) => [index, toValue(dv, now)]));
  }

  private markAll(code: number, reason: string): void {
    const now = Date.now();
    this.report(this.nodes.map((_, i) => [i, badValue(now, code, reason)]));
  }

  private report(values: readonly [number, Value][]): void {
    if (values.length === 0) return;
    const update: TagValue[] = [];
    for (const [index, value] of values) {
      this.latest.set(index, value);
      const tagged = value as TagValue;
      tagged.tag = this.tags[index]!.id;
      update.push(tagged);
    }
    this.host.update(update);
  }
}
