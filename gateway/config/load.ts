/**
 * Loads the gateway config: YAML (JSON is valid YAML), validated against the schema, defaults filled in,
 * then frozen. Every problem names the file, the line, the path and the reason; a config with any
 * problem is refused whole.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { PlantgateError } from '../../drivers/core/index.ts';
import { findDriver } from '../sources/driver-registry.ts';
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

export function parseGatewayConfig(text: string, file: string): GatewayConfig {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, prettyErrors: true, uniqueKeys: true });
  const problems: ConfigProblem[] = [];
  const locate = (pointer: string) => {
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
  const add = (pointer: string, message: string) =>
    problems.push({ file, ...locate(pointer), path: readablePath(pointer), message });

  for (const error of document.errors) {
    const pos = error.linePos?.[0];
    problems.push({
      file,
      ...(pos ? { line: pos.line, column: pos.col } : {}),
      path: '',
      message: error.message.split('\n')[0]!,
    });
  }
  if (problems.length) throw new ConfigError(problems);

  const data = document.toJS() as unknown;
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new ConfigError([
      { file, path: '', message: 'the file must hold a mapping (gateway:, sources:, …)' },
    ]);
  }
  for (const p of validate(GatewayConfigSchema, data)) add(p.pointer, p.message);
  if (problems.length) throw new ConfigError(problems);

  const config = data as GatewayConfig;
  const ids = new Set<string>();
  config.sources.forEach((source, i) => {
    const at = `/sources/${i}`;
    if (ids.has(source.id)) add(`${at}/id`, `duplicate source id "${source.id}"`);
    ids.add(source.id);
    const driver = findDriver(source.driver)!;
    const driverProblems = validate(driverSourceSchema(source.driver), source);
    for (const p of driverProblems) add(`${at}${p.pointer}`, p.message);
    if (driverProblems.length === 0 && driver.check) {
      for (const p of driver.check(source as never)) add(`${at}/${p.path}`, p.message);
    }
  });
  if (problems.length) throw new ConfigError(problems);

  const resolved = {
    ...config,
    gateway: { ...config.gateway, dataDir: path.resolve(path.dirname(file), config.gateway.dataDir) },
    file: path.resolve(file),
  };
  return deepFreeze(resolved);
}

export async function loadGatewayConfig(file: string): Promise<GatewayConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new ConfigError([
      { file, path: '', message: `cannot read the file: ${(error as NodeJS.ErrnoException).code ?? error}` },
    ]);
  }
  return parseGatewayConfig(text, file);
}
