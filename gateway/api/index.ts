/** gateway/api: what the bridge may use — the typed operations, their check, the error catalogue and the link protocol. */

export type { Logger } from '../../drivers/core/index.ts';
export {
  ERROR_CATALOGUE,
  type ErrorBody,
  type ErrorCode,
  gatewayError,
  httpStatusOf,
  isPlantgateError,
  PlantgateError,
  toErrorBody,
} from '../errors.ts';
export { createLogger } from '../log.ts';
export { VERSION } from '../version.ts';
export * from './call-context.ts';
export * from './config-file.ts';
export * from './link-crypto.ts';
export * from './link-protocol.ts';
export * from './link-websocket.ts';
export * from './operation-check.ts';
export * from './operation-paths.ts';
export * from './operations.ts';
export { sameSecret } from './same-secret.ts';
export { readablePath, type SchemaProblem, validate } from './validator.ts';
