/**
 * The access check, one interceptor around every operation: it refuses a call whose principal has no
 * rule for the operation on the source, and hands the handlers the tags the caller may use, so a search
 * or a snapshot only ever answers with tags the caller may read.
 */
import { gatewayError } from '../errors.ts';
import type { Interceptor } from '../query/pipeline.ts';
import { type AccessPolicy, ROLE_OF_OPERATION } from './policy.ts';

export const withAccess =
  (policy: () => AccessPolicy): Interceptor =>
  (next) =>
  async (call) => {
    const current = policy();
    const who = call.ctx.principal.subject;
    if (call.operation === 'health') {
      if (!current.mayAskHealth(call.ctx))
        throw gatewayError('PG_ERR_ACCESS_DENIED', `${who} may not ask for health`);
      return next(call);
    }
    const role = ROLE_OF_OPERATION[call.operation];
    const grant = current.grant(call.ctx, call.sourceId ?? '', role);
    if (grant === false) {
      throw gatewayError(
        'PG_ERR_ACCESS_DENIED',
        `${who} may not ${call.operation} on source "${call.sourceId}" (role ${role})`,
      );
    }
    return next({ ...call, tags: grant });
  };
