/**
 * One gateway per data folder. Two would interleave the audit chain and fight over history, so the
 * second refuses to start. The lock is a file created exclusively with the owner's pid; a lock whose
 * process is gone (a crash, a SIGKILL) is taken over.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PlantgateError } from '../drivers/core/index.ts';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function lockDataDir(dataDir: string): () => void {
  const file = path.join(dataDir, 'gateway.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(file, `${process.pid}\n`, { flag: 'wx', mode: 0o600 });
      return () => {
        if (readFileSync(file, 'utf8').trim() === String(process.pid)) rmSync(file, { force: true });
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = Number(readFileSync(file, 'utf8').trim());
      if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && alive(owner)) {
        throw new PlantgateError(
          'PG_ERR_BAD_SETTINGS',
          `another gateway (pid ${owner}) is running on ${dataDir}; if that process is not a gateway, remove ${file}`,
        );
      }
      rmSync(file, { force: true }); // left by a gateway that is gone
    }
  }
  throw new PlantgateError('PG_ERR_BAD_SETTINGS', `cannot take the lock ${file}`);
}
