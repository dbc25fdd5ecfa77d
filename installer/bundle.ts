/**
 * The single binary's JavaScript: esbuild bundles of the CLI. The main script is the command dispatcher;
 * each module in LAZY_MODULES (every command, the OPC UA driver, each SQL client) is a bundle of its own,
 * carried in the binary and compiled when first imported (installer/sea-lazy-module.ts). A lazy bundle
 * holds everything it imports, other lazy modules aside; what two bundles share is copied into both, which
 * is sound because no module they share keeps identity or state that must be one per process (errors are
 * told apart by code, never by class; native addons are opened once per process).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { build, type Plugin } from 'esbuild';
import { LAZY_ASSETS } from './sea-lazy-module.ts';

const root = path.resolve(import.meta.dirname, '..');

/** Modules loaded only when used, by source path: the asset name of each one's bundle. */
export const LAZY_MODULES: Record<string, string> = {
  'gateway/cli/gateway-command.ts': 'gateway-command',
  'gateway/cli/bridge-command.ts': 'bridge-command',
  'gateway/cli/enroll-command.ts': 'enroll-command',
  'gateway/cli/config-check-command.ts': 'config-check-command',
  'gateway/cli/query-command.ts': 'query-command',
  'gateway/cli/demo-command.ts': 'demo-command',
  'gateway/cli/sim-command.ts': 'sim-command',
  'gateway/cli/opcua-command.ts': 'opcua-command',
  'gateway/cli/audit-command.ts': 'audit-command',
  'gateway/cli/secrets-command.ts': 'secrets-command',
  'gateway/cli/token-command.ts': 'token-command',
  'gateway/cli/console-url-command.ts': 'console-url-command',
  'drivers/opcua/driver.ts': 'opcua-driver',
  'drivers/sql/clients/postgres-client.ts': 'sql-postgres-client',
  'drivers/sql/clients/mysql-client.ts': 'sql-mysql-client',
  'drivers/sql/clients/mssql-client.ts': 'sql-mssql-client',
};

const shim = (file: string) => JSON.stringify(path.join(root, 'installer', file));

/** Native addons from SEA assets, package files unpacked on demand, and lazy modules from their assets. */
function seaPlugin(entry: string): Plugin {
  return {
    name: 'sea',
    setup(b) {
      // serialport asks node-gyp-build for its addon; sodium-native's binding.js asks require-addon.
      b.onResolve({ filter: /^node-gyp-build$/ }, () => ({ path: 'node-gyp-build', namespace: 'sea-addon' }));
      b.onLoad({ filter: /.*/, namespace: 'sea-addon' }, () => ({
        contents: `module.exports = () => require(${shim('sea-native-addon.ts')}).loadSerialport();`,
        resolveDir: root,
        loader: 'js',
      }));
      b.onLoad({ filter: /sodium-native[\\/]binding\.js$/ }, () => ({
        contents: `module.exports = require(${shim('sea-native-addon.ts')}).loadAddon('sodium');`,
        resolveDir: root,
        loader: 'js',
      }));
      // Modules that read their package's files beside them learn where those files were unpacked.
      b.onLoad({ filter: /node_modules[\\/]node-opcua-(server|nodesets)[\\/]dist[\\/].*\.js$/ }, (args) => {
        const name = /node_modules[\\/](node-opcua-(?:server|nodesets))[\\/]/.exec(args.path)![1]!;
        const source = readFileSync(args.path, 'utf8');
        if (!source.includes('import.meta.dirname')) return undefined;
        return {
          contents: source.replaceAll(
            'import.meta.dirname',
            `require(${shim('sea-package-files.ts')}).packageDistFolder(${JSON.stringify(name)})`,
          ),
          resolveDir: path.dirname(args.path),
          loader: 'js',
        };
      });
      // A dynamic import of a lazy module (other than the one being bundled) loads its asset instead.
      b.onResolve({ filter: /\.ts$/ }, (args) => {
        if (args.kind !== 'dynamic-import') return undefined;
        const source = path.relative(root, path.resolve(args.resolveDir, args.path)).replaceAll('\\', '/');
        const name = LAZY_MODULES[source];
        return name && source !== entry ? { path: name, namespace: 'sea-lazy' } : undefined;
      });
      b.onLoad({ filter: /.*/, namespace: 'sea-lazy' }, (args) => ({
        contents: `module.exports = require(${shim('sea-lazy-module.ts')}).loadLazyModule(${JSON.stringify(args.path)});`,
        resolveDir: root,
        loader: 'js',
      }));
    },
  };
}

/**
 * One bundle of `entry` (relative to the repository), as ASCII bytes. A lazy module that another module
 * of the bundle imports statically would be in it twice (once inside, once as its own asset, loaded by
 * its dynamic import): the build refuses that.
 */
async function bundleOne(entry: string): Promise<Buffer> {
  const result = await build({
    absWorkingDir: root,
    entryPoints: [path.join(root, entry)],
    bundle: true,
    platform: 'node',
    target: 'node24',
    format: 'cjs',
    write: false,
    metafile: true,
    outfile: path.join(root, 'dist', 'bundle.cjs'),
    legalComments: 'none',
    // V8 keeps a script's source in the heap for as long as the process lives, as two bytes a character
    // if a single character is outside Latin-1: ASCII only (non-ASCII escaped) and no whitespace keep it
    // at its smallest. Names stay, so stack traces still read.
    charset: 'ascii',
    minifyWhitespace: true,
    logLevel: 'warning',
    // import.meta.url is only read on the development path (not in the binary); silence the CJS warning.
    logOverride: { 'empty-import-meta': 'silent' },
    plugins: [seaPlugin(entry)],
  });
  const inlined = Object.keys(result.metafile.inputs).filter(
    (input) => input !== entry && input in LAZY_MODULES,
  );
  if (inlined.length)
    throw new Error(
      `${entry} imports ${inlined.join(', ')} statically; lazy modules must be imported with import()`,
    );
  // esbuild leaves a character of a regular expression literal as it is; one is enough to make V8 store
  // the whole script as two-byte. \uXXXX means the same in strings, templates, regexes and names.
  const source = result.outputFiles[0]!.text;
  return Buffer.from(
    source.replace(/[^ -~\t\n\r]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`),
    'latin1',
  );
}

/**
 * The main script and every lazy module's bundle in `dir`: the main file, and the assets to carry. The
 * lazy bundles travel as one asset with an index beside it: Node reads the name of every asset when it
 * starts, and each name read pulls the pages around it into memory (half a megabyte with the page
 * cache's large folios), so one asset costs less than sixteen.
 */
export async function bundleAll(dir: string): Promise<{ main: string; assets: Record<string, string> }> {
  mkdirSync(path.join(dir, 'lazy'), { recursive: true });
  const main = path.join(dir, 'plantgate.cjs');
  writeFileSync(main, await bundleOne('installer/sea-entry.ts'));
  const index: Record<string, [number, number]> = {};
  const parts: Buffer[] = [];
  let offset = 0;
  for (const [entry, name] of Object.entries(LAZY_MODULES)) {
    const code = await bundleOne(entry);
    index[name] = [offset, code.length];
    parts.push(code);
    offset += code.length;
  }
  const modules = path.join(dir, 'lazy', 'modules.cjs');
  const indexFile = path.join(dir, 'lazy', 'index.json');
  writeFileSync(modules, Buffer.concat(parts));
  writeFileSync(indexFile, JSON.stringify(index));
  return { main, assets: { [LAZY_ASSETS.index]: indexFile, [LAZY_ASSETS.modules]: modules } };
}
