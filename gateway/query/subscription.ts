/**
 * values.subscribe: the current values first, then every `publishInterval` the tags that changed since
 * the last push. Values come from what the source's driver reports (polled or subscribed); nothing is
 * read from a device on a subscriber's behalf.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { badValue, hasCapability, StatusCodes, type TagValue } from '../../drivers/core/index.ts';
import type { TagGrant } from '../access/policy.ts';
import type { OperationRequest, WireTagValue } from '../api/operations.ts';
import type { Source } from '../sources/source.ts';
import { notFound, resolveTags, runningDriver } from './resolve.ts';
import { toWire } from './wire.ts';

const keyOf = (v: TagValue) => `${v.status}|${v.statusCode ?? ''}|${JSON.stringify(v.value)}`;

export async function* subscribe(
  source: Source,
  request: OperationRequest<'values.subscribe'>,
  signal: AbortSignal,
  grant: TagGrant,
): AsyncGenerator<{ values: WireTagValue[] }> {
  const driver = runningDriver(source);
  const resolved = await resolveTags(source, request.tags, signal, grant);
  // A tag may be asked for by id and by name; answer under each name it was asked by.
  const refsById = new Map<string, string[]>();
  for (const r of resolved) if (r.tag) refsById.set(r.tag.id, [...(refsById.get(r.tag.id) ?? []), r.ref]);
  const lastSent = new Map<string, string>();
  const pending = new Map<string, TagValue>();
  const unsubscribe = source.onValues((values) => {
    for (const v of values) {
      if (refsById.has(v.tag) && lastSent.get(v.tag) !== keyOf(v)) pending.set(v.tag, v);
    }
  });
  try {
    const now = Date.now();
    const first: WireTagValue[] = [];
    const known = resolved.filter((r) => r.tag).map((r) => r.tag!);
    const current =
      hasCapability(driver, 'snapshotRead') && known.length ? await driver.readSnapshot(known, signal) : [];
    known.forEach((tag, i) => {
      const v = current[i] ?? badValue(now, StatusCodes.BadWaitingForInitialData, 'no value yet');
      lastSent.set(tag.id, keyOf({ tag: tag.id, ...v }));
      pending.delete(tag.id);
      for (const ref of refsById.get(tag.id)!) first.push({ tag: ref, ...toWire(v) });
    });
    for (const r of resolved) {
      if (!r.tag)
        first.push({
          tag: r.ref,
          ...toWire(badValue(now, StatusCodes.BadNodeIdUnknown, notFound(r.ref).message)),
        });
    }
    yield { values: first };
    while (!signal.aborted) {
      try {
        await sleep(request.publishInterval, undefined, { signal });
      } catch {
        return;
      }
      if (pending.size === 0) continue;
      const batch: WireTagValue[] = [];
      for (const [id, v] of pending) {
        lastSent.set(id, keyOf(v));
        for (const ref of refsById.get(id)!) batch.push({ tag: ref, ...toWire(v) });
      }
      pending.clear();
      yield { values: batch };
    }
  } finally {
    unsubscribe();
  }
}
