/**
 * Values kept in columns: times, numbers and quality in typed arrays, so thousands of values that live
 * for seconds (the latest value of each tag, samples waiting to be written) cost a few bytes each and
 * give the garbage collector nothing to copy or promote. A value that is not a plain number (text, an
 * array, a protocol code or an error) keeps an object of its own.
 */
import type { Status, Value } from './model.ts';

/** Quality as a small number, for columns and stored chunks. */
export const STATUS_CODE: Record<Status, number> = { good: 0, uncertain: 1, bad: 2 };
export const STATUS_NAME: readonly Status[] = ['good', 'uncertain', 'bad'];

export class ValueColumns {
  private times: Float64Array;
  private numbers: Float64Array;
  private statuses: Uint8Array;
  private objects: (Value | undefined)[] | undefined;

  constructor(capacity: number) {
    [this.times, this.numbers, this.statuses] = ValueColumns.allocate(capacity);
  }

  /**
   * The three columns as views of one buffer: a tag's samples cost one ArrayBuffer and one backing
   * store, not three (each is a few hundred bytes of bookkeeping, against 17 bytes a sample).
   */
  private static allocate(capacity: number): [Float64Array, Float64Array, Uint8Array] {
    const buffer = new ArrayBuffer(capacity * 17);
    return [
      new Float64Array(buffer, 0, capacity),
      new Float64Array(buffer, capacity * 8, capacity),
      new Uint8Array(buffer, capacity * 16, capacity),
    ];
  }

  get capacity(): number {
    return this.times.length;
  }

  set(i: number, v: Value): void {
    this.times[i] = v.time;
    if (typeof v.value === 'number' && v.statusCode === undefined && v.error === undefined) {
      this.numbers[i] = v.value;
      this.statuses[i] = STATUS_CODE[v.status];
      if (this.objects) this.objects[i] = undefined;
      return;
    }
    this.objects ??= [];
    const copy: Value = { time: v.time, value: v.value, status: v.status };
    if (v.statusCode !== undefined) copy.statusCode = v.statusCode;
    if (v.error !== undefined) copy.error = v.error;
    this.objects[i] = copy;
  }

  /** A new object for the value at `i` (callers may keep it). */
  get(i: number): Value {
    const object = this.objects?.[i];
    if (object) return { ...object };
    return { time: this.times[i]!, value: this.numbers[i]!, status: STATUS_NAME[this.statuses[i]!]! };
  }

  timeAt(i: number): number {
    return this.times[i]!;
  }

  /** The parts of the value at `i`, without making an object for it. */
  valueAt(i: number): Value['value'] {
    const object = this.objects?.[i];
    return object ? object.value : this.numbers[i]!;
  }

  statusAt(i: number): Status {
    return this.objects?.[i]?.status ?? STATUS_NAME[this.statuses[i]!]!;
  }

  statusCodeAt(i: number): number | undefined {
    return this.objects?.[i]?.statusCode;
  }

  errorAt(i: number): string | undefined {
    return this.objects?.[i]?.error;
  }

  /** Forgets the objects of values not plain numbers, e.g. when a buffer is emptied. */
  dropObjects(): void {
    this.objects = undefined;
  }

  resize(capacity: number): void {
    const [times, numbers, statuses] = ValueColumns.allocate(capacity);
    const kept = Math.min(this.times.length, capacity);
    times.set(this.times.subarray(0, kept));
    numbers.set(this.numbers.subarray(0, kept));
    statuses.set(this.statuses.subarray(0, kept));
    this.times = times;
    this.numbers = numbers;
    this.statuses = statuses;
  }
}
