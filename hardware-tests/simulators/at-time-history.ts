/**
 * ReadAtTime for the simulator's historized variables, which node-opcua's in-memory historian does not
 * offer. As OPC 10000-11 §6.4.5 asks: a value stored at the time is returned as it is; otherwise it is
 * interpolated from the values around it with simple bounds; before the first value there is no data.
 */
import type { UAVariable } from 'node-opcua-address-space';
import {
  type DataType,
  DataValue,
  HistoryData,
  HistoryReadResult,
  ReadAtTimeDetails,
  ReadRawModifiedDetails,
  StatusCodes,
  Variant,
} from 'node-opcua-client';

type HistoryReadCallback = (error: Error | null, result?: HistoryReadResult) => void;
interface HistorizedVariable {
  _historyRead: (...args: unknown[]) => void;
  varHistorian: {
    extractDataValues(
      details: ReadRawModifiedDetails,
      max: number,
      reversed: boolean,
      reverse: boolean,
      callback: (error: Error | null, values?: DataValue[]) => void,
    ): void;
  };
}

function valueAt(values: DataValue[], time: number, dataType: DataType): DataValue {
  let before: DataValue | undefined;
  let after: DataValue | undefined;
  for (const v of values) {
    const t = v.sourceTimestamp!.getTime();
    if (t === time) return v;
    if (t < time) before = v;
    else {
      after = v;
      break;
    }
  }
  if (!before) return new DataValue({ statusCode: StatusCodes.BadNoData, sourceTimestamp: new Date(time) });
  if (!after || typeof before.value.value !== 'number' || typeof after.value.value !== 'number') {
    return new DataValue({
      value: before.value,
      statusCode: StatusCodes.UncertainDataSubNormal,
      sourceTimestamp: new Date(time),
    });
  }
  const t0 = before.sourceTimestamp!.getTime();
  const t1 = after.sourceTimestamp!.getTime();
  const v = before.value.value + ((after.value.value - before.value.value) * (time - t0)) / (t1 - t0);
  return new DataValue({ value: new Variant({ dataType, value: v }), sourceTimestamp: new Date(time) });
}

export function installReadAtTime(variable: UAVariable): void {
  const node = variable as unknown as HistorizedVariable;
  const original = node._historyRead;
  node._historyRead = function historyRead(this: unknown, ...args: unknown[]) {
    const details = args[1];
    const callback = args[5] as HistoryReadCallback;
    if (!(details instanceof ReadAtTimeDetails)) return original.apply(this, args);
    const all = new ReadRawModifiedDetails({
      startTime: new Date(0),
      endTime: new Date(8.64e15),
      numValuesPerNode: 0,
      returnBounds: false,
    });
    node.varHistorian.extractDataValues(all, 0, false, false, (error, values) => {
      if (error) return callback(error);
      const dataType = variable.dataTypeObj.basicDataType;
      const dataValues = (details.reqTimes ?? []).map((t) =>
        valueAt(values ?? [], t?.getTime() ?? 0, dataType),
      );
      callback(
        null,
        new HistoryReadResult({ historyData: new HistoryData({ dataValues }), statusCode: StatusCodes.Good }),
      );
    });
  };
}
