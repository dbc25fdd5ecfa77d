/**
 * Config files (the gateway's and the bridge's): YAML (JSON is valid YAML) read as plain data, problems
 * named by file, line, column, path and reason. A file with any problem is refused whole.
 */
import { readFile } from 'node:fs/promises';
import { CORE_SCHEMA, load as loadYaml, YAMLException } from 'js-yaml';
import { PlantgateError } from '../../drivers/core/index.ts';
import { readablePath } from './validator.ts';

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

/**
 * Gives every string in a freshly parsed config a copy of its own, one per distinct value. The parser's
 * strings are slices of the file's text, and a slice keeps the whole text alive (V8's sliced strings);
 * and a config of 10,000 tags repeats `float32` or `holding` 10,000 times. Objects and arrays are
 * changed in place.
 */
export function compactStrings<T>(value: T, pool = new Map<string, string>()): T {
  const compact = (s: string): string => {
    let copy = pool.get(s);
    if (copy === undefined) {
      copy = JSON.parse(JSON.stringify(s)) as string; // a new, flat string
      pool.set(copy, copy);
    }
    return copy;
  };
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++)
      value[i] = typeof value[i] === 'string' ? compact(value[i]) : compactStrings(value[i], pool);
  } else if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const record = value as Record<string, unknown>;
    for (const key of Object.keys(record)) {
      const v = record[key];
      record[key] = typeof v === 'string' ? compact(v) : compactStrings(v, pool);
    }
  }
  return value;
}

export function deepFreeze<T>(value: T): T {
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

/** Problems given as JSON Pointers, as one ConfigError with lines and columns. */
export async function configError(
  text: string,
  file: string,
  problems: { pointer: string; message: string }[],
): Promise<ConfigError> {
  const locate = await locator(text);
  return new ConfigError(
    problems.map((p) => ({ file, ...locate(p.pointer), path: readablePath(p.pointer), message: p.message })),
  );
}

/** The file's text; a file that cannot be read is a ConfigError naming it. */
export async function readConfigText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    throw new ConfigError([
      { file, path: '', message: `cannot read the file: ${(error as NodeJS.ErrnoException).code ?? error}` },
    ]);
  }
}

/** Parses YAML into plain JSON types (the YAML 1.2 core schema: a date stays a string, `on` stays a string). */
export function parseYamlMapping(text: string, file: string, hint: string): Record<string, unknown> {
  let data: unknown;
  try {
    data = loadYaml(text, { schema: CORE_SCHEMA, filename: file });
  } catch (error) {
    if (!(error instanceof YAMLException)) throw error;
    const { mark } = error;
    throw new ConfigError([
      { file, line: mark.line + 1, column: mark.column + 1, path: '', message: error.reason },
    ]);
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new ConfigError([{ file, path: '', message: `the file must hold a mapping (${hint})` }]);
  }
  return data as Record<string, unknown>;
}
