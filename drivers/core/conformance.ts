/**
 * The conformance suite: the same scenarios for every driver, each run against its real peer. A driver
 * test file calls `describeDriverConformance` with a setup that starts the peer and a started driver
 * and says which values the peer serves. A driver that pushes values is watched through its host; one
 * that does not (a historian) is asked with snapshot reads.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { capabilitiesOf, type Driver, hasCapability } from './driver.ts';
import type { Tag, TagValueData, Value } from './model.ts';
import type { RecordingHost } from './testing.ts';

export interface ConformanceFixture {
  driver: Driver;
  host: RecordingHost;
  /** Tags (by id) whose latest value the peer serves, and that value. */
  served: { tag: string; value: TagValueData }[];
  /** Writable tags and a new value for each, different from what is served. */
  writes: { tag: string; value: TagValueData }[];
  /** A writable tag and a value its type cannot hold. */
  badWrite: { tag: string; value: TagValueData };
  /** A tag configured at a point the peer does not have: its value must be bad with a protocol code. */
  missing: string;
  /** A tag that is not writable. */
  readOnly: string;
  teardown(): Promise<void>;
}

const near = (actual: unknown, expected: TagValueData) => {
  if (typeof expected === 'number' && typeof actual === 'number') {
    expect(actual).toBeCloseTo(expected, Math.abs(expected) > 1e6 ? 0 : 4);
  } else {
    expect(actual).toEqual(expected);
  }
};

