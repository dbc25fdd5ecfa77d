/** The Modbus driver: polls its tags in groups, serves their latest values and writes writable ones. */
import {
  type Driver,
  type DriverHealth,
  type DriverHost,
  LatestValues,
  PlantgateError,
  type PushesValues,
  type SnapshotRead,
  type SourceConfig,
  type Tag,
  type TagCatalog,
  type TagValue,
  type Value,
  type ValueWrite,
  type WriteRequest,
  type WriteResult,
} from '../core/index.ts';
import { type ModbusPoint, resolvePoint } from './address.ts';
import { EncodeError, encodeValue } from './codec.ts';
import { ModbusConnection, ModbusRequestError } from './connection.ts';
import { type NoBridgeSet, type PlanLimits, planReads, type ReadBlock } from './planner.ts';
import { runPollCycle } from './poll-cycle.ts';
import type { ModbusPoll, ModbusSettings, ModbusTagConfig } from './settings.ts';
import { UnitHealth } from './unit-health.ts';

export type ModbusSourceConfig = SourceConfig<ModbusSettings, ModbusTagConfig> & { poll: ModbusPoll };

export function toTag(config: ModbusTagConfig, point: ModbusPoint): Tag {
  return {
    id: config.id ?? config.name,
    name: config.name,
    description: config.description,
    units: config.units,
    dataType: point.count > 1 ? `${point.type}[]` : point.type,
    ...(config.states ? { states: config.states } : {}),
    labels: config.labels,
    properties: { address: config.address, unitId: point.unitId, wordOrder: point.wordOrder },
    writable: config.writable,
    stepped:
      config.stepped ?? (point.type === 'bool' || point.type === 'string' || config.states !== undefined),
  };
}

interface PollGroup {
  name: string;
  intervalMs: number;
  indices: number[];
  plan: ReadBlock[];
  lastCycleMs?: number;
  lastRequests?: number;
}

export class ModbusDriver implements Driver, TagCatalog, SnapshotRead, ValueWrite, PushesValues {
  readonly pushesValues = true;
  readonly recordsLocally: boolean;
  private readonly tags: Tag[];
  private readonly points: ModbusPoint[];
  private readonly indexById = new Map<string, number>();
  private readonly latest: LatestValues;
  private readonly groups: PollGroup[];
  private readonly limits: PlanLimits;
  private readonly noBridge: NoBridgeSet = new Set();
  private readonly units: UnitHealth;
  private readonly connection: ModbusConnection;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly running = new Set<Promise<void>>();
  private abort = new AbortController();
  private state: DriverHealth['state'] = 'stopped';

  private readonly config: ModbusSourceConfig;
  private readonly host: DriverHost;

  constructor(config: ModbusSourceConfig, host: DriverHost) {
    this.config = config;
    this.host = host;
    const s = config.settings;
    this.recordsLocally = s.recordHistory;
    this.points = config.tags.map((t) => resolvePoint(t, { unitId: s.unitId, addressBase: s.addressBase }));
    this.tags = config.tags.map((t, i) => toTag(t, this.points[i]!));
    for (const [i, tag] of this.tags.entries()) this.indexById.set(tag.id, i);
    this.latest = new LatestValues(this.tags.length);
    this.limits = {
      maxRegistersPerRead: s.maxRegistersPerRead,
      maxBitsPerRead: s.maxBitsPerRead,
      maxRegisterGap: s.maxRegisterGap,
      maxBitGap: s.maxBitGap,
    };
    this.units = new UnitHealth(s.demoteAfterFailures, s.demoteForMs);
    this.connection = new ModbusConnection(s, host.log);
    const byGroup = new Map<string, number[]>();
    for (const [i, t] of config.tags.entries()) {
      const name = t.group ?? 'default';
      const indices = byGroup.get(name) ?? [];
      byGroup.set(name, indices);
      indices.push(i);
    }
    this.groups = [...byGroup].map(([name, indices]) => ({
      name,
      intervalMs: name === 'default' ? config.poll.intervalMs : config.poll.groups[name]!.intervalMs,
      indices,
      plan: this.plan(indices),
    }));
  }

  listTags(): readonly Tag[] {
    return this.tags;
  }

  async start(_signal: AbortSignal): Promise<void> {
    this.abort = new AbortController();
    this.state = 'starting';
    for (const group of this.groups) this.schedule(group, 0);
  }

  async stop(): Promise<void> {
    this.abort.abort(new Error('the source is stopping'));
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    // Closing the connection fails a request still waiting on a silent device, so stopping never waits
    // for a device timeout.
    await this.connection.close();
    await Promise.allSettled([...this.running]);
    this.state = 'stopped';
  }

