/** Test helpers for drivers: a host that records what the driver reports. Used by tests only. */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { DriverHost, Logger } from './host.ts';
import type { Tag, TagValue } from './model.ts';

export class RecordingHost implements DriverHost {
  readonly updates: TagValue[][] = [];
  readonly latest = new Map<string, TagValue>();
  readonly logs: { level: string; message: string; fields?: Record<string, unknown> }[] = [];
  readonly dataDir = mkdtempSync(path.join(os.tmpdir(), 'plantgate-driver-'));
  pkiDir = path.join(this.dataDir, 'pki');
  readonly log: Logger = {
    debug: (message, fields) => this.logs.push({ level: 'debug', message, ...(fields ? { fields } : {}) }),
    info: (message, fields) => this.logs.push({ level: 'info', message, ...(fields ? { fields } : {}) }),
    warn: (message, fields) => this.logs.push({ level: 'warn', message, ...(fields ? { fields } : {}) }),
    error: (message, fields) => this.logs.push({ level: 'error', message, ...(fields ? { fields } : {}) }),
  };
  private waiters: (() => void)[] = [];

  update(values: readonly TagValue[]): void {
    this.updates.push([...values]);
    for (const v of values) this.latest.set(v.tag, v);
    for (const wake of this.waiters.splice(0)) wake();
  }

  metric(): void {}

  /** Resolves once `predicate` holds for the values reported so far; rejects after `timeoutMs`. */
  async waitFor(
    predicate: (latest: Map<string, TagValue>) => boolean,
    timeoutMs = 10_000,
    what = 'values',
  ): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(this.latest)) {
      const left = deadline - Date.now();
      if (left <= 0) {
        const seen = JSON.stringify([...this.latest.values()].slice(0, 20));
        throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; latest: ${seen}`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 250));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Waits for `count` more updates than have arrived so far. */
  async nextUpdates(count = 1, timeoutMs = 10_000): Promise<void> {
    const target = this.updates.length + count;
    const deadline = Date.now() + timeoutMs;
    while (this.updates.length < target) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${count} update(s)`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

/** A float64 tag of that name, as a driver's catalogue would give it; for tests that make tags by hand. */
export function numericTag(name: string, extra: Partial<Tag> = {}): Tag {
  return {
    id: name,
    name,
    description: '',
    units: '',
    dataType: 'float64',
    labels: [],
    properties: {},
    writable: true,
    stepped: false,
    ...extra,
  };
}

/** Mulberry32: a small seeded generator, so property tests and benchmarks repeat exactly. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
