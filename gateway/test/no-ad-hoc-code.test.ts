/**
 * No ad hoc code anywhere: plantgate's own source never evaluates text as code (no eval, no Function
 * constructor, no vm) but in the one loader listed here, and in the binary's bundle only the libraries
 * listed here do, each for a reason that never involves text a user sent. A new library that compiles
 * code fails this test until someone has looked at it and listed it.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');
const CODE_FROM_TEXT =
  /\beval\s*\(|\bnew\s+Function\s*\(|(?<![\w.])Function\s*\(\s*['"`]|require\(\s*['"](node:)?vm['"]\s*\)|from\s+['"](node:)?vm['"]|\bvm\.(runIn\w*|compileFunction|Script)\b/;

/** Libraries in the bundle that make functions from text, and from what. */
const REVIEWED: Record<string, string> = {
  ajv: 'compiles the JSON Schemas plantgate ships (config, operations, template parameters) into validators',
  'fast-json-stringify': "compiles the fastify routes' own response schemas into serializers",
  '@fastify/fast-json-stringify-compiler': 'the same, for fastify',
  'find-my-way': "fastify's router compiles the routes plantgate declares",
  depd: 'wraps deprecated functions of its callers to keep their arity (oidc-provider’s koa)',
  'http-assert': 'koa’s assertion helper (oidc-provider)',
  'lodash.partition': "Function('return this') to find the global object",
  'lodash.sortby': "Function('return this') to find the global object",
  'reflect-metadata': "Function('return this') to find the global object",
  '@babel/runtime': 'the regenerator runtime sets its global once',
};

/** plantgate's own files that compile text, and what text. */
const OWN_REVIEWED: Record<string, string> = {
  'installer/sea-lazy-module.ts':
    "compiles the binary's own bundles of the modules it loads only when used, read from its SEA assets",
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const file = path.join(dir, name);
    if (name === 'node_modules' || name === 'dist' || name === 'var' || name.startsWith('.')) return [];
    if (statSync(file).isDirectory()) return sourceFiles(file);
    return /\.(ts|js|cjs|mjs|py)$/.test(name) ? [file] : [];
  });
}

describe('no ad hoc code', () => {
  it("given plantgate's own source, when scanned, then nothing in it evaluates text as code", () => {
    const self = path.join(root, 'gateway', 'test', 'no-ad-hoc-code.test.ts');
    const files = [
      'gateway',
      'drivers',
      'cloud-bridge',
      'installer',
      'hardware-tests',
      'bin',
      'bench',
      'config',
    ].flatMap((d) => sourceFiles(path.join(root, d)));
    expect(files.length).toBeGreaterThan(100);
    const offenders = files
      .filter((f) => f !== self && CODE_FROM_TEXT.test(readFileSync(f, 'utf8')))
      .map((f) => path.relative(root, f).replaceAll('\\', '/'));
    expect(offenders.filter((f) => !(f in OWN_REVIEWED))).toEqual([]);
    // The loader compiles nothing but what it reads from the binary's own assets.
    const loader = readFileSync(path.join(root, 'installer', 'sea-lazy-module.ts'), 'utf8');
    expect(loader.match(/vm\.compileFunction\(/g)).toHaveLength(1);
    expect(loader).toMatch(/const source = Buffer\.from\(sea\.getRawAsset\(LAZY_ASSETS\.modules\)/);
    expect(loader).toMatch(/vm\.compileFunction\(source,/);
  });

  it('given the bundle of the binary, when its modules are scanned, then only the reviewed libraries make code from text', async () => {
    const result = await build({
      entryPoints: [path.join(root, 'installer', 'sea-entry.ts')],
      bundle: true,
      platform: 'node',
      target: 'node24',
      format: 'cjs',
      write: false,
      metafile: true,
      logLevel: 'silent',
      outfile: path.join(root, 'dist', 'scan.cjs'),
      external: ['node-gyp-build'],
    });
    const inputs = Object.keys(Object.values(result.metafile.outputs)[0]!.inputs);
    expect(inputs.length).toBeGreaterThan(1000);
    const found = new Set<string>();
    for (const input of inputs) {
      const file = path.resolve(root, input);
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch {
        continue; // esbuild's own virtual modules
      }
      if (!CODE_FROM_TEXT.test(text)) continue;
      const pkg = /node_modules[\\/]((@[^\\/]+[\\/])?[^\\/]+)/.exec(input)?.[1]?.replace('\\', '/');
      found.add(pkg ?? path.relative(root, file));
    }
    const unreviewed = [...found].filter((p) => !(p in REVIEWED));
    expect(
      unreviewed,
      'a module in the bundle makes code from text; review it and list it with its reason',
    ).toEqual([]);
    expect(found.has('ajv')).toBe(true);
  }, 60_000);
});
