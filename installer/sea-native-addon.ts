/**
 * Native addons inside the single binary: each travels as an SEA asset and is loaded with
 * `process.dlopen`, from a fresh private folder (mkdtemp, mode 0700) that is removed right after, so no
 * other account can swap the library between write and load. The bundle routes `node-gyp-build`
 * (serialport) and sodium-native's binding loader here.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sea from 'node:sea';
import { processWideMap } from './process-wide.ts';

export const NATIVE_ASSETS = {
  serialport: 'native/serialport.node',
  sodium: 'native/sodium.node',
} as const;

/** Addons by name, shared by every bundle of the process, so each library is opened once. */
const loaded = processWideMap<unknown>('plantgate.sea.addons');

export function loadAddon(name: keyof typeof NATIVE_ASSETS): unknown {
  if (loaded.has(name)) return loaded.get(name);
  let dir: string | undefined;
  try {
    dir = mkdtempSync(path.join(os.tmpdir(), 'plantgate-native-'));
    const file = path.join(dir, `${name}.node`);
    writeFileSync(file, new Uint8Array(sea.getRawAsset(NATIVE_ASSETS[name])), { mode: 0o500 });
    const module = { exports: {} as unknown };
    process.dlopen(module, file);
    loaded.set(name, module.exports);
    return module.exports;
  } finally {
    // Linux keeps a loaded library mapped after its file is gone; Windows refuses, and the folder stays.
    if (dir) rmSync(dir, { recursive: true, force: true, maxRetries: 0 });
  }
}

/** serialport's loader: if the addon cannot load, serial (RTU) sources fail with the reason; the rest works. */
export function loadSerialport(): unknown {
  try {
    return loadAddon('serialport');
  } catch (error) {
    const reason = `serial ports are unavailable: ${(error as Error).message}`;
    return new Proxy(
      {},
      {
        get: () => () => {
          throw new Error(reason);
        },
      },
    );
  }
}
