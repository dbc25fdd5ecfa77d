/**
 * Snapshots from monitored items: one subscription per source, its items created in calls of at most
 * MaxMonitoredItemsPerCall, grouped by sampling interval and deadband (one set of parameters a call).
 * Changes are handed on in one batch per publish. After a reconnect node-opcua transfers or re-creates
 * the subscription with its items; the handlers here stay attached to them.
 */
import {
  type ClientMonitoredItemBase,
  type ClientSession,
  ClientSubscription,
  DataChangeFilter,
  DataChangeTrigger,
  type DataValue,
  DeadbandType,
  TimestampsToReturn,
} from 'node-opcua-client';
import type { Logger } from '../core/index.ts';
import type { NodeTag } from './catalog.ts';
import { chunks, type OperationLimits } from './limits.ts';
import type { OpcuaSettings } from './settings.ts';

type Deadband = NonNullable<OpcuaSettings['subscription']['deadband']>;

export interface MonitoringEvents {
  /** Changed values, by tag index. */
  changed(batch: [number, DataValue][]): void;
  /** An item the server refused: its tag is bad with this code. */
  refused(index: number, statusCode: number, reason: string): void;
}

function filterOf(deadband: Deadband | undefined): DataChangeFilter | null {
  if (!deadband || deadband.value === 0) return null;
  return new DataChangeFilter({
    trigger: DataChangeTrigger.StatusValue,
    deadbandType: deadband.type === 'percent' ? DeadbandType.Percent : DeadbandType.Absolute,
    deadbandValue: deadband.value,
  });
}

export class Monitoring {
  private subscription: ClientSubscription | undefined;
  private pending: [number, DataValue][] = [];
  private flushScheduled = false;
  private readonly settings: OpcuaSettings;
  private readonly events: MonitoringEvents;
  private readonly log: Logger;

  constructor(settings: OpcuaSettings, events: MonitoringEvents, log: Logger) {
    this.settings = settings;
    this.events = events;
    this.log = log;
  }

  get revisedPublishingIntervalMs(): number | undefined {
    return this.subscription?.publishingInterval;
  }

  async start(session: ClientSession, nodes: readonly NodeTag[], limits: OperationLimits): Promise<number> {
    const s = this.settings.subscription;
    const subscription = ClientSubscription.create(session, {
      requestedPublishingInterval: s.publishingIntervalMs,
      // OPC 10000-4 §5.13.2: the lifetime must be at least three keep-alives.
      requestedMaxKeepAliveCount: 10,
      requestedLifetimeCount: 60,
      // Publish responses of at most 1,000 changes: a response is decoded whole before its values are
      // handed on, and ten small ones a second die young where one of 10,000 would outlive the young
      // generation and fill the old one.
      maxNotificationsPerPublish: 1000,
      publishingEnabled: true,
      priority: 10,
    });
    this.subscription = subscription;
    subscription.on('internal_error', (error: Error) =>
      this.log.warn('OPC UA subscription error', { error: error.message }),
    );

    const groups = new Map<string, { sampling: number; deadband?: Deadband; indices: number[] }>();
    nodes.forEach((node, index) => {
      if (node.unresolved !== undefined) return;
      const sampling = node.config?.samplingIntervalMs ?? s.samplingIntervalMs;
      const deadband =
        node.config?.deadband ??
        (node.tag.dataType.endsWith('[]') || node.tag.stepped ? undefined : s.deadband);
      const key = `${sampling}|${deadband?.type ?? ''}|${deadband?.value ?? ''}`;
      const group = groups.get(key) ?? { sampling, ...(deadband ? { deadband } : {}), indices: [] };
      groups.set(key, group);
      group.indices.push(index);
    });
    let created = 0;
    for (const group of groups.values()) {
      for (const slice of chunks(group.indices, limits.maxMonitoredItemsPerCall)) {
        const items = await subscription.monitorItems(
          slice.map((i) => ({ nodeId: nodes[i]!.nodeId, attributeId: 13 })),
          {
            samplingInterval: group.sampling,
            queueSize: s.queueSize,
            discardOldest: true,
            filter: filterOf(group.deadband),
          },
          TimestampsToReturn.Both,
        );
        items.monitoredItems.forEach((item: ClientMonitoredItemBase, k: number) => {
          const index = slice[k]!;
          const code = item.statusCode;
          if (code && !code.isGood()) this.events.refused(index, code.value, code.name);
          else created++;
        });
        items.on('changed', (_item: ClientMonitoredItemBase, dataValue: DataValue, k: number) =>
          this.queue(slice[k]!, dataValue),
        );
      }
    }
    return created;
  }

  async stop(): Promise<void> {
    const subscription = this.subscription;
    this.subscription = undefined;
    await subscription?.terminate().catch(() => undefined);
  }

  private queue(index: number, dataValue: DataValue): void {
    this.pending.push([index, dataValue]);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    // One publish response carries many changes; they leave the driver as one batch.
    setImmediate(() => {
      this.flushScheduled = false;
      const batch = this.pending;
      this.pending = [];
      this.events.changed(batch);
    });
  }
}
