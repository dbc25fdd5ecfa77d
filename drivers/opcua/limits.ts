/**
 * The server's operation limits (OPC 10000-5 §6.3.11 OperationLimitsType), read once per session, and
 * the splitting of every request to fit them. A limit of 0 means the server sets none; plantgate then
 * still splits at a size that keeps one message reasonable.
 */
import { AttributeIds, type ClientSession, resolveNodeId, VariableIds } from 'node-opcua-client';

export interface OperationLimits {
  maxNodesPerRead: number;
  maxNodesPerWrite: number;
  maxNodesPerBrowse: number;
  maxMonitoredItemsPerCall: number;
  maxNodesPerHistoryReadData: number;
}

const FALLBACK: OperationLimits = {
  maxNodesPerRead: 1000,
  maxNodesPerWrite: 1000,
  maxNodesPerBrowse: 1000,
  maxMonitoredItemsPerCall: 1000,
  maxNodesPerHistoryReadData: 100,
};

const LIMIT_NODES: Record<keyof OperationLimits, number> = {
  maxNodesPerRead: VariableIds.Server_ServerCapabilities_OperationLimits_MaxNodesPerRead,
  maxNodesPerWrite: VariableIds.Server_ServerCapabilities_OperationLimits_MaxNodesPerWrite,
  maxNodesPerBrowse: VariableIds.Server_ServerCapabilities_OperationLimits_MaxNodesPerBrowse,
  maxMonitoredItemsPerCall: VariableIds.Server_ServerCapabilities_OperationLimits_MaxMonitoredItemsPerCall,
  maxNodesPerHistoryReadData:
    VariableIds.Server_ServerCapabilities_OperationLimits_MaxNodesPerHistoryReadData,
};

/**
 * MaxNodesPerRead is read alone first, since a server may refuse even the read of its own limits when
 * it asks for more nodes than it takes at once; the others follow in reads that fit.
 */
export async function readLimits(session: ClientSession): Promise<OperationLimits> {
  const readOne = async (key: keyof OperationLimits) => {
    const [dv] = await session.read([
      { nodeId: resolveNodeId(LIMIT_NODES[key]), attributeId: AttributeIds.Value },
    ]);
    return dv?.statusCode.value === 0 && typeof dv.value.value === 'number' ? dv.value.value : 0;
  };
  const keys = Object.keys(FALLBACK) as (keyof OperationLimits)[];
  const limits = { ...FALLBACK };
  const perRead = await readOne('maxNodesPerRead').catch(() => 0);
  const rest = keys.filter((k) => k !== 'maxNodesPerRead');
  const values = await splitCall(rest, perRead > 0 ? perRead : rest.length, (slice) =>
    session.read(
      slice.map((k) => ({ nodeId: resolveNodeId(LIMIT_NODES[k]), attributeId: AttributeIds.Value })),
    ),
  ).catch(() => []);
  const read: Partial<Record<keyof OperationLimits, number>> = { maxNodesPerRead: perRead };
  rest.forEach((k, i) => {
    const dv = values[i];
    if (dv?.statusCode.value === 0 && typeof dv.value.value === 'number') read[k] = dv.value.value;
  });
  for (const key of keys) {
    const value = read[key];
    if (typeof value === 'number' && value > 0) limits[key] = Math.min(value, FALLBACK[key]);
  }
  return limits;
}

export function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Runs `call` on each slice of at most `size` items, in order, and joins the answers. */
export async function splitCall<T, R>(
  items: readonly T[],
  size: number,
  call: (slice: T[]) => Promise<R[]>,
): Promise<R[]> {
  const out: R[] = [];
  for (const slice of chunks(items, size)) out.push(...(await call(slice)));
  return out;
}
