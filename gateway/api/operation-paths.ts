/** Operation names ↔ HTTP paths, the same at the local API and the bridge: `values.atTimes` is POST …/sources/{src}/values/at-times. */
import type { OperationName } from './operations.ts';

export const OPERATION_PATHS: Record<Exclude<OperationName, 'health' | 'values.subscribe'>, string> = {
  'tags.search': 'tags/search',
  'tags.get': 'tags/get',
  'values.snapshot': 'values/snapshot',
  'values.raw': 'values/raw',
  'values.plot': 'values/plot',
  'values.processed': 'values/processed',
  'values.atTimes': 'values/at-times',
  'values.write': 'values/write',
  'tags.create': 'tags/create',
  'tags.update': 'tags/update',
  'tags.delete': 'tags/delete',
  'annotations.read': 'annotations/read',
  'annotations.create': 'annotations/create',
  'annotations.update': 'annotations/update',
  'annotations.delete': 'annotations/delete',
  'scriptTags.templates': 'script-templates/list',
  'scriptTags.create': 'script-tags/create',
  'scriptTags.update': 'script-tags/update',
  'scriptTags.delete': 'script-tags/delete',
};
