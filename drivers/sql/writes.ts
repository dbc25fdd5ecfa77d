/**
 * values.write on a SQL source: each value checked against its tag, then inserted as a new sample
 * (never an update or a delete). A value that does not fit fails alone; a batch the database refuses
 * fails its own values only.
 */
import type { Tag, WriteRequest, WriteResult } from '../core/index.ts';
import { isPlantgateError } from '../core/index.ts';
import type { SqlClient } from './clients/client.ts';
import type { Mapping } from './mapping.ts';
import { type InsertRow, insertStatement } from './statements.ts';

/** Rows per INSERT: five parameters a row stays under SQL Server's 2,100 parameters a statement. */
const ROWS_PER_INSERT = 300;

type Checked = { row: InsertRow } | { error: WriteResult };

const badValue = (message: string): Checked => ({ error: { ok: false, code: 'PG_ERR_BAD_VALUE', message } });

function checkValue(m: Mapping, request: WriteRequest, now: number): Checked {
  const { tag, value } = request;
  if (!tag.writable) {
    return {
      error: {
        ok: false,
        code: 'PG_ERR_TAG_NOT_WRITABLE',
        message: `tag ${tag.name} is not writable (the source's writes.enabled, or the tag's writable: false)`,
      },
    };
  }
  const time = request.time ?? now;
  const row = (v: number | null, text: string | null): Checked => ({ row: { tag, time, value: v, text } });
  const type = tag.dataType;
  if (type === 'string') {
    if (typeof value !== 'string')
      return badValue(`tag ${tag.name} holds text; ${JSON.stringify(value)} is not`);
    if (m.layout === 'narrow' && !m.text)
      return badValue(`the history table has no text column for ${tag.name}`);
    return row(null, value);
  }
  if (type === 'bool') {
    if (typeof value !== 'boolean')
      return badValue(`tag ${tag.name} is a bool; ${JSON.stringify(value)} is not`);
    return row(value ? 1 : 0, null);
  }
  if (type.endsWith('[]')) return badValue(`arrays are not stored in SQL history (tag ${tag.name})`);
  const n =
    typeof value === 'number'
      ? value
      : typeof value === 'string' && /^-?\d+(\.\d+)?$/.test(value)
        ? Number(value)
        : NaN;
  if (!Number.isFinite(n))
    return badValue(`tag ${tag.name} is a ${type}; ${JSON.stringify(value)} is not a finite number`);
  return row(n, null);
}

export async function insertRows(
  m: Mapping,
  client: SqlClient,
  requests: readonly WriteRequest[],
  signal: AbortSignal,
): Promise<WriteResult[]> {
  const now = Date.now();
  const results: WriteResult[] = new Array(requests.length);
  const pending: { index: number; row: InsertRow }[] = [];
  requests.forEach((r, index) => {
    const checked = checkValue(m, r, now);
    if ('error' in checked) results[index] = checked.error;
    else pending.push({ index, row: checked.row });
  });
  const columnOf = (tag: Tag) => m.dialect.quoteIdentifier(String(tag.properties.column));
  for (let i = 0; i < pending.length; i += ROWS_PER_INSERT) {
    const batch = pending.slice(i, i + ROWS_PER_INSERT);
    try {
      for (const statement of insertStatement(
        m,
        batch.map((p) => p.row),
        columnOf,
      ))
        await client.run(statement, signal);
      for (const p of batch) results[p.index] = { ok: true };
    } catch (error) {
      if (isPlantgateError(error) && error.code === 'PG_ERR_ABORTED') throw error;
      const code = isPlantgateError(error) ? error.code : 'PG_ERR_SOURCE_UNAVAILABLE';
      const message = error instanceof Error ? error.message : String(error);
      for (const p of batch) results[p.index] = { ok: false, code, message };
    }
  }
  return results;
}
