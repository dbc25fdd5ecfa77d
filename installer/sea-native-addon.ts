/**
 * Stands in for `node-gyp-build` inside the single binary: the serial-port addon travels as an SEA asset
 * and is loaded with `process.dlopen`. It is written to a fresh private folder (mkdtemp, mode 0700) and
 * removed after loading, so no other account can swap the library between write and load. If it cannot
 * be loaded, serial (RTU) sources fail with that reason while every other source works.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sea from 'node:sea';

export const SERIALPORT_ASSET = 'native/serialport.node';

export default function loadNativeAddon(_packageDir: string): unknown {
  let dir: string | undefined;
  try {
    dir = mkdtempSync(path.join(os.tmpdir(), 'plantgate-native-'));
    const file = path.join(dir, 'serialport.node');
    writeFileSync(file, new Uint8Array(sea.getRawAsset(SERIALPORT_ASSET)), { mode: 0o500 });
    const module = { exports: {} as unknown };
    process.dlopen(module, file);
    return module.exports;
  } catch (error) {
    const reason = `serial ports are unavailable: ${(error as Error).message}`;
    const unavailable = () => {
      throw new Error(reason);
    };
    return new Proxy({}, { get: () => unavailable });
  } finally {
    // Linux keeps a loaded library mapped after its file is gone; Windows refuses, and the folder stays.
    if (dir) rmSync(dir, { recursive: true, force: true, maxRetries: 0 });
  }
}
