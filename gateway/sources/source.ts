/**
 * One data source: its driver, its state, and where its values go. Each source starts, stops and fails
 * on its own; a source that fails to start is retried with back-off and never stops the others.
 */
import path from 'node:path';
import {
  capabilitiesOf,
  type Driver,
  type DriverFactory,
  type DriverHost,
  hasCapability,
  type Logger,
  type PeerValues,
  type Tag,
  type TagValue,
} from '../../drivers/core/index.ts';
import type { SourceConfigEntry } from '../config/schema.ts';
import type { HistoryStore } from '../history/store.ts';
import type { Sealer } from '../secrets/sealer.ts';
import { openSecretFields } from '../secrets/settings.ts';

export type SourceState = 'disabled' | 'starting' | 'running' | 'degraded' | 'failed' | 'stopped';
export type ValuesListener = (values: readonly TagValue[]) => void;

export interface SourceDeps {
  history: HistoryStore;
  log: Logger;
  dataDir: string;
  /** Opens sealed settings; asked for only when a source has some. */
  sealer: () => Sealer;
  /** The other sources' values, for drivers that compute from them. */
  peers?: PeerValues;
  /** Where the drivers' numeric observations go (metrics). */
  observe?: (source: string, name: string, value: number, labels?: Record<string, string>) => void;
}

export interface SourceHealth {
  id: string;
  driver: string;
  state: SourceState;
  message?: string;
  capabilities: string[];
  tags: number;
  details?: Record<string, unknown>;
}

export class Source {
  readonly id: string;
  private entry: SourceConfigEntry;
  private readonly factory: DriverFactory;
  private readonly deps: SourceDeps;
  private readonly listeners = new Set<ValuesListener>();
  private driverInstance: Driver | undefined;
  private tagIndex = new Map<string, Tag>();
  private state: SourceState;
  private lastError: string | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private failures = 0;
  private abort = new AbortController();
  /** Blots this source's secrets out of text that leaves it (logs, health, value errors). */
  private redact: (text: string) => string = (text) => text;
  private holdsSecrets = false;

  constructor(config: SourceConfigEntry, factory: DriverFactory, deps: SourceDeps) {
    this.id = config.id;
    this.entry = config;
    this.factory = factory;
    this.deps = deps;
    this.state = config.enabled ? 'stopped' : 'disabled';
  }

  get config(): SourceConfigEntry {
    return this.entry;
  }

  /** Runs the source with a changed config entry (its tags changed): stopped, then started anew. */
  async reconfigure(entry: SourceConfigEntry): Promise<void> {
    await this.stop();
    this.entry = entry;
    this.state = entry.enabled ? 'stopped' : 'disabled';
    await this.start();
  }

  /** The running driver; undefined while the source is disabled, starting or failed. */
  get driver(): Driver | undefined {
    return this.state === 'running' || this.state === 'degraded' ? this.driverInstance : undefined;
  }

  async start(): Promise<void> {
    if (!this.entry.enabled) return;
    this.abort = new AbortController();
    this.state = 'starting';
    try {
      const opened = openSecretFields(this.factory, this.entry.settings, this.id, this.deps.sealer);
      this.redact = opened.redact;
      this.holdsSecrets = opened.holdsSecrets;
      const driver = this.factory.create({ ...this.entry, settings: opened.settings } as never, this.host());
      this.driverInstance = driver;
      await driver.start(this.abort.signal);
      // After start: a driver that browses its source knows its tags only once connected.
      this.indexTags(driver);
      this.state = 'running';
      this.failures = 0;
      this.lastError = undefined;
    } catch (error) {
      this.state = 'failed';
      this.lastError = this.redact((error as Error).message);
      this.failures++;
      const delay = Math.min(60_000, 1000 * 2 ** Math.min(this.failures - 1, 6));
      this.deps.log.error('source failed to start', {
        source: this.id,
        error: this.lastError,
        retryInMs: delay,
      });
      await this.driverInstance?.stop().catch(() => undefined);
      this.driverInstance = undefined;
      if (!this.abort.signal.aborted) {
        this.retryTimer = setTimeout(() => void this.start(), delay);
        this.retryTimer.unref();
      }
    }
  }

