/**
 * Loads the gateway config: YAML (JSON is valid YAML), validated against the schema, defaults filled in,
 * then frozen. Every problem names the file, the line, the path and the reason; a config with any
 * problem is refused whole.
 */
import path from 'node:path';
import type { DriverFactory } from '../../drivers/core/index.ts';
import {
  ConfigError,
  compactStrings,
  configError,
  deepFreeze,
  parseYamlMapping,
  readConfigText,
} from '../api/config-file.ts';
import { validate } from '../api/validator.ts';
import { checkSecretFields } from '../secrets/settings.ts';
import { DRIVERS, findDriver } from '../sources/driver-registry.ts';
import {
  driverSourceSchema,
  type GatewayConfig,
  GatewayConfigSchema,
  type SourceConfigEntry,
} from './schema.ts';

export async function parseGatewayConfig(
  text: string,
  file: string,
  drivers: readonly DriverFactory[] = DRIVERS,
): Promise<GatewayConfig> {
  const problems: { pointer: string; message: string }[] = [];
  const add = (pointer: string, message: string) => problems.push({ pointer, message });
  const refuse = () => configError(text, file, problems);

  const data = parseYamlMapping(text, file, 'gateway:, sources:, …');
  for (const p of validate(GatewayConfigSchema, data)) add(p.pointer, p.message);
  if (problems.length) throw await refuse();

  const config = data as unknown as GatewayConfig;
  const ids = new Set<string>();
  config.sources.forEach((source, i) => {
    const at = `/sources/${i}`;
    if (ids.has(source.id)) add(`${at}/id`, `duplicate source id "${source.id}"`);
    ids.add(source.id);
    const driver = findDriver(source.driver, drivers);
    if (!driver) {
      add(`${at}/driver`, `must be one of ${drivers.map((d) => JSON.stringify(d.name)).join(', ')}`);
      return;
    }
    if (source.browse !== undefined && !driver.browseSchema)
      add(`${at}/browse`, `driver ${driver.name} finds no tags by browsing; list them under tags`);
    const driverProblems = validate(driverSourceSchema(driver), source);
    for (const p of driverProblems) add(`${at}${p.pointer}`, p.message);
    if (driverProblems.length === 0 && driver.check) {
      for (const p of driver.check(source as never)) add(`${at}/${p.path}`, p.message);
    }
    for (const p of checkSecretFields(driver, source.settings))
      add(`${at}/settings/${p.path.replaceAll('.', '/')}`, p.message);
  });
  if (problems.length) throw await refuse();

  const base = path.dirname(file);
  const resolved = {
    ...config,
    sources: config.sources.map((source) =>
      resolveFileFields(source, findDriver(source.driver, drivers)!, base),
    ),
    gateway: { ...config.gateway, dataDir: path.resolve(path.dirname(file), config.gateway.dataDir) },
    ...(config.link?.caFile
      ? { link: { ...config.link, caFile: path.resolve(path.dirname(file), config.link.caFile) } }
      : {}),
    file: path.resolve(file),
  };
  return deepFreeze(compactStrings(resolved));
}

/** Settings that name files (a driver's `fileFields`) are relative to the config file. */
function resolveFileFields(
  source: SourceConfigEntry,
  driver: DriverFactory,
  base: string,
): SourceConfigEntry {
  if (!driver.fileFields?.length) return source;
  const settings = structuredClone(source.settings) as Record<string, unknown>;
  for (const field of driver.fileFields) {
    const keys = field.split('.');
    let holder: Record<string, unknown> | undefined = settings;
    for (const key of keys.slice(0, -1)) holder = holder?.[key] as Record<string, unknown> | undefined;
    const last = keys.at(-1)!;
    if (holder && typeof holder[last] === 'string') holder[last] = path.resolve(base, holder[last] as string);
  }
  return { ...source, settings };
}

export async function loadGatewayConfig(
  file: string,
  drivers: readonly DriverFactory[] = DRIVERS,
): Promise<GatewayConfig> {
  return parseGatewayConfig(await readConfigText(file), file, drivers);
}

export type { ConfigProblem } from '../api/config-file.ts';
export { ConfigError };
