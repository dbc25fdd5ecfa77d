/**
 * The script source (driver `script`): it holds script tags and computes them from the latest values
 * of their inputs, on every input change and, for templates that move with time or tags with a period,
 * on a clock. Results are reported like any pushed value, so the core keeps them in local history.
 */
import { randomUUID } from 'node:crypto';
import { Type } from '@sinclair/typebox';
import {
  badValue,
  type Driver,
  type DriverFactory,
  type DriverHealth,
  type DriverHost,
  PlantgateError,
  type PushesValues,
  type SnapshotRead,
  type SourceConfig,
  StatusCodes,
  type Tag,
  type TagCatalog,
  type TagValue,
  type Value,
} from '../../drivers/core/index.ts';
import { type ScriptTagDefinition, ScriptTagStore } from './store.ts';
import { type Evaluator, findTemplate, type ScriptTemplate } from './templates.ts';

const CLOCK_MS = 1000;

export const ScriptSettings = Type.Object({}, { additionalProperties: false, default: {} });
export const ScriptTagConfig = Type.Object({}, { additionalProperties: false });

interface Running {
  definition: ScriptTagDefinition;
  template: ScriptTemplate;
  tag: Tag;
  evaluator: Evaluator;
  inputKeys: string[];
  nextDue: number;
}

const keyOf = (source: string, tag: string) => `${source}\u0000${tag}`;

export function tagOfDefinition(d: ScriptTagDefinition, template: ScriptTemplate): Tag {
  const output = template.output(d.parameters as never);
  return {
    id: d.id,
    name: d.name,
    description: d.description,
    units: output.units ?? '',
    dataType: output.dataType,
    labels: ['script'],
    properties: {
      template: d.template,
      templateVersion: d.templateVersion,
      inputs: d.inputs.map((i) => `${i.source}/${i.tag}`).join(', '),
      ...(d.periodMs ? { periodMs: d.periodMs } : {}),
      createdBy: d.createdBy,
      createdAt: d.createdAt,
      modifiedBy: d.modifiedBy,
      modifiedAt: d.modifiedAt,
    },
    writable: false,
    stepped: output.dataType === 'bool',
  };
}

export class ScriptDriver implements Driver, TagCatalog, SnapshotRead, PushesValues {
  readonly pushesValues = true;
  readonly recordsLocally = true;
  private readonly config: SourceConfig;
  private readonly host: DriverHost;
  private store: ScriptTagStore | undefined;
  private readonly running = new Map<string, Running>();
  private readonly inputs = new Map<string, Value>();
  private readonly dependents = new Map<string, Set<string>>();
  private readonly latest = new Map<string, Value>();
  private readonly listening = new Map<string, () => void>();
  private clock: NodeJS.Timeout | undefined;
  private state: 'stopped' | 'running' = 'stopped';
  private evaluations = 0;

  constructor(config: SourceConfig, host: DriverHost) {
    this.config = config;
    this.host = host;
  }

  async start(signal: AbortSignal): Promise<void> {
    if (!this.host.peers)
      throw new PlantgateError('PG_ERR_BAD_SETTINGS', 'a script source needs the gateway’s other sources');
    this.store = new ScriptTagStore(this.host.dataDir);
    this.state = 'running';
    for (const definition of this.store.list()) this.run(definition);
    await this.prime([...this.running.values()], signal);
    this.clock = setInterval(() => this.tick(), CLOCK_MS);
    this.clock.unref();
  }

  async stop(): Promise<void> {
    this.state = 'stopped';
    clearInterval(this.clock);
    for (const stop of this.listening.values()) stop();
    this.listening.clear();
    this.running.clear();
    this.dependents.clear();
    this.store?.close();
    this.store = undefined;
  }

  health(): DriverHealth {
    return { state: this.state, details: { scriptTags: this.running.size, evaluations: this.evaluations } };
  }

