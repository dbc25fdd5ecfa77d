/**
 * The audit record of every operation, allowed, denied or failed, written durably before the answer
 * leaves: the outermost interceptor, so it sees the outcome of the access check and of the operation.
 */
import { isPlantgateError } from '../../drivers/core/index.ts';
import { gatewayError } from '../errors.ts';
import type { Interceptor } from '../query/pipeline.ts';
import type { AuditLog } from './log.ts';
import type { AuditEvent } from './record.ts';

const FIRST_TAGS = 5;

function tagsOf(request: unknown): string[] {
  const r = request as { tags?: unknown; values?: { tag?: unknown }[] } | undefined;
  if (Array.isArray(r?.tags)) return r.tags.filter((t): t is string => typeof t === 'string');
  if (Array.isArray(r?.values))
    return r.values.map((v) => v?.tag).filter((t): t is string => typeof t === 'string');
  return [];
}

/** How many values (or tags) an answer carries. */
function countOf(answer: unknown): number | undefined {
  const a = answer as
    | { values?: unknown[]; tags?: { values?: unknown[] }[]; results?: unknown[] }
    | undefined;
  if (Array.isArray(a?.values)) return a.values.length;
  if (Array.isArray(a?.results)) return a.results.length;
  if (Array.isArray(a?.tags))
    return a.tags.reduce((n, t) => n + (Array.isArray(t.values) ? t.values.length : 1), 0);
  return undefined;
}

/** Writes the record; if it cannot, the answer is withheld (fail closed) and the caller told why. */
async function record(audit: AuditLog, event: AuditEvent): Promise<void> {
  try {
    await audit.append(event);
  } catch (error) {
    throw gatewayError(
      'PG_ERR_AUDIT_UNAVAILABLE',
      `the audit record could not be written: ${(error as Error).message}`,
    );
  }
}

export const withAudit =
  (audit: AuditLog): Interceptor =>
  (next) =>
  async (call) => {
    const started = performance.now();
    const tags = tagsOf(call.request);
    const r = call.request as { start?: unknown; end?: unknown } | undefined;
    const event: AuditEvent = {
      kind: 'operation',
      requestId: call.ctx.requestId,
      origin: call.ctx.origin,
      principal: call.ctx.principal.subject,
      groups: call.ctx.principal.groups.length,
      ...(call.ctx.app ? { app: call.ctx.app } : {}),
      ...(call.ctx.consentId ? { consentId: call.ctx.consentId } : {}),
      ...(call.sourceId ? { source: call.sourceId } : {}),
      operation: call.operation,
      tagCount: tags.length,
      ...(tags.length ? { tags: tags.slice(0, FIRST_TAGS).map((t) => t.slice(0, 256)) } : {}),
      ...(typeof r?.start === 'string' && typeof r?.end === 'string'
        ? { range: { start: r.start.slice(0, 64), end: r.end.slice(0, 64) } }
        : {}),
      outcome: 'ok',
    };
    const notes: { detail?: string } = {};
    try {
      const answer = await next({ ...call, notes });
      const values = countOf(answer);
      await record(audit, {
        ...event,
        ...(values === undefined ? {} : { values }),
        ...(notes.detail ? { detail: notes.detail.slice(0, 4000) } : {}),
        durationMs: Math.round(performance.now() - started),
      });
      return answer;
    } catch (error) {
      const outcome = isPlantgateError(error) ? error.code : 'PG_ERR_INTERNAL';
      await record(audit, { ...event, outcome, durationMs: Math.round(performance.now() - started) });
      throw error;
    }
  };
