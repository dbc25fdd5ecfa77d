/**
 * The source's tags, from its node list and from browsing: each node's attributes and properties read
 * from the server (data type, rank, access, history, description, engineering units, enumeration
 * strings), every request split to the server's limits.
 */
import {
  AttributeIds,
  BrowseDirection,
  type BrowseResult,
  type ClientSession,
  DataType,
  type ExpandedNodeId,
  NodeClass,
  type NodeId,
  type ReferenceDescription,
  resolveNodeId,
  StatusCodes,
} from 'node-opcua-client';
import type { DigitalState, Tag } from '../core/index.ts';
import { type OperationLimits, splitCall } from './limits.ts';
import type { OpcuaBrowse, OpcuaTagConfig } from './settings.ts';
import { statusOf, tagDataType, writableType } from './values.ts';

/** A tag and what the driver needs to read, monitor and write its node. */
export interface NodeTag {
  tag: Tag;
  nodeId: NodeId;
  builtIn: DataType;
  isArray: boolean;
  historizing: boolean;
  /** Set when the node could not be described: its values are bad with this code. */
  unresolved?: number;
  config?: OpcuaTagConfig;
}

const HAS_PROPERTY = resolveNodeId('HasProperty');
const HIERARCHICAL = resolveNodeId('HierarchicalReferences');
const ACCESS_CURRENT_WRITE = 0x02;
const ACCESS_HISTORY_READ = 0x04;
const PROPERTIES = ['EngineeringUnits', 'EnumStrings', 'EnumValues', 'EURange', 'TrueState', 'FalseState'];

async function browseAll(
  session: ClientSession,
  nodeIds: readonly NodeId[],
  limits: OperationLimits,
  reference: { referenceTypeId: NodeId; nodeClassMask: number },
): Promise<ReferenceDescription[][]> {
  return splitCall(nodeIds, limits.maxNodesPerBrowse, async (slice) => {
    const results = await session.browse(
      slice.map((nodeId) => ({
        nodeId,
        referenceTypeId: reference.referenceTypeId,
        includeSubtypes: true,
        browseDirection: BrowseDirection.Forward,
        nodeClassMask: reference.nodeClassMask,
        resultMask: 0x3f,
      })),
    );
    const out: ReferenceDescription[][] = [];
    for (const result of results) {
      const refs = [...(result.references ?? [])];
      let point = result.continuationPoint;
      // OPC 10000-4 §5.8.3: a server may return part of the references and a continuation point.
      while (point && point.length > 0) {
        const next = await session.browseNext(point, false);
        refs.push(...(next.references ?? []));
        point = next.continuationPoint;
      }
      out.push(refs);
    }
    return out;
  });
}

function states(props: Map<string, unknown>): DigitalState[] | undefined {
  const strings = props.get('EnumStrings') as { text?: string | null }[] | undefined;
  if (strings?.length) return strings.map((s, i) => ({ value: i, name: s.text ?? String(i) }));
  const values = props.get('EnumValues') as
    | { value: [number, number] | number; displayName?: { text?: string | null } }[]
    | undefined;
  if (values?.length) {
    return values.map((v) => {
      const n = Array.isArray(v.value) ? v.value[0] * 2 ** 32 + (v.value[1] >>> 0) : v.value;
      return { value: n, name: v.displayName?.text ?? String(n) };
    });
  }
  return undefined;
}

async function readProperties(
  session: ClientSession,
  nodeIds: readonly NodeId[],
  limits: OperationLimits,
): Promise<Map<string, unknown>[]> {
  const refs = await browseAll(session, nodeIds, limits, { referenceTypeId: HAS_PROPERTY, nodeClassMask: 2 });
  const wanted: { owner: number; name: string; nodeId: NodeId }[] = [];
  refs.forEach((list, owner) => {
    for (const r of list) {
      const name = r.browseName.name ?? '';
      if (PROPERTIES.includes(name)) wanted.push({ owner, name, nodeId: r.nodeId as NodeId });
    }
  });
  const values = await splitCall(wanted, limits.maxNodesPerRead, (slice) =>
    session.read(slice.map((w) => ({ nodeId: w.nodeId, attributeId: AttributeIds.Value }))),
  );
  const out = nodeIds.map(() => new Map<string, unknown>());
  wanted.forEach((w, i) => {
    const dv = values[i]!;
    if (dv.statusCode.value === 0) out[w.owner]!.set(w.name, dv.value.value);
  });
  return out;
}

const ENUMERATION = 29;
const HAS_SUBTYPE = resolveNodeId('HasSubtype');

