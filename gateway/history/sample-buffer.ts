/** Samples of one tag waiting to be written, in columns (see ValueColumns). */
import { type Value, ValueColumns } from '../../drivers/core/index.ts';
import { encodeChunk } from './chunk.ts';

export class SampleBuffer {
  length = 0;
  private readonly columns = new ValueColumns(4);

  push(v: Value): void {
    if (this.length === this.columns.capacity) this.columns.resize(this.length * 2);
    this.columns.set(this.length++, v);
  }

  timeAt(i: number): number {
    return this.columns.timeAt(i);
  }

  /** The samples as a chunk row (see chunk.ts), read straight from the columns. */
  encode(): { t0: number; t1: number; data: string } {
    return encodeChunk(this.length, this.columns);
  }

  toValues(): Value[] {
    const values: Value[] = [];
    for (let i = 0; i < this.length; i++) values.push(this.columns.get(i));
    return values;
  }

  /** Empties the buffer and keeps its capacity: a tag that changes steadily needs no new arrays. */
  clear(): void {
    this.length = 0;
    this.columns.dropObjects();
  }
}