  async stop(): Promise<void> {
    this.abort.abort(new Error('the source is stopping'));
    clearTimeout(this.retryTimer);
    const driver = this.driverInstance;
    this.driverInstance = undefined;
    if (driver) await driver.stop();
    if (this.entry.enabled) this.state = 'stopped';
  }

  /**
   * Runs an operation on this source's driver and keeps its secrets out of what comes back: answers and
   * errors of a source that holds secrets are blotted, in case its driver repeats one.
   */
  async guarded<T>(operation: () => Promise<T>): Promise<T> {
    if (!this.holdsSecrets) return operation();
    let answer: T;
    try {
      answer = await operation();
    } catch (error) {
      if (error instanceof Error) error.message = this.redact(error.message);
      throw error;
    }
    return JSON.parse(this.redact(JSON.stringify(answer))) as T;
  }

  onValues(listener: ValuesListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Reads the driver's tag catalogue again, after its tags changed (script tags, configured tags). */
  indexTags(driver: Driver | undefined = this.driverInstance): void {
    const index = new Map<string, Tag>();
    if (driver && hasCapability(driver, 'tagCatalog')) {
      for (const tag of driver.listTags()) {
        index.set(tag.id, tag);
        if (!index.has(tag.name)) index.set(tag.name, tag);
      }
    }
    this.tagIndex = index;
  }

  /** A configured or browsed tag by id or name (drivers with a tag catalogue). */
  findTag(ref: string): Tag | undefined {
    return this.tagIndex.get(ref);
  }

  health(): SourceHealth {
    const driverHealth = this.driverInstance?.health();
    let state = this.state;
    if (state === 'running' && driverHealth?.state === 'degraded') state = 'degraded';
    const message = this.lastError ?? driverHealth?.message;
    return {
      id: this.id,
      driver: this.entry.driver,
      state,
      ...(message ? { message: this.redact(message) } : {}),
      capabilities: this.driverInstance ? capabilitiesOf(this.driverInstance) : [],
      tags:
        this.driverInstance && hasCapability(this.driverInstance, 'tagCatalog')
          ? this.driverInstance.listTags().length
          : this.entry.tags.length,
      ...(driverHealth?.details
        ? { details: JSON.parse(this.redact(JSON.stringify(driverHealth.details))) }
        : {}),
    };
  }

  private host(): DriverHost {
    const log = this.deps.log;
    const clean = (fields?: Record<string, unknown>) =>
      fields ? (JSON.parse(this.redact(JSON.stringify(fields))) as Record<string, unknown>) : undefined;
    const sourceLog: Logger = {
      debug: (m, f) => log.debug(this.redact(m), { source: this.id, ...clean(f) }),
      info: (m, f) => log.info(this.redact(m), { source: this.id, ...clean(f) }),
      warn: (m, f) => log.warn(this.redact(m), { source: this.id, ...clean(f) }),
      error: (m, f) => log.error(this.redact(m), { source: this.id, ...clean(f) }),
    };
    return {
      update: (reported) => {
        // A driver that puts a secret into a value's error text does not get it past the source.
        const values = this.holdsSecrets
          ? reported.map((v) => (v.error === undefined ? v : { ...v, error: this.redact(v.error) }))
          : reported;
        const driver = this.driverInstance;
        if (driver && hasCapability(driver, 'pushesValues') && driver.recordsLocally) {
          try {
            this.deps.history.record(this.id, values);
          } catch (error) {
            sourceLog.error('local history write failed', { error: (error as Error).message });
          }
        }
        for (const listener of this.listeners) listener(values);
      },
      log: sourceLog,
      metric: (name, value, labels) => this.deps.observe?.(this.id, name, value, labels),
      dataDir: path.join(this.deps.dataDir, 'sources', this.id),
      pkiDir: path.join(this.deps.dataDir, 'pki'),
      ...(this.deps.peers ? { peers: this.deps.peers } : {}),
    };
  }
}
