/** The schema check of one typed operation's request, the same at the bridge and at the gateway. */
import { gatewayError } from '../errors.ts';
import { OPERATION_SCHEMAS, type OperationName } from './operations.ts';
import { readablePath, validate } from './validator.ts';

/**
 * Returns a copy of `request` with defaults filled in, or throws PG_ERR_BAD_REQUEST (or
 * PG_ERR_LIMIT_EXCEEDED when a limit is broken) naming the first bad path.
 */
export function checkOperationRequest(operation: OperationName, request: unknown): unknown {
  const copy = request === undefined || request === null ? {} : structuredClone(request);
  const problems = validate(OPERATION_SCHEMAS[operation], copy);
  if (!problems.length) return copy;
  const first = problems[0]!;
  const limit = /must NOT have more than|must be <=/.test(first.message);
  const where = readablePath(first.pointer) || 'request';
  throw gatewayError(
    limit ? 'PG_ERR_LIMIT_EXCEEDED' : 'PG_ERR_BAD_REQUEST',
    `${operation}: ${where} ${first.message}`,
    {
      problems: problems.slice(0, 10).map((p) => ({ path: readablePath(p.pointer), message: p.message })),
    },
  );
}
