/**
 * A Map kept once per process under a global symbol. In the single binary each lazily loaded bundle has
 * its own copy of the code that asks for it, and still finds the same Map.
 */
export function processWideMap<V>(key: string): Map<string, V> {
  const slot = Symbol.for(key);
  const global = globalThis as Record<symbol, unknown>;
  if (!(global[slot] instanceof Map)) global[slot] = new Map<string, V>();
  return global[slot] as Map<string, V>;
}
