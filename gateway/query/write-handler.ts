/** values.write: one result per value, in order; a failed value never fails the others. */
import { hasCapability, type WriteRequest } from '../../drivers/core/index.ts';
import { type TagGrant, tagAllowed } from '../access/policy.ts';
import type { OperationRequest } from '../api/operations.ts';
import type { Source } from '../sources/source.ts';
import { notFound, resolveTags, runningDriver } from './resolve.ts';
import { parseTime } from './time.ts';

export interface WriteOutcome {
  tag: string;
  ok: boolean;
  error?: { code: string; message: string; statusCode?: number };
}

export async function writeValues(
  source: Source,
  request: OperationRequest<'values.write'>,
  signal: AbortSignal,
  now: number,
  grant: TagGrant,
): Promise<{ results: WriteOutcome[] }> {
  const driver = runningDriver(source);
  // Writers hold writeValues on this source: a tag outside their grant is refused by name, not hidden.
  const resolved = await resolveTags(source, [...new Set(request.values.map((v) => v.tag))], signal, true);
  const byRef = new Map(resolved.map((r) => [r.ref, r.tag]));
  const results: (WriteOutcome | undefined)[] = request.values.map(() => undefined);
  const pending: { index: number; write: WriteRequest }[] = [];
  request.values.forEach((v, index) => {
    const tag = byRef.get(v.tag);
    if (!tag) {
      results[index] = { tag: v.tag, ok: false, error: notFound(v.tag) };
    } else if (!tagAllowed(grant, tag)) {
      results[index] = {
        tag: v.tag,
        ok: false,
        error: { code: 'PG_ERR_ACCESS_DENIED', message: `no rule lets the caller write ${tag.name}` },
      };
    } else if (!hasCapability(driver, 'valueWrite')) {
      results[index] = {
        tag: v.tag,
        ok: false,
        error: { code: 'PG_ERR_NOT_SUPPORTED', message: 'the driver cannot write' },
      };
    } else if (!tag.writable) {
      results[index] = {
        tag: v.tag,
        ok: false,
        error: { code: 'PG_ERR_TAG_NOT_WRITABLE', message: `${tag.name} is not writable` },
      };
    } else {
      try {
        const time = v.time === undefined ? undefined : parseTime(v.time, now, `values[${index}].time`);
        pending.push({ index, write: { tag, value: v.value, ...(time === undefined ? {} : { time }) } });
      } catch (error) {
        const e = error as { code: string; message: string };
        results[index] = { tag: v.tag, ok: false, error: { code: e.code, message: e.message } };
      }
    }
  });
  if (pending.length && hasCapability(driver, 'valueWrite')) {
    const written = await driver.writeValues(
      pending.map((p) => p.write),
      signal,
    );
    pending.forEach((p, k) => {
      const r = written[k]!;
      const tag = request.values[p.index]!.tag;
      results[p.index] = r.ok
        ? { tag, ok: true }
        : {
            tag,
            ok: false,
            error: {
              code: r.code,
              message: r.message,
              ...(r.statusCode === undefined ? {} : { statusCode: r.statusCode }),
            },
          };
    });
  }
  return { results: results as WriteOutcome[] };
}
