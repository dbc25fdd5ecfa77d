/** tags.search and tags.get, over the driver's own search or the source's tag catalogue. */
import { hasCapability, type Tag, throwIfAborted } from '../../drivers/core/index.ts';
import type { OperationRequest } from '../api/operations.ts';
import type { Source } from '../sources/source.ts';
import { runningDriver } from './resolve.ts';

/** `*` any run, `?` one character; everything else literal; case-insensitive. */
export function globToRegExp(pattern: string): RegExp {
  const body = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${body}$`, 'is');
}

export async function searchTags(
  source: Source,
  request: OperationRequest<'tags.search'>,
  signal: AbortSignal,
) {
  const driver = runningDriver(source);
  if (hasCapability(driver, 'tagSearch')) {
    const { tags, total } = await driver.searchTags(request, signal);
    return { tags, total, page: request.page, pageSize: request.pageSize };
  }
  if (!hasCapability(driver, 'tagCatalog')) {
    return { tags: [], total: 0, page: request.page, pageSize: request.pageSize };
  }
  throwIfAborted(signal);
  const name = request.name ? globToRegExp(request.name) : undefined;
  const description = request.description?.toLowerCase();
  const matches = driver
    .listTags()
    .filter(
      (t) =>
        (!name || name.test(t.name)) &&
        (!description || t.description.toLowerCase().includes(description)) &&
        (request.units === undefined || t.units === request.units) &&
        (request.label === undefined || t.labels.includes(request.label)),
    )
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const from = (request.page - 1) * request.pageSize;
  return {
    tags: matches.slice(from, from + request.pageSize),
    total: matches.length,
    page: request.page,
    pageSize: request.pageSize,
  };
}

export async function getTags(source: Source, request: OperationRequest<'tags.get'>, signal: AbortSignal) {
  const driver = runningDriver(source);
  let found: Tag[];
  if (hasCapability(driver, 'tagSearch')) {
    found = await driver.getTags(request.tags, signal);
  } else {
    found = request.tags.map((ref) => source.findTag(ref)).filter((t): t is Tag => t !== undefined);
  }
  const known = new Set(found.flatMap((t) => [t.id, t.name]));
  const unique = [...new Map(found.map((t) => [t.id, t])).values()];
  return { tags: unique, notFound: request.tags.filter((ref) => !known.has(ref)) };
}
