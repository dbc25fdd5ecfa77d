/**
 * Secrets in source settings: only a driver's declared secret fields may hold sealed values, and they
 * must. At start the source opens them (the driver gets plaintext) and every text that leaves the
 * source — logs, health, value errors — has them blotted out, in case a driver repeats one.
 */
import type { DriverFactory } from '../../drivers/core/index.ts';
import { SEALED_PREFIX, type Sealer } from './sealer.ts';

function valueAt(settings: unknown, field: string): unknown {
  return field
    .split('.')
    .reduce<unknown>(
      (at, key) => (at && typeof at === 'object' ? (at as Record<string, unknown>)[key] : undefined),
      settings,
    );
}

function stringPaths(value: unknown, at = ''): { path: string; value: string }[] {
  if (typeof value === 'string') return [{ path: at, value }];
  if (value && typeof value === 'object') {
    return Object.entries(value).flatMap(([k, v]) => stringPaths(v, at ? `${at}.${k}` : k));
  }
  return [];
}

/** Problems with secrets in one source's settings: as path (under settings) and reason. */
export function checkSecretFields(
  factory: DriverFactory,
  settings: unknown,
): { path: string; message: string }[] {
  const secret = new Set(factory.secretFields ?? []);
  const problems: { path: string; message: string }[] = [];
  for (const { path, value } of stringPaths(settings)) {
    if (value.startsWith(SEALED_PREFIX) && !secret.has(path)) {
      problems.push({
        path,
        message: secret.size
          ? `only ${[...secret].join(', ')} may hold sealed values`
          : `the ${factory.name} driver has no secret settings; this value must not be sealed`,
      });
    }
  }
  for (const field of secret) {
    const value = valueAt(settings, field);
    if (typeof value === 'string' && !value.startsWith(SEALED_PREFIX)) {
      problems.push({
        path: field,
        message: `a secret must be sealed: plantgate secrets seal --config FILE --source ID --field ${field}`,
      });
    }
  }
  return problems;
}

/** Settings with the driver's sealed fields opened, and a function that blots the secrets out of text. */
export function openSecretFields(
  factory: DriverFactory,
  settings: unknown,
  source: string,
  sealer: () => Sealer,
): { settings: unknown; redact: (text: string) => string; holdsSecrets: boolean } {
  const secrets: string[] = [];
  const copy = structuredClone(settings) as Record<string, unknown>;
  for (const field of factory.secretFields ?? []) {
    const value = valueAt(copy, field);
    if (typeof value !== 'string' || !value.startsWith(SEALED_PREFIX)) continue;
    const plaintext = sealer().unseal(value, { driver: factory.name, source, field });
    const keys = field.split('.');
    const parent = keys
      .slice(0, -1)
      .reduce<Record<string, unknown>>((at, key) => at[key] as Record<string, unknown>, copy);
    parent[keys.at(-1)!] = plaintext;
    if (plaintext) secrets.push(plaintext);
  }
  const redact = (text: string) => secrets.reduce((t, secret) => t.split(secret).join('[sealed]'), text);
  return {
    settings: copy,
    redact: secrets.length ? redact : (text) => text,
    holdsSecrets: secrets.length > 0,
  };
}