export function describeDriverConformance(name: string, setup: () => Promise<ConformanceFixture>): void {
  describe(`driver conformance: ${name}`, () => {
    let f: ConformanceFixture;
    const tagsById = new Map<string, Tag>();
    const tag = (id: string) => {
      const t = tagsById.get(id);
      if (!t) throw new Error(`the driver lists no tag ${id}`);
      return t;
    };
    const signal = () => new AbortController().signal;

    /** The latest value of each tag: pushed through the host, or read with a snapshot. */
    const current = async (): Promise<Map<string, Value>> => {
      if (hasCapability(f.driver, 'pushesValues')) return f.host.latest;
      if (!hasCapability(f.driver, 'snapshotRead')) throw new Error('no snapshot read');
      const tags = [...tagsById.values()];
      const values = await f.driver.readSnapshot(tags, signal());
      return new Map(tags.map((t, i) => [t.id, values[i]!]));
    };
    const waitFor = async (predicate: (latest: Map<string, Value>) => boolean, what: string) => {
      if (hasCapability(f.driver, 'pushesValues')) return f.host.waitFor(predicate, 15_000, what);
      const deadline = Date.now() + 15_000;
      let latest = await current();
      while (!predicate(latest)) {
        if (Date.now() > deadline)
          throw new Error(`timed out waiting for ${what}; latest: ${JSON.stringify([...latest])}`);
        await new Promise((resolve) => setTimeout(resolve, 200));
        latest = await current();
      }
    };

    beforeAll(async () => {
      f = await setup();
      if (hasCapability(f.driver, 'tagCatalog')) for (const t of f.driver.listTags()) tagsById.set(t.id, t);
      else if (hasCapability(f.driver, 'tagSearch')) {
        const ids = [...f.served, ...f.writes, f.badWrite].map((s) => s.tag).concat(f.missing, f.readOnly);
        for (const t of await f.driver.getTags([...new Set(ids)], signal())) tagsById.set(t.id, t);
      }
    }, 60_000);
    afterAll(async () => {
      await f?.teardown();
    });

    it('given a started driver, when asked, then it reports its capabilities and is not failed', () => {
      expect(capabilitiesOf(f.driver)).toEqual(expect.arrayContaining(['snapshotRead', 'valueWrite']));
      expect(['running', 'degraded', 'starting']).toContain(f.driver.health().state);
    });

    it('given configured tags, when the catalogue is listed, then every served tag is there with its type', () => {
      expect(hasCapability(f.driver, 'tagCatalog') || hasCapability(f.driver, 'tagSearch')).toBe(true);
      for (const { tag: id } of f.served) expect(tag(id).dataType).toMatch(/^[a-z0-9]+(\[\])?$/);
    });

    it('given the peer serves values, when they are reported, then each tag has the served value and good quality', async () => {
      await waitFor((latest) => f.served.every((s) => latest.get(s.tag)?.status === 'good'), 'good values');
      const latest = await current();
      for (const s of f.served) near(latest.get(s.tag)!.value, s.value);
    });

    it('given a tag at a point the peer lacks, when read, then only that tag is bad and keeps the protocol code', async () => {
      await waitFor((latest) => latest.get(f.missing)?.status === 'bad', `bad ${f.missing}`);
      const latest = await current();
      const missing = latest.get(f.missing)!;
      expect(missing.value).toBeNull();
      expect(typeof missing.statusCode).toBe('number');
      expect(missing.error).toBeTruthy();
      for (const s of f.served) expect(latest.get(s.tag)!.status).toBe('good');
    });

    it('given the snapshot capability, when read, then it answers the latest value of each tag in order', async () => {
      if (!hasCapability(f.driver, 'snapshotRead')) throw new Error('no snapshot read');
      const values = await f.driver.readSnapshot(
        f.served.map((s) => tag(s.tag)),
        signal(),
      );
      expect(values).toHaveLength(f.served.length);
      values.forEach((v, i) => {
        expect(v.status).toBe('good');
        near(v.value, f.served[i]!.value);
      });
    });

    it('given writable tags, when written, then each gets its own result and the new value is read back', async () => {
      if (!hasCapability(f.driver, 'valueWrite')) throw new Error('no value write');
      const requests = [
        ...f.writes.map((w) => ({ tag: tag(w.tag), value: w.value })),
        { tag: tag(f.readOnly), value: 1 },
        { tag: tag(f.badWrite.tag), value: f.badWrite.value },
      ];
      const results = await f.driver.writeValues(requests, signal());
      expect(results).toHaveLength(requests.length);
      for (const r of results.slice(0, f.writes.length)) expect(r).toEqual({ ok: true });
      expect(results[f.writes.length]).toMatchObject({ ok: false, code: 'PG_ERR_TAG_NOT_WRITABLE' });
      expect(results[f.writes.length + 1]).toMatchObject({ ok: false, code: 'PG_ERR_BAD_VALUE' });
      await waitFor(
        (latest) =>
          f.writes.every((w) => {
            const v = latest.get(w.tag)?.value;
            return typeof w.value === 'number' && typeof v === 'number'
              ? Math.abs(v - w.value) < 1e-3
              : JSON.stringify(v) === JSON.stringify(w.value);
          }),
        'written values read back',
      );
    });

    it('given a cancelled signal, when writing, then the driver refuses with PG_ERR_ABORTED and writes nothing', async () => {
      if (!hasCapability(f.driver, 'valueWrite')) throw new Error('no value write');
      const controller = new AbortController();
      controller.abort(new Error('cancelled by the test'));
      const w = f.writes[0]!;
      const outcome = await f.driver
        .writeValues([{ tag: tag(w.tag), value: w.value }], controller.signal)
        .then(
          (results) => results[0],
          (error: { code?: string }) => ({ ok: false, code: error.code }),
        );
      expect(outcome).toMatchObject({ ok: false, code: 'PG_ERR_ABORTED' });
    });

    it('given a running driver, when stopped, then it reports stopped and no more values', async () => {
      await f.driver.stop();
      expect(f.driver.health().state).toBe('stopped');
      const count = f.host.updates.length;
      await new Promise((resolve) => setTimeout(resolve, 600));
      expect(f.host.updates.length).toBe(count);
      if (!hasCapability(f.driver, 'pushesValues') && hasCapability(f.driver, 'snapshotRead')) {
        // A stopped source answers nothing from its peer.
        const after = await f.driver.readSnapshot([tag(f.served[0]!.tag)], signal()).catch(() => []);
        for (const v of after) expect(v.status).toBe('bad');
      }
    });
  });
}
