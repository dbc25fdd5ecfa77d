/**
 * Data files that bundled packages read from beside their own code (node-opcua's server reads its
 * package.json and the standard nodeset XML relative to `import.meta.dirname`). In the single binary
 * they travel as SEA assets, are written once to a private folder (mkdtemp, mode 0700) and removed when
 * the process exits; the bundle points each package's `import.meta.dirname` there.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sea from 'node:sea';

/** Files per package, relative to the package folder; the asset key is `packages/<name>/<file>`. */
export const PACKAGE_FILES: Record<string, readonly string[]> = {
  'node-opcua-server': ['package.json'],
  'node-opcua-nodesets': ['nodesets/Opc.Ua.NodeSet2.xml'],
};

let root: string | undefined;

function extract(): string {
  if (root) return root;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'plantgate-files-'));
  for (const [name, files] of Object.entries(PACKAGE_FILES)) {
    for (const file of files) {
      const target = path.join(dir, name, file);
      mkdirSync(path.dirname(target), { recursive: true });
      writeFileSync(target, new Uint8Array(sea.getRawAsset(`packages/${name}/${file}`)), { mode: 0o400 });
    }
  }
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  root = dir;
  return dir;
}

/** What `import.meta.dirname` of a module in `<package>/dist` would be, with the package's files beside it. */
export function packageDistFolder(name: string): string {
  return path.join(extract(), name, 'dist');
}
