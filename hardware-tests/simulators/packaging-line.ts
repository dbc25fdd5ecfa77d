/**
 * A simulated packaging line in an OPC UA address space: filler speed following its setpoint, good
 * and rejected counts, the line state as a multi-state discrete, alarms as two-state discretes, and a
 * few variables of the other data types. Speed, temperature and good count keep history (raw and the
 * standard aggregates of node-opcua); ReadAtTime is answered by `at-time-history.ts`.
 */
import type { Namespace, UAVariable } from 'node-opcua-address-space';
import { DataType, StatusCodes, Variant, VariantArrayType } from 'node-opcua-client';

/** The line states, in their EnumStrings order (OPC 10000-8 §5.3.3.3 MultiStateDiscreteType). */
export const LINE_STATES = ['Stopped', 'Starting', 'Running', 'Blocked', 'Starved', 'Fault'] as const;

export interface PackagingLine {
  /** Node ids, as strings (`ns=1;s=…`), of the line's variables. */
  nodeIds: Record<string, string>;
  /** Variables that keep history. */
  historized: UAVariable[];
  /** One simulation step (the server calls it every tickMs). */
  step(): void;
}

const READ_ONLY = { accessLevel: 'CurrentRead', userAccessLevel: 'CurrentRead' } as const;
const READ_WRITE = {
  accessLevel: 'CurrentRead | CurrentWrite',
  userAccessLevel: 'CurrentRead | CurrentWrite',
} as const;

const UNITS = {
  perMinute: { unitId: 4403766, displayName: { text: '1/min' }, description: { text: 'per minute' } },
  celsius: { unitId: 4408652, displayName: { text: '°C' }, description: { text: 'degree Celsius' } },
  millimetre: { unitId: 5066068, displayName: { text: 'mm' }, description: { text: 'millimetre' } },
};