  listTags(): readonly Tag[] {
    return [...this.running.values()].map((r) => r.tag).sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  definitions(): ScriptTagDefinition[] {
    return [...this.running.values()].map((r) => r.definition);
  }

  async readSnapshot(tags: readonly Tag[]): Promise<Value[]> {
    const now = Date.now();
    return tags.map(
      (t) => this.latest.get(t.id) ?? badValue(now, StatusCodes.BadWaitingForInitialData, 'not computed yet'),
    );
  }

  /** Saves a new or changed script tag and computes it from its inputs' current values. */
  async save(
    fields: Omit<ScriptTagDefinition, 'id' | 'createdBy' | 'createdAt' | 'modifiedBy' | 'modifiedAt'>,
    by: string,
    signal: AbortSignal,
    id?: string,
  ): Promise<ScriptTagDefinition> {
    const store = this.openStore();
    const now = new Date().toISOString();
    const before = id ? this.running.get(id)?.definition : undefined;
    const definition: ScriptTagDefinition = {
      ...fields,
      id: id ?? randomUUID(),
      createdBy: before?.createdBy ?? by,
      createdAt: before?.createdAt ?? now,
      modifiedBy: by,
      modifiedAt: now,
    };
    store.put(definition);
    if (id) this.unrun(id);
    const running = this.run(definition);
    await this.prime([running], signal);
    return definition;
  }

  delete(id: string): void {
    this.openStore().delete(id);
    this.unrun(id);
    this.latest.delete(id);
  }

  private openStore(): ScriptTagStore {
    if (!this.store)
      throw new PlantgateError(
        'PG_ERR_SOURCE_UNAVAILABLE',
        `script source "${this.config.id}" is not running`,
      );
    return this.store;
  }

  private run(definition: ScriptTagDefinition): Running {
    const template = findTemplate(definition.template, definition.templateVersion);
    if (!template)
      throw new PlantgateError(
        'PG_ERR_BAD_SETTINGS',
        `script tag ${definition.name}: no template ${definition.template} v${definition.templateVersion}`,
      );
    const running: Running = {
      definition,
      template,
      tag: tagOfDefinition(definition, template),
      evaluator: template.create(definition.parameters as never),
      inputKeys: definition.inputs.map((i) => keyOf(i.source, i.tag)),
      nextDue: Date.now() + (definition.periodMs ?? CLOCK_MS),
    };
    this.running.set(definition.id, running);
    for (const [i, key] of running.inputKeys.entries()) {
      const set = this.dependents.get(key) ?? new Set<string>();
      this.dependents.set(key, set);
      set.add(definition.id);
      this.listen(definition.inputs[i]!.source);
    }
    return running;
  }

  private unrun(id: string): void {
    const running = this.running.get(id);
    if (!running) return;
    this.running.delete(id);
    for (const key of running.inputKeys) this.dependents.get(key)?.delete(id);
  }

  private listen(sourceId: string): void {
    if (this.listening.has(sourceId)) return;
    this.listening.set(
      sourceId,
      this.host.peers!.onValues(sourceId, (values) => this.onInputs(sourceId, values)),
    );
  }

  /** The inputs' current values, read once, then the tags computed from them. */
  private async prime(list: Running[], signal: AbortSignal): Promise<void> {
    const bySource = new Map<string, Set<string>>();
    for (const r of list)
      for (const i of r.definition.inputs) {
        if (this.inputs.has(keyOf(i.source, i.tag))) continue;
        if (!bySource.has(i.source)) bySource.set(i.source, new Set());
        bySource.get(i.source)!.add(i.tag);
      }
    for (const [source, tags] of bySource) {
      const ids = [...tags];
      const values = await this.host.peers!.snapshot(source, ids, signal).catch(() => []);
      values.forEach((v, k) => {
        if (!this.inputs.has(keyOf(source, ids[k]!))) this.inputs.set(keyOf(source, ids[k]!), v);
      });
    }
    this.report(list.map((r) => this.evaluate(r, Date.now(), true)));
  }

  private onInputs(sourceId: string, values: readonly TagValue[]): void {
    if (this.state !== 'running') return;
    const touched = new Set<string>();
    for (const v of values) {
      const key = keyOf(sourceId, v.tag);
      const dependents = this.dependents.get(key);
      if (!dependents?.size) continue;
      this.inputs.set(key, v);
      for (const id of dependents) touched.add(id);
    }
    if (!touched.size) return;
    const now = Date.now();
    this.report([...touched].map((id) => this.evaluate(this.running.get(id)!, now, true)));
  }

  private tick(): void {
    const now = Date.now();
    const due: Running[] = [];
    for (const r of this.running.values()) {
      if (!r.template.clocked && !r.definition.periodMs) continue;
      if (now < r.nextDue) continue;
      r.nextDue = now + (r.definition.periodMs ?? CLOCK_MS);
      due.push(r);
    }
    if (due.length) this.report(due.map((r) => this.evaluate(r, now, false)));
  }

  private evaluate(r: Running, now: number, changed: boolean): TagValue | undefined {
    this.evaluations++;
    const values = r.inputKeys.map(
      (key, i) =>
        this.inputs.get(key) ??
        badValue(
          now,
          StatusCodes.BadWaitingForInitialData,
          `input ${i + 1} (${r.definition.inputs[i]!.tag}) has no value yet`,
        ),
    );
    let out: Value | undefined;
    try {
      out = r.evaluator.evaluate(values, now, changed);
    } catch (error) {
      out = badValue(
        now,
        StatusCodes.BadCommunicationError,
        `the calculation failed: ${(error as Error).message}`,
      );
    }
    if (!out) return undefined;
    this.latest.set(r.definition.id, out);
    return { ...out, tag: r.definition.id };
  }

  private report(values: (TagValue | undefined)[]): void {
    const list = values.filter((v): v is TagValue => v !== undefined);
    if (list.length) this.host.update(list);
  }
}

export const scriptDriver: DriverFactory = {
  name: 'script',
  tagsNotConfigurable: 'script tags are made from templates with scriptTags.create, update and delete',
  settingsSchema: ScriptSettings,
  tagSchema: ScriptTagConfig,
  check: (config) =>
    config.tags.length
      ? [
          {
            path: 'tags',
            message: 'script tags are made from templates with scriptTags.create, not listed here',
          },
        ]
      : [],
  create: (config, host) => new ScriptDriver(config, host),
};
