/** What a driver reports through: it never imports the gateway (STYLE.md §3). */
import type { TagValue } from './model.ts';

export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
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
}

export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
};
