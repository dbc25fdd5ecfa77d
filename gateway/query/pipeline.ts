/**
 * Operations as composable calls: a handler takes a call and answers; interceptors wrap handlers for the
 * work every operation shares (validation, time limits; access checks and audit wrap here too), so no
 * handler repeats it.
 */
import { abortedError, isPlantgateError } from '../../drivers/core/index.ts';
import type { TagGrant } from '../access/policy.ts';
import type { CallContext } from '../api/call-context.ts';
import { checkOperationRequest } from '../api/operation-check.ts';
import type { OperationName } from '../api/operations.ts';
import { gatewayError } from '../errors.ts';

export interface Call {
  ctx: CallContext;
  operation: OperationName;
  /** Absent for gateway-wide operations (health). */
  sourceId?: string;
  request: unknown;
  signal: AbortSignal;
  /** The tags the caller may use, set by the access check: all, or those matching patterns. */
  tags?: TagGrant;
  /** What a change did, in words, for its audit record (set by the handler; shared by the call's copies). */
  notes?: { detail?: string };
}

export type Handler = (call: Call) => Promise<unknown>;
export type Interceptor = (next: Handler) => Handler;

export function compose(handler: Handler, ...interceptors: Interceptor[]): Handler {
  return interceptors.reduceRight((next, wrap) => wrap(next), handler);
}

/** Refuses a request that breaks its operation's schema, naming the first bad path; fills defaults. */
export const withValidation: Interceptor = (next) => async (call) =>
  next({ ...call, request: checkOperationRequest(call.operation, call.request) });

/** Cancels an operation that runs past `ms` and answers PG_ERR_TIMEOUT. */
export const withTimeout =
  (ms: number): Interceptor =>
  (next) =>
  async (call) => {
    const timeout = AbortSignal.timeout(ms);
    const signal = AbortSignal.any([call.signal, timeout]);
    try {
      return await next({ ...call, signal });
    } catch (error) {
      if (timeout.aborted && (!isPlantgateError(error) || error.code === 'PG_ERR_ABORTED')) {
        throw gatewayError('PG_ERR_TIMEOUT', `${call.operation} did not finish within ${ms} ms`);
      }
      if (call.signal.aborted && !isPlantgateError(error)) throw abortedError(call.signal);
      throw error;
    }
  };
