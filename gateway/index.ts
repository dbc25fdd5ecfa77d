/** gateway: the appliance. Its door for the bridge is gateway/api; this one is for the CLI, tests and benchmarks. */
export * from './api/index.ts';
export { ConfigError, loadGatewayConfig, parseGatewayConfig } from './config/load.ts';
export type { GatewayConfig } from './config/schema.ts';
export { ERROR_CATALOGUE, type ErrorCode } from './errors.ts';
export { HistoryStore } from './history/store.ts';
export { LocalApiClient } from './local-api/client.ts';
export { createLogger } from './log.ts';
export { type RunningGateway, startGateway } from './runtime.ts';
