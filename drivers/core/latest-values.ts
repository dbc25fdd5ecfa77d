/**
 * The latest value of each of a driver's tags, by index, in columns: ten thousand live value objects
 * would each outlive the young generation and fill the old one.
 */
import { badValue, StatusCodes, type Value } from './model.ts';
import { ValueColumns } from './value-columns.ts';

export class LatestValues {
  private readonly columns: ValueColumns;
  private readonly have: Uint8Array;

  constructor(count: number) {
    this.columns = new ValueColumns(count);
    this.have = new Uint8Array(count);
  }

  set(index: number, value: Value): void {
    this.columns.set(index, value);
    this.have[index] = 1;
  }

  /** A new object for the tag's latest value, or a bad value saying why there is none yet. */
  get(index: number | undefined, now: number, waiting: string): Value {
    if (index === undefined || !this.have[index])
      return badValue(now, StatusCodes.BadWaitingForInitialData, waiting);
    return this.columns.get(index);
  }
}
