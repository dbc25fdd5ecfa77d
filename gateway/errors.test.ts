import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ERROR_CATALOGUE, httpStatusOf, toErrorBody } from './errors.ts';

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return name === 'node_modules' ? [] : sourceFiles(full);
    return full.endsWith('.ts') && !full.endsWith('.test.ts') ? [full] : [];
  });
}

describe('error catalogue', () => {
  it('given every code, when documented, then it has an HTTP status and a line of documentation', () => {
    for (const [code, entry] of Object.entries(ERROR_CATALOGUE)) {
      expect(code).toMatch(/^PG_ERR_[A-Z_]+$/);
      expect(entry.status, code).toBeGreaterThanOrEqual(400);
      expect(entry.doc.length, code).toBeGreaterThan(15);
    }
  });

  it('given the source tree, when scanned, then every PG_ERR code it uses is in the catalogue', () => {
    const root = new URL('../', import.meta.url).pathname;
    const used = new Set<string>();
    for (const dir of ['drivers', 'gateway']) {
      for (const file of sourceFiles(path.join(root, dir))) {
        for (const match of readFileSync(file, 'utf8').matchAll(/PG_ERR_[A-Z_]+/g)) used.add(match[0]);
      }
    }
    expect(used.size).toBeGreaterThan(10);
    for (const code of used)
      expect(Object.keys(ERROR_CATALOGUE), `${code} is used but not documented`).toContain(code);
  });

  it('given an unknown failure, when sent, then it becomes PG_ERR_INTERNAL without its message', () => {
    expect(toErrorBody(new Error('secret path /etc/x'))).toEqual({
      error: { code: 'PG_ERR_INTERNAL', message: 'internal error; see the gateway log' },
    });
    expect(httpStatusOf('PG_ERR_LIMIT_EXCEEDED')).toBe(400);
    expect(httpStatusOf('PG_ERR_NOPE')).toBe(500);
  });
});
