/**
 * The local token: the key to the loopback API, kept in dataDir with mode 0600 so only the gateway's
 * own account (and root) can read it. Compared in constant time.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

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

/** Constant-time comparison; hashing first makes the lengths equal so the length leaks nothing either. */
export function tokenMatches(presented: string, expected: string): boolean {
  const a = createHash('sha256').update(presented).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}
