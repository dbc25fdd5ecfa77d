/**
 * Files that ship with the product (the demo config): read from the repository in development and
 * from the single binary's embedded assets in production, where no other file exists.
 */
import { readFile } from 'node:fs/promises';
import sea from 'node:sea';

export async function readBundledFile(relativePath: string): Promise<string> {
  if (sea.isSea()) return sea.getAsset(relativePath, 'utf8');
  return readFile(new URL(`../${relativePath}`, import.meta.url), 'utf8');
}
