/**
 * Errors with stable codes. A driver throws a `PlantgateError` with one of the codes below; the gateway's
 * catalogue (gateway/errors.ts) documents every code and maps it to an HTTP status. Callers match on
 * `error.code`, never on `instanceof`, so an error that crossed a process or the link reads the same.
 */
export const DRIVER_ERROR_CODES = [
  'PG_ERR_NOT_SUPPORTED',
  'PG_ERR_TAG_NOT_FOUND',
  'PG_ERR_TAG_NOT_WRITABLE',
  'PG_ERR_BAD_VALUE',
  'PG_ERR_SOURCE_UNAVAILABLE',
  'PG_ERR_DEVICE_TIMEOUT',
  'PG_ERR_DEVICE_EXCEPTION',
  'PG_ERR_ABORTED',
  'PG_ERR_BAD_SETTINGS',
] as const;

export type DriverErrorCode = (typeof DRIVER_ERROR_CODES)[number];

export class PlantgateError<Code extends string = string> extends Error {
  readonly code: Code;
  readonly details?: Record<string, unknown>;

  constructor(code: Code, message: string, details?: Record<string, unknown>, options?: ErrorOptions) {
    super(message, options);
    this.name = 'PlantgateError';
    this.code = code;
    if (details) this.details = details;
  }
}

export function isPlantgateError(error: unknown): error is PlantgateError {
  return (
    typeof error === 'object' &&
    error !== null &&
    typeof (error as { code?: unknown }).code === 'string' &&
    (error as { code: string }).code.startsWith('PG_ERR_')
  );
}

export function abortedError(signal: AbortSignal): PlantgateError<'PG_ERR_ABORTED'> {
  const reason = signal.reason instanceof Error ? signal.reason.message : 'the request was cancelled';
  return new PlantgateError('PG_ERR_ABORTED', reason);
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abortedError(signal);
}
