/** What a driver reports through: it never imports the gateway (STYLE.md §3). */
import type { TagValue, Value } from './model.ts';

export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** The values of the gateway's other sources, for a driver that computes from them (script tags). */
export interface PeerValues {
  /** Every value a source reports from now on; answers the function that stops listening. */
  onValues(sourceId: string, listener: (values: readonly TagValue[]) => void): () => void;
  /** The latest value of each tag (by id) of a source, in order. */
  snapshot(sourceId: string, tagIds: readonly string[], signal: AbortSignal): Promise<Value[]>;
}

export interface DriverHost {
  /** New values (polled, subscribed or after a write); quality travels per value. */
  update(values: readonly TagValue[]): void;
  log: Logger;
  /** A numeric observation for health and metrics, e.g. `poll.ms`, `requests.failed`. */
  metric(name: string, value: number, labels?: Record<string, string>): void;
  /** A folder of this source's own under the gateway's dataDir (PKI, caches). */
  dataDir: string;
  /** The gateway's certificate store (dataDir/pki), shared by its sources: OPC UA's PKI lives here. */
  pkiDir: string;
  /** The other sources' values; given to the drivers that compute from them. */
  peers?: PeerValues;
}

export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
};
