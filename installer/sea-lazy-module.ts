/**
 * Modules of the single binary that load only when used. Each CLI command, the OPC UA driver and each
 * SQL client is a bundle of its own, carried in one SEA asset (with an index of where each one is) and
 * compiled here the first time it is imported. V8 keeps the source of every script it has compiled for
 * as long as the process lives, so a gateway that polls Modbus holds only the ~3 MB of code it runs, not
 * the 12 MB of everything the binary can do (the bridge, the simulators, node-opcua, three database
 * clients).
 *
 * This is the one place plantgate compiles text into code, and the text is never anything but the
 * binary's own assets, read from the executable itself: no file on disk, no input from outside.
 */
import path from 'node:path';
import sea from 'node:sea';
import vm from 'node:vm';
import { processWideMap } from './process-wide.ts';

export const LAZY_ASSETS = { index: 'lazy/index.json', modules: 'lazy/modules.cjs' } as const;

/** Module objects by name, shared by every bundle of the process (each has a copy of this file). */
const loaded = processWideMap<unknown>('plantgate.sea.lazyModules');

export function loadLazyModule(name: string): unknown {
  if (loaded.has(name)) return loaded.get(name);
  const index = JSON.parse(sea.getAsset(LAZY_ASSETS.index, 'utf8')) as Record<string, [number, number]>;
  const at = index[name];
  if (!at) throw new Error(`the binary carries no module "${name}"`);
  // A view of the executable's own pages, not a copy: only this module's part of the asset is read. The
  // bundles are ASCII (the build escapes everything else), so latin1 reads them exactly.
  const source = Buffer.from(sea.getRawAsset(LAZY_ASSETS.modules), at[0], at[1]).toString('latin1');
  const wrapper = vm.compileFunction(source, ['exports', 'require', 'module', '__filename', '__dirname'], {
    filename: `plantgate:lazy/${name}.cjs`,
  });
  const module = { exports: {} as unknown };
  // The main script's own require: built-in modules only, as in every bundle of the binary.
  wrapper(module.exports, require, module, process.execPath, path.dirname(process.execPath));
  loaded.set(name, module.exports);
  return module.exports;
}
