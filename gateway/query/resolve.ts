/** Resolving what a request names: the running driver, the tags, the history to read from. */
import {
  type Driver,
  hasCapability,
  PlantgateError,
  type RawQuery,
  type Tag,
  type Value,
} from '../../drivers/core/index.ts';
import { type TagGrant, tagAllowed } from '../access/policy.ts';
import { gatewayError } from '../errors.ts';
import type { HistoryStore } from '../history/store.ts';
import type { Source } from '../sources/source.ts';

export function runningDriver(source: Source): Driver {
  const driver = source.driver;
  if (!driver) {
    const health = source.health();
    throw new PlantgateError(
      'PG_ERR_SOURCE_UNAVAILABLE',
      `source "${source.id}" is ${health.state}${health.message ? `: ${health.message}` : ''}`,
    );
  }
  return driver;
}

export interface ResolvedTag {
  ref: string;
  tag?: Tag;
}

/**
 * Finds the tags a request names. A tag outside the caller's grant is answered as unknown, so a caller
 * learns nothing of tags it may not read.
 */
export async function resolveTags(
  source: Source,
  refs: readonly string[],
  signal: AbortSignal,
  grant: TagGrant,
): Promise<ResolvedTag[]> {
  const driver = runningDriver(source);
  const visible = (tag: Tag | undefined) => (tag && tagAllowed(grant, tag) ? tag : undefined);
  if (hasCapability(driver, 'tagSearch')) {
    const found = await driver.getTags(refs, signal);
    const byRef = new Map<string, Tag>();
    for (const tag of found) {
      byRef.set(tag.id, tag);
      if (!byRef.has(tag.name)) byRef.set(tag.name, tag);
    }
    return refs.map((ref) => ({ ref, tag: visible(byRef.get(ref)) }) as ResolvedTag);
  }
  return refs.map((ref) => ({ ref, tag: visible(source.findTag(ref)) }) as ResolvedTag);
}

export const notFound = (ref: string) => ({ code: 'PG_ERR_TAG_NOT_FOUND', message: `no tag "${ref}"` });

/**
 * Raw samples from the source's own history, or from local history for sources (or tags of a source)
 * whose values the gateway records itself.
 */
export async function readRawSamples(
  source: Source,
  history: HistoryStore,
  tag: Tag,
  query: RawQuery,
  signal: AbortSignal,
): Promise<Value[]> {
  const driver = runningDriver(source);
  if (hasCapability(driver, 'rawHistoryRead') && (driver.keepsHistory?.(tag) ?? true)) {
    const values: Value[] = [];
    for await (const chunk of driver.readRaw(tag, query, signal)) values.push(...chunk);
    return values;
  }
  if (hasCapability(driver, 'pushesValues') && driver.recordsLocally)
    return history.readRaw(source.id, tag.id, query);
  throw gatewayError(
    'PG_ERR_NO_HISTORY',
    `source "${source.id}" keeps no history and does not record values locally`,
  );
}