  health(): DriverHealth {
    const stats = this.connection.stats;
    const now = Date.now();
    const units = this.units.snapshot();
    const setAside = units.filter((u) => this.units.isDemoted(u.unitId, now)).map((u) => u.unitId);
    return {
      state: this.state === 'running' && (!stats.connected || setAside.length > 0) ? 'degraded' : this.state,
      ...(stats.lastError && !stats.connected ? { message: stats.lastError } : {}),
      details: {
        transport: this.config.settings.transport,
        connected: stats.connected,
        reconnects: stats.reconnects,
        requests: stats.requests,
        failedRequests: stats.failures,
        unitsSetAside: setAside,
        groups: this.groups.map((g) => ({
          name: g.name,
          intervalMs: g.intervalMs,
          tags: g.indices.length,
          requestsPerCycle: g.plan.length,
          lastCycleMs: g.lastCycleMs ?? null,
        })),
      },
    };
  }

  async readSnapshot(tags: readonly Tag[]): Promise<Value[]> {
    const now = Date.now();
    return tags.map((tag) => this.latest.get(this.indexById.get(tag.id), now, 'not polled yet'));
  }

  async writeValues(requests: readonly WriteRequest[], signal: AbortSignal): Promise<WriteResult[]> {
    const results: WriteResult[] = [];
    for (const request of requests) results.push(await this.writeOne(request, signal));
    return results;
  }

  private async writeOne(request: WriteRequest, signal: AbortSignal): Promise<WriteResult> {
    const index = this.indexById.get(request.tag.id);
    const point = index === undefined ? undefined : this.points[index];
    if (!point) return { ok: false, code: 'PG_ERR_TAG_NOT_FOUND', message: `no tag ${request.tag.name}` };
    if (request.time !== undefined) {
      return {
        ok: false,
        code: 'PG_ERR_NOT_SUPPORTED',
        message: 'a Modbus device keeps no history; omit time',
      };
    }
    if (!request.tag.writable || (point.table !== 'coil' && point.table !== 'holding')) {
      return { ok: false, code: 'PG_ERR_TAG_NOT_WRITABLE', message: `${request.tag.name} is not writable` };
    }
    let payload: number[] | boolean[];
    try {
      payload = encodeValue(point, request.value);
    } catch (error) {
      if (error instanceof EncodeError)
        return { ok: false, code: 'PG_ERR_BAD_VALUE', message: error.message };
      throw error;
    }
    try {
      await this.connection.request(
        (t) =>
          point.table === 'coil'
            ? t.writeCoils(point.unitId, point.address, payload as boolean[])
            : t.writeRegisters(point.unitId, point.address, payload as number[]),
        signal,
      );
      return { ok: true };
    } catch (error) {
      if (error instanceof ModbusRequestError) {
        const code =
          error.kind === 'exception'
            ? 'PG_ERR_DEVICE_EXCEPTION'
            : error.kind === 'timeout'
              ? 'PG_ERR_DEVICE_TIMEOUT'
              : 'PG_ERR_SOURCE_UNAVAILABLE';
        return { ok: false, code, message: error.message, statusCode: error.statusCode };
      }
      if (error instanceof PlantgateError) return { ok: false, code: error.code, message: error.message };
      throw error;
    }
  }

  private plan(indices: readonly number[]): ReadBlock[] {
    const blocks = planReads(
      indices.map((i) => this.points[i]!),
      this.limits,
      this.noBridge,
    );
    // Planned indices are positions in `indices`; map them back to the source's point indices.
    return blocks.map((b) => ({
      ...b,
      points: b.points.map((p) => ({ index: indices[p.index]!, point: p.point })),
    }));
  }

  private schedule(group: PollGroup, delayMs: number): void {
    if (this.abort.signal.aborted) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      const started = Date.now();
      const cycle = this.poll(group).finally(() => {
        this.running.delete(cycle);
        const elapsed = Date.now() - started;
        // Cycles never overlap: one that overran its interval is followed at once by the next.
        this.schedule(group, Math.max(0, group.intervalMs - elapsed));
      });
      this.running.add(cycle);
    }, delayMs);
    this.timers.add(timer);
  }

  private async poll(group: PollGroup): Promise<void> {
    const started = performance.now();
    try {
      const result = await runPollCycle(
        {
          connection: this.connection,
          limits: this.limits,
          noBridge: this.noBridge,
          units: this.units,
          signal: this.abort.signal,
        },
        group.plan,
      );
      if (result.replanned) group.plan = this.plan(group.indices);
      if (this.abort.signal.aborted) return;
      const update: TagValue[] = [];
      for (const [index, value] of result.values) {
        this.latest.set(index, value);
        // The cycle made this object and nothing else holds it: naming its tag in place saves a copy.
        const tagged = value as TagValue;
        tagged.tag = this.tags[index]!.id;
        update.push(tagged);
      }
      if (this.state === 'starting') this.state = 'running';
      group.lastCycleMs = Math.round((performance.now() - started) * 10) / 10;
      group.lastRequests = result.requests;
      this.host.metric('poll.ms', group.lastCycleMs, { group: group.name });
      this.host.update(update);
    } catch (error) {
      this.host.log.error('poll cycle failed', { group: group.name, error: (error as Error).message });
    }
  }
}
