/** gateway/api: what the bridge may use — the typed operations, their check, the error catalogue and the link protocol. */
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
export * from './call-context.ts';
export * from './config-file.ts';
export * from './link-crypto.ts';
export * from './link-protocol.ts';
export * from './operation-check.ts';
export * from './operations.ts';
export { readablePath, type SchemaProblem, validate } from './validator.ts';
