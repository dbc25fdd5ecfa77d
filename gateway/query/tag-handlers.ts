/** tags.search and tags.get, over the driver's own search or the source's tag catalogue. */
import { hasCapability, type Tag, throwIfAborted } from '../../drivers/core/index.ts';
import { type TagGrant, tagAllowed } from '../access/policy.ts';
import type { OperationRequest } from '../api/operations.ts';
import type { Source } from '../sources/source.ts';
import { resolveTags, runningDriver } from './resolve.ts';

/** `*` any run, `?` one character; everything else literal; case-insensitive unless asked otherwise. */
export function globToRegExp(pattern: string, ignoreCase = true): RegExp {
  const body = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${body}$`, ignoreCase ? 'is' : 's');
}

export async function searchTags(
  source: Source,
  request: OperationRequest<'tags.search'>,
  signal: AbortSignal,
  grant: TagGrant,
) {
  const driver = runningDriver(source);
  if (hasCapability(driver, 'tagSearch')) {
    // A driver that searches itself cannot page by grant: tags outside it are taken out of its page.
    const { tags, total } = await driver.searchTags(request, signal);
    const visible = tags.filter((t) => tagAllowed(grant, t));
    return {
      tags: visible,
      total: total - (tags.length - visible.length),
      page: request.page,
      pageSize: request.pageSize,
    };
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
        tagAllowed(grant, t) &&
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

export async function getTags(
  source: Source,
  request: OperationRequest<'tags.get'>,
  signal: AbortSignal,
  grant: TagGrant,
) {
  const resolved = await resolveTags(source, request.tags, signal, grant);
  const found = resolved.map((r) => r.tag).filter((t): t is Tag => t !== undefined);
  const known = new Set(found.flatMap((t) => [t.id, t.name]));
  const unique = [...new Map(found.map((t) => [t.id, t])).values()];
  return { tags: unique, notFound: request.tags.filter((ref) => !known.has(ref)) };
}