/**
 * The built-in type a data type is encoded as (OPC 10000-3 §5.8.2): ids 1-25 of namespace 0 are the
 * built-in types themselves, an Enumeration travels as Int32, any other type as its nearest such
 * supertype.
 */
async function builtInOf(session: ClientSession, dataType: NodeId): Promise<DataType> {
  let current: NodeId | undefined = dataType;
  for (let depth = 0; current && depth < 16; depth++) {
    if (current.namespace === 0 && typeof current.value === 'number') {
      if (current.value >= 1 && current.value <= 25) return current.value as DataType;
      if (current.value === ENUMERATION) return DataType.Int32;
      // Number, Integer, UInteger: abstract; the value itself says which type it travels as.
      if (current.value >= 26 && current.value <= 28) return DataType.Variant;
    }
    const [result]: BrowseResult[] = await session.browse([
      {
        nodeId: current,
        referenceTypeId: HAS_SUBTYPE,
        browseDirection: BrowseDirection.Inverse,
        includeSubtypes: false,
        resultMask: 0x3f,
      },
    ]);
    const parent: ExpandedNodeId | undefined = result?.references?.[0]?.nodeId;
    current = parent ? resolveNodeId(parent) : undefined;
  }
  return DataType.Null;
}

export interface NodeRequest {
  nodeId: string;
  name: string;
  id: string;
  config?: OpcuaTagConfig;
  writable: boolean;
}

const ATTRIBUTES = [
  AttributeIds.Description,
  AttributeIds.DataType,
  AttributeIds.ValueRank,
  AttributeIds.UserAccessLevel,
  AttributeIds.Historizing,
  AttributeIds.Value,
] as const;

/** Reads what the server says of each node and makes its tag; a node the server lacks keeps its code. */
/** Nodes described at a time: the server's answers for one slice are dropped before the next is read. */
const DESCRIBE_SLICE = 500;

/** What several slices share: the built-in type and enumeration names of each data type seen. */
interface DataTypeCache {
  builtIns: Map<string, DataType>;
  enumProps: Map<string, Map<string, unknown>>;
}

export async function describeNodes(
  session: ClientSession,
  requests: readonly NodeRequest[],
  limits: OperationLimits,
): Promise<NodeTag[]> {
  const cache: DataTypeCache = { builtIns: new Map(), enumProps: new Map() };
  const out: NodeTag[] = [];
  for (let i = 0; i < requests.length; i += DESCRIBE_SLICE) {
    out.push(...(await describeSlice(session, requests.slice(i, i + DESCRIBE_SLICE), limits, cache)));
  }
  return out;
}

