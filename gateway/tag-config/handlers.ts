/**
 * tags.create, tags.update and tags.delete, with configureTags. Sources whose tags are listed in the
 * config (Modbus) have the config file edited, validated whole, written atomically and the source
 * restarted with it; sources whose tags live in their own source (a SQL catalogue table) change them
 * there; the others (OPC UA, script) say why they cannot.
 */
import type { YAMLSeq } from 'yaml';
import { isMap } from 'yaml';
import { type DriverFactory, hasCapability, type Tag } from '../../drivers/core/index.ts';
import { type TagGrant, tagAllowed } from '../access/policy.ts';
import type { OperationRequest } from '../api/operations.ts';
import type { GatewayConfig } from '../config/schema.ts';
import { editSourceTags } from '../config/write.ts';
import { gatewayError } from '../errors.ts';
import { findDriver } from '../sources/driver-registry.ts';
import type { Source } from '../sources/source.ts';

export interface TagConfigEnv {
  source: Source;
  grant: TagGrant;
  signal: AbortSignal;
  /** The config file and drivers, and what to do with a config the gateway wrote. */
  configFile: string;
  drivers: readonly DriverFactory[];
  adopt(next: GatewayConfig): void;
  notes?: { detail?: string };
}

function refuseOutsideGrant(env: TagConfigEnv, name: unknown) {
  if (typeof name === 'string' && !tagAllowed(env.grant, { name }))
    throw gatewayError(
      'PG_ERR_ACCESS_DENIED',
      `configureTags does not cover tag "${name}" on source "${env.source.id}"`,
    );
}

function factoryOf(env: TagConfigEnv): DriverFactory {
  return findDriver(env.source.config.driver, env.drivers)!;
}

function notConfigurable(env: TagConfigEnv, factory: DriverFactory): never {
  throw gatewayError(
    'PG_ERR_NOT_SUPPORTED',
    `source "${env.source.id}" (driver ${factory.name}) cannot create, change or delete tags: ${factory.tagsNotConfigurable ?? 'its driver does not offer it'}`,
  );
}

/** Index of a tag entry in the YAML list, by name (or id). */
function indexOf(tags: YAMLSeq, ref: string): number {
  return tags.items.findIndex((item) => isMap(item) && (item.get('name') === ref || item.get('id') === ref));
}

/** Edits the config, restarts the source with the new entry, answers the source's tag of that name. */
async function inConfig(
  env: TagConfigEnv,
  edit: (tags: YAMLSeq, doc: Parameters<Parameters<typeof editSourceTags>[2]>[1]) => string | undefined,
) {
  let name: string | undefined;
  const next = await editSourceTags(
    env.configFile,
    env.source.id,
    (tags, doc) => {
      name = edit(tags, doc);
    },
    env.drivers,
  );
  env.adopt(next);
  await env.source.reconfigure(next.sources.find((s) => s.id === env.source.id)!);
  return name === undefined ? undefined : env.source.findTag(name);
}

export async function createTag(env: TagConfigEnv, request: OperationRequest<'tags.create'>) {
  const factory = factoryOf(env);
  const def = request.definition;
  refuseOutsideGrant(env, def.name);
  const driver = env.source.driver;
  let tag: Tag | undefined;
  if (factory.tagsInConfig) {
    tag = await inConfig(env, (tags, doc) => {
      if (typeof def.name === 'string' && indexOf(tags, def.name) >= 0)
        throw gatewayError(
          'PG_ERR_CONFLICT',
          `source "${env.source.id}" already has a tag named "${def.name}"`,
        );
      const node = doc.createNode(def);
      node.flow = true;
      tags.add(node);
      return def.name as string;
    });
  } else if (driver && hasCapability(driver, 'tagConfiguration')) {
    tag = await driver.createTag(def, env.signal);
  } else notConfigurable(env, factory);
  if (env.notes) env.notes.detail = `tag created on ${env.source.id}: ${JSON.stringify(def)}`;
  return { tag };
}

export async function updateTag(env: TagConfigEnv, request: OperationRequest<'tags.update'>) {
  const factory = factoryOf(env);
  refuseOutsideGrant(env, request.tag);
  refuseOutsideGrant(env, request.changes.name);
  const driver = env.source.driver;
  let before: unknown;
  let tag: Tag | undefined;
  if (factory.tagsInConfig) {
    tag = await inConfig(env, (tags, doc) => {
      const i = indexOf(tags, request.tag);
      if (i < 0)
        throw gatewayError(
          'PG_ERR_TAG_NOT_FOUND',
          `no tag "${request.tag}" in the config of source "${env.source.id}"`,
        );
      const item = tags.items[i] as import('yaml').YAMLMap;
      before = item.toJSON();
      for (const [key, value] of Object.entries(request.changes)) {
        if (value === null) item.delete(key);
        else item.set(key, doc.createNode(value));
      }
      return (request.changes.name as string | undefined) ?? (item.get('name') as string);
    });
  } else if (driver && hasCapability(driver, 'tagConfiguration')) {
    tag = await driver.updateTag(request.tag, request.changes, env.signal);
  } else notConfigurable(env, factory);
  if (env.notes)
    env.notes.detail = `tag ${request.tag} changed on ${env.source.id}: ${before ? `${JSON.stringify(before)} → ` : ''}${JSON.stringify(request.changes)}`;
  return { tag };
}

export async function deleteTag(env: TagConfigEnv, request: OperationRequest<'tags.delete'>) {
  const factory = factoryOf(env);
  refuseOutsideGrant(env, request.tag);
  const driver = env.source.driver;
  let before: unknown;
  if (factory.tagsInConfig) {
    await inConfig(env, (tags) => {
      const i = indexOf(tags, request.tag);
      if (i < 0)
        throw gatewayError(
          'PG_ERR_TAG_NOT_FOUND',
          `no tag "${request.tag}" in the config of source "${env.source.id}"`,
        );
      before = (tags.items[i] as import('yaml').YAMLMap).toJSON();
      tags.delete(i);
      return undefined;
    });
  } else if (driver && hasCapability(driver, 'tagConfiguration')) {
    await driver.deleteTag(request.tag, env.signal);
  } else notConfigurable(env, factory);
  if (env.notes)
    env.notes.detail = `tag ${request.tag} deleted on ${env.source.id}${before ? `: ${JSON.stringify(before)}` : ''}`;
  return { deleted: request.tag };
}