export function buildPackagingLine(
  namespace: Namespace,
  options: { benchItems?: number } = {},
): PackagingLine {
  const addressSpace = namespace.addressSpace;
  const line = namespace.addFolder(addressSpace.rootFolder.objects, {
    nodeId: 's=PackagingLine',
    browseName: 'PackagingLine',
  });
  const id = (name: string) => `s=Line1.${name}`;
  const nodeIds: Record<string, string> = {};
  const note = (v: UAVariable) => {
    nodeIds[v.browseName.name!] = v.nodeId.toString();
    return v;
  };

  const speed = note(
    namespace.addAnalogDataItem({
      componentOf: line,
      nodeId: id('Speed'),
      browseName: 'Speed',
      description: 'Filler speed',
      dataType: 'Double',
      engineeringUnitsRange: { low: 0, high: 600 },
      engineeringUnits: UNITS.perMinute,
      value: { dataType: DataType.Double, value: 0 },
      minimumSamplingInterval: 100,
      ...READ_ONLY,
    }) as unknown as UAVariable,
  );
  const setpoint = note(
    namespace.addAnalogDataItem({
      componentOf: line,
      nodeId: id('SpeedSetpoint'),
      browseName: 'SpeedSetpoint',
      description: 'Filler speed setpoint',
      dataType: 'Double',
      engineeringUnitsRange: { low: 0, high: 600 },
      engineeringUnits: UNITS.perMinute,
      ...READ_WRITE,
      value: { dataType: DataType.Double, value: 420 },
    }) as unknown as UAVariable,
  );
  const temperature = note(
    namespace.addAnalogDataItem({
      componentOf: line,
      nodeId: id('SealTemperature'),
      browseName: 'SealTemperature',
      description: 'Sealing jaw temperature',
      dataType: 'Float',
      engineeringUnitsRange: { low: 0, high: 250 },
      engineeringUnits: UNITS.celsius,
      value: { dataType: DataType.Float, value: 160 },
      ...READ_ONLY,
    }) as unknown as UAVariable,
  );
  const variable = (
    name: string,
    dataType: DataType,
    value: unknown,
    extra: { description?: string; writable?: boolean; arrayType?: VariantArrayType } = {},
  ) =>
    note(
      namespace.addVariable({
        componentOf: line,
        nodeId: id(name),
        browseName: name,
        ...(extra.description ? { description: extra.description } : {}),
        dataType: DataType[dataType],
        ...(extra.arrayType ? { valueRank: 1, arrayDimensions: [0] } : {}),
        ...(extra.writable ? READ_WRITE : READ_ONLY),
        value: new Variant({ dataType, value, arrayType: extra.arrayType ?? VariantArrayType.Scalar }),
      }),
    );
  const goodCount = variable('GoodCount', DataType.UInt32, 0, { description: 'Packs filled and sealed' });
  const rejectCount = variable('RejectCount', DataType.UInt32, 0, { description: 'Packs rejected' });
  const totalCount = variable('TotalCount', DataType.UInt64, [0, 4_000_000_000], {
    description: 'Packs since commissioning',
  });
  const batch = variable('BatchId', DataType.String, 'B-2026-0001', {
    description: 'Current batch',
    writable: true,
  });
  const enabled = variable('Enabled', DataType.Boolean, true, {
    description: 'Line enabled by the operator',
    writable: true,
  });
  const recipeStep = variable('RecipeStep', DataType.Int16, 3, {
    description: 'Recipe step',
    writable: true,
  });
  const lastStop = variable('LastStop', DataType.DateTime, new Date('2026-12-01T06:00:00Z'), {
    description: 'When the line last stopped',
  });
  const laneWidths = variable('LaneWidths', DataType.Double, new Float64Array([80.5, 80.5, 79.9, 80.1]), {
    description: 'Lane widths',
    arrayType: VariantArrayType.Array,
    writable: true,
  });
  const state = note(
    namespace.addMultiStateDiscrete({
      componentOf: line,
      nodeId: id('State'),
      browseName: 'State',
      description: 'Line state',
      enumStrings: [...LINE_STATES],
      value: 2,
      ...READ_ONLY,
    }) as unknown as UAVariable,
  );
  const alarm = (name: string, description: string) =>
    note(
      namespace.addTwoStateDiscrete({
        componentOf: line,
        nodeId: id(name),
        browseName: name,
        description,
        trueState: 'Active',
        falseState: 'Normal',
        value: false,
        ...READ_ONLY,
      }) as unknown as UAVariable,
    );
  const jam = alarm('JamAlarm', 'Jam at the capper');
  const lowFilm = alarm('LowFilmAlarm', 'Sealing film running low');

  const bench: UAVariable[] = [];
  if (options.benchItems) {
    const folder = namespace.addFolder(addressSpace.rootFolder.objects, {
      nodeId: 's=Bench',
      browseName: 'Bench',
    });
    for (let i = 0; i < options.benchItems; i++) {
      bench.push(
        namespace.addVariable({
          componentOf: folder,
          nodeId: `s=Bench.Item${String(i).padStart(5, '0')}`,
          browseName: `Item${String(i).padStart(5, '0')}`,
          dataType: 'Double',
          minimumSamplingInterval: 100,
          value: new Variant({ dataType: DataType.Double, value: i }),
        }),
      );
    }
  }

  for (const v of [speed, temperature, goodCount])
    addressSpace.installHistoricalDataNode(v, { maxOnlineValues: 100_000 });

  let tick = 0;
  let speedNow = 0;
  let good = 0;
  let rejects = 0;
  const set = (v: UAVariable, dataType: DataType, value: unknown) =>
    v.setValueFromSource(new Variant({ dataType, value }), StatusCodes.Good);
  const step = () => {
    tick++;
    const running = enabled.readValue().value.value === true;
    const target = running ? (setpoint.readValue().value.value as number) : 0;
    speedNow += (target - speedNow) * 0.3 + (running ? Math.sin(tick / 5) * 2 : 0);
    if (Math.abs(speedNow) < 0.01) speedNow = 0;
    set(speed, DataType.Double, Math.round(speedNow * 100) / 100);
    set(temperature, DataType.Float, 160 + Math.sin(tick / 20) * 3);
    const made = Math.round(speedNow / 60);
    const rejected = tick % 17 === 0 && made > 0 ? 1 : 0;
    good += made - rejected;
    rejects += rejected;
    set(goodCount, DataType.UInt32, good);
    set(rejectCount, DataType.UInt32, rejects);
    const jammed = running && tick % 120 >= 110;
    set(jam, DataType.Boolean, jammed);
    set(lowFilm, DataType.Boolean, tick % 300 >= 280);
    set(state, DataType.UInt32, !running ? 0 : jammed ? 3 : speedNow < target * 0.9 ? 1 : 2);
    for (const [i, v] of bench.entries()) set(v, DataType.Double, i + (tick % 100) / 10);
  };
  // Read-only variables that the simulation never changes still need a timestamp from the source.
  for (const v of [totalCount, batch, recipeStep, lastStop, laneWidths]) v.touchValue();

  return { nodeIds, historized: [speed, temperature, goodCount], step };
}