async function describeSlice(
  session: ClientSession,
  requests: readonly NodeRequest[],
  limits: OperationLimits,
  { builtIns, enumProps }: DataTypeCache,
): Promise<NodeTag[]> {
  const nodeIds = requests.map((r) => resolveNodeId(r.nodeId));
  const reads = nodeIds.flatMap((nodeId) => ATTRIBUTES.map((attributeId) => ({ nodeId, attributeId })));
  const values = await splitCall(reads, limits.maxNodesPerRead, (slice) => session.read(slice));
  const props = await readProperties(session, nodeIds, limits);
  const dataTypeIds = new Map<string, NodeId>();
  requests.forEach((_, i) => {
    const dv = values[i * ATTRIBUTES.length + 1]!;
    const key = dv.statusCode.value === 0 ? (dv.value.value as NodeId).toString() : undefined;
    if (key && !builtIns.has(key)) dataTypeIds.set(key, dv.value.value as NodeId);
  });
  for (const [key, id] of dataTypeIds) builtIns.set(key, await builtInOf(session, id));
  // An enumeration data type (OPC 10000-3 §5.8.3) carries its names on the data type node.
  const enumTypes = [...dataTypeIds].filter(
    ([key, id]) => builtIns.get(key) === DataType.Int32 && !(id.namespace === 0 && Number(id.value) <= 30),
  );
  const enumTypeProps = await readProperties(
    session,
    enumTypes.map(([, id]) => id),
    limits,
  );
  for (const [i, [key]] of enumTypes.entries()) enumProps.set(key, enumTypeProps[i]!);

  return requests.map((request, i) => {
    const at = (k: number) => values[i * ATTRIBUTES.length + k]!;
    const config = request.config;
    const described = at(1).statusCode.value === 0;
    const dataTypeKey = described ? (at(1).value.value as NodeId).toString() : '';
    let builtIn = builtIns.get(dataTypeKey) ?? DataType.Null;
    if (builtIn === DataType.Variant && at(5).statusCode.value === 0) builtIn = at(5).value.dataType;
    const valueRank = at(2).statusCode.value === 0 ? (at(2).value.value as number) : -1;
    const access = at(3).statusCode.value === 0 ? (at(3).value.value as number) : 0;
    const historizing =
      at(4).statusCode.value === 0 && at(4).value.value === true && (access & ACCESS_HISTORY_READ) !== 0;
    const own = props[i]!;
    const tagStates = states(own) ?? states(enumProps.get(dataTypeKey) ?? new Map());
    const dataType = tagDataType(builtIn, valueRank);
    const units = (own.get('EngineeringUnits') as { displayName?: { text?: string | null } } | undefined)
      ?.displayName?.text;
    const range = own.get('EURange') as { low: number; high: number } | undefined;
    const trueState = (own.get('TrueState') as { text?: string } | undefined)?.text;
    const falseState = (own.get('FalseState') as { text?: string } | undefined)?.text;
    const serverDescription =
      at(0).statusCode.value === 0 ? ((at(0).value.value as { text?: string | null })?.text ?? '') : '';
    const tag: Tag = {
      id: request.id,
      name: request.name,
      description: config?.description ?? serverDescription,
      units: config?.units ?? units ?? '',
      dataType,
      ...(tagStates ? { states: tagStates } : {}),
      labels: config?.labels ?? [],
      properties: {
        nodeId: request.nodeId,
        historizing,
        ...(range ? { euLow: range.low, euHigh: range.high } : {}),
        ...(trueState ? { trueState } : {}),
        ...(falseState ? { falseState } : {}),
      },
      writable: request.writable && (access & ACCESS_CURRENT_WRITE) !== 0 && writableType(builtIn),
      stepped: dataType === 'bool' || dataType === 'string' || tagStates !== undefined,
    };
    const unresolved = described ? undefined : at(1).statusCode.value;
    return {
      tag,
      nodeId: nodeIds[i]!,
      builtIn,
      isArray: dataType.endsWith('[]'),
      historizing,
      ...(unresolved !== undefined && statusOf(unresolved) === 'bad' ? { unresolved } : {}),
      ...(config ? { config } : {}),
    };
  });
}

function matcher(pattern: string | undefined): (name: string) => boolean {
  if (!pattern) return () => true;
  const source = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  const re = new RegExp(`^${source}$`, 'i');
  return (name) => re.test(name);
}

/**
 * Variables below `browse.root`, down to `depth` levels of objects and folders. A tag is named by its
 * browse path from the root (`Line3.Filler.Speed`) and identified by its node id.
 */
export async function browseVariables(
  session: ClientSession,
  browse: OpcuaBrowse,
  limits: OperationLimits,
): Promise<{ nodeId: string; name: string }[]> {
  const rootId = resolveNodeId(browse.root);
  const [rootName] = await session.read([{ nodeId: rootId, attributeId: AttributeIds.BrowseName }]);
  if (rootName!.statusCode !== StatusCodes.Good)
    throw new Error(`browse.root ${browse.root}: ${rootName!.statusCode.name}`);
  const accept = matcher(browse.nameFilter);
  const found: { nodeId: string; name: string }[] = [];
  const seen = new Set<string>([rootId.toString()]);
  let level: { nodeId: NodeId; path: string }[] = [
    { nodeId: rootId, path: (rootName!.value.value as { name: string }).name },
  ];
  for (let depth = 0; depth < browse.depth && level.length > 0 && found.length < browse.maxTags; depth++) {
    const refs = await browseAll(
      session,
      level.map((l) => l.nodeId),
      limits,
      { referenceTypeId: HIERARCHICAL, nodeClassMask: NodeClass.Object | NodeClass.Variable },
    );
    const next: typeof level = [];
    refs.forEach((list, i) => {
      for (const r of list) {
        if ((r.referenceTypeId as NodeId).toString() === HAS_PROPERTY.toString()) continue;
        const id = (r.nodeId as NodeId).toString();
        if (seen.has(id)) continue;
        seen.add(id);
        const path = `${level[i]!.path}.${r.browseName.name}`;
        if (r.nodeClass === NodeClass.Variable) {
          if (accept(r.browseName.name ?? '') && found.length < browse.maxTags)
            found.push({ nodeId: id, name: path });
        } else next.push({ nodeId: r.nodeId as NodeId, path });
      }
    });
    level = next;
  }
  return found;
}
