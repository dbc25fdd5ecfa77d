/**
 * Loads the gateway config: YAML (JSON is valid YAML), validated against the schema, defaults filled in,
 * then frozen. Every problem names the file, the line, the path and the reason; a config with any
 * problem is refused whole.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { CORE_SCHEMA, load as loadYaml, YAMLException } from 'js-yaml';
import { type DriverFactory, PlantgateError } from '../../drivers/core/index.ts';
import { checkSecretFields } from '../secrets/settings.ts';
import { DRIVERS, findDriver } from '../sources/driver-registry.ts';
import { driverSourceSchema, type GatewayConfig, GatewayConfigSchema } from './schema.ts';
import { readablePath, validate } from './validator.ts';

export interface ConfigProblem {
  file: string;
  line?: number;
  column?: number;
  path: string;
  message: string;
}

export class ConfigError extends PlantgateError<'PG_ERR_CONFIG_INVALID'> {
  readonly problems: ConfigProblem[];

  constructor(problems: ConfigProblem[]) {
    const lines = problems.map((p) => {
      const where = p.line ? `${p.file}:${p.line}:${p.column}` : p.file;
      return `${where}: ${p.path || '(top level)'}: ${p.message}`;
    });
    super('PG_ERR_CONFIG_INVALID', `invalid configuration:\n  ${lines.join('\n  ')}`, { problems });
    this.problems = problems;
  }
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

/**
 * Lines and columns of JSON Pointers in the text, for problem reports. Loaded and built only when there
 * is a problem: the `yaml` document model that knows positions costs ten times the memory and time of
 * js-yaml's plain load, which matters for configs of many thousand tags.
 */
async function locator(text: string): Promise<(pointer: string) => { line?: number; column?: number }> {
  const { LineCounter, parseDocument } = await import('yaml');
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, uniqueKeys: false });
  return (pointer) => {
    const keys = pointer
      .split('/')
      .slice(1)
      .map((k) => (/^\d+$/.test(k) ? Number(k) : k));
    // The deepest node that exists: a missing key is reported where its parent is.
    for (let n = keys.length; n >= 0; n--) {
      const node = document.getIn(keys.slice(0, n), true) as { range?: [number, number] } | undefined;
      if (node?.range) {
        const { line, col } = lineCounter.linePos(node.range[0]);
        return { line, column: col };
      }
    }
    return {};
  };
}

export async function parseGatewayConfig(
  text: string,
  file: string,
  drivers: readonly DriverFactory[] = DRIVERS,
): Promise<GatewayConfig> {
  const problems: { pointer: string; message: string }[] = [];
  const add = (pointer: string, message: string) => problems.push({ pointer, message });
  const refuse = async () => {
    const locate = await locator(text);
    return new ConfigError(
      problems.map((p) => ({
        file,
        ...locate(p.pointer),
        path: readablePath(p.pointer),
        message: p.message,
      })),
    );
  };

  let data: unknown;
  try {
    // The YAML 1.2 core schema: plain JSON types only (a date stays a string, `on` stays a string).
    data = loadYaml(text, { schema: CORE_SCHEMA, filename: file });
  } catch (error) {
    if (!(error instanceof YAMLException)) throw error;
    const { mark } = error;
    throw new ConfigError([
      { file, line: mark.line + 1, column: mark.column + 1, path: '', message: error.reason },
    ]);
  }

  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new ConfigError([
      { file, path: '', message: 'the file must hold a mapping (gateway:, sources:, …)' },
    ]);
  }
  for (const p of validate(GatewayConfigSchema, data)) add(p.pointer, p.message);
  if (problems.length) throw await refuse();

  const config = data as GatewayConfig;
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
    const driverProblems = validate(driverSourceSchema(driver), source);
    for (const p of driverProblems) add(`${at}${p.pointer}`, p.message);
    if (driverProblems.length === 0 && driver.check) {
      for (const p of driver.check(source as never)) add(`${at}/${p.path}`, p.message);
    }
    for (const p of checkSecretFields(driver, source.settings))
      add(`${at}/settings/${p.path.replaceAll('.', '/')}`, p.message);
  });
  if (problems.length) throw await refuse();

  const resolved = {
    ...config,
    gateway: { ...config.gateway, dataDir: path.resolve(path.dirname(file), config.gateway.dataDir) },
    file: path.resolve(file),
  };
  return deepFreeze(resolved);
}

export async function loadGatewayConfig(
  file: string,
  drivers: readonly DriverFactory[] = DRIVERS,
): Promise<GatewayConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new ConfigError([
      { file, path: '', message: `cannot read the file: ${(error as NodeJS.ErrnoException).code ?? error}` },
    ]);
  }
  return parseGatewayConfig(text, file, drivers);
}
