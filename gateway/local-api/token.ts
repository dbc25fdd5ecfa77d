/**
 * The local token: the key to the loopback API, kept in dataDir with mode 0600 so only the gateway's
 * own account (and root) can read it. Compared in constant time.
 */
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  unwatchFile,
  watchFile,
  writeFileSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';
import { sameSecret } from '../api/same-secret.ts';

export const tokenFile = (dataDir: string) => path.join(dataDir, 'local-token');

/** Reads the token, creating it (and dataDir) on first use. */
export function ensureLocalToken(dataDir: string): string {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const file = tokenFile(dataDir);
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const token = randomBytes(32).toString('base64url');
  // `wx` refuses to overwrite a token another process wrote meanwhile; its token then wins.
  try {
    writeFileSync(file, `${token}\n`, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return readFileSync(file, 'utf8').trim();
    throw error;
  }
  chmodSync(file, 0o600);
  return token;
}

export function readLocalToken(dataDir: string): string {
  return readFileSync(tokenFile(dataDir), 'utf8').trim();
}

/** Constant-time comparison (see sameSecret). */
export const tokenMatches = sameSecret;

/**
 * Replaces the token with a new one: written to a temporary file with mode 0600, flushed, then renamed
 * over the old one, so a reader sees the old token or the new one and never half of either.
 */
export function rotateLocalToken(dataDir: string): string {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const token = randomBytes(32).toString('base64url');
  const temporary = `${tokenFile(dataDir)}.${process.pid}.tmp`;
  const fd = openSync(temporary, 'w', 0o600);
  try {
    writeSync(fd, `${token}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, tokenFile(dataDir));
  return token;
}

/** The current token, followed as the file changes (a rotation reaches a running gateway within a second). */
export function followLocalToken(
  dataDir: string,
  changed: () => void = () => undefined,
): { current(): string; stop(): void } {
  let token = ensureLocalToken(dataDir);
  const file = tokenFile(dataDir);
  const reload = () => {
    try {
      const next = readFileSync(file, 'utf8').trim();
      if (next && next !== token) {
        token = next;
        changed();
      }
    } catch {
      // A missing file keeps the token in force until a new one is written.
    }
  };
  watchFile(file, { interval: 500, persistent: false }, reload);
  return { current: () => token, stop: () => unwatchFile(file, reload) };
}
