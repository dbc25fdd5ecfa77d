import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { TagValue } from '../../drivers/core/index.ts';
import { HistoryStore } from './store.ts';

const dir = () => mkdtempSync(path.join(os.tmpdir(), 'plantgate-history-'));
const options = { maxAgeDays: 30, maxSizeMB: 1024, heartbeatMs: 60_000, flushMs: 60_000 };
const v = (time: number, value: TagValue['value'], status: TagValue['status'] = 'good'): TagValue => ({
  tag: 'T',
  time,
  value,
  status,
});
const all = { start: 0, end: 10_000_000, maxValues: 1000, boundary: 'inside' as const };

describe('local history store', () => {
  it('given repeated values, when recorded, then only changes are stored, with the last steady sample before a change', () => {
    const store = new HistoryStore(dir(), options);
    const written =
      store.record('s', [v(1000, 1)]) +
      store.record('s', [v(2000, 1)]) +
      store.record('s', [v(3000, 1)]) +
      store.record('s', [v(4000, 2)]);
    expect(written).toBe(3);
    expect(store.readRaw('s', 'T', all).map((x) => [x.time, x.value])).toEqual([
      [1000, 1],
      [3000, 1],
      [4000, 2],
    ]);
    store.close();
  });

  it('given a steady value, when read before the heartbeat, then the newest held sample is part of the answer', () => {
    const store = new HistoryStore(dir(), options);
    store.record('s', [v(1000, 5)]);
    store.record('s', [v(2000, 5)]);
    expect(store.readRaw('s', 'T', all).map((x) => x.time)).toEqual([1000, 2000]);
    store.record('s', [v(61_001, 5)]);
    expect(store.readRaw('s', 'T', all).map((x) => x.time)).toEqual([1000, 61_001]);
    store.close();
  });

  it('given values of every kind, when stored and read, then type, quality, code and error survive', () => {
    const store = new HistoryStore(dir(), options);
    store.record('s', [
      { tag: 'a', time: 1, value: 'text', status: 'good' },
      { tag: 'b', time: 1, value: true, status: 'uncertain' },
      { tag: 'c', time: 1, value: [1, 2.5], status: 'good' },
      { tag: 'd', time: 1, value: null, status: 'bad', statusCode: 2, error: 'Modbus exception 2' },
      { tag: 'e', time: 1, value: '18446744073709551614', status: 'good' },
    ]);
    const read = (tag: string) => store.readRaw('s', tag, all)[0];
    for (const written of [false, true]) {
      // Once waiting in memory, once read back from the written chunk.
      if (written) store.flush(0, true);
      expect(read('a')).toEqual({ time: 1, value: 'text', status: 'good' });
      expect(read('b')).toEqual({ time: 1, value: true, status: 'uncertain' });
      expect(read('c')).toEqual({ time: 1, value: [1, 2.5], status: 'good' });
      expect(read('d')).toEqual({
        time: 1,
        value: null,
        status: 'bad',
        statusCode: 2,
        error: 'Modbus exception 2',
      });
      expect(read('e')!.value).toBe('18446744073709551614');
    }
    store.close();
  });

  it('given boundary outside, when read, then the samples just before and after the range come too', () => {
    const store = new HistoryStore(dir(), options);
    for (let i = 0; i < 10; i++) store.record('s', [v(i * 1000, i)]);
    const inside = store.readRaw('s', 'T', { start: 3000, end: 5000, maxValues: 100, boundary: 'inside' });
    const outside = store.readRaw('s', 'T', { start: 3500, end: 5500, maxValues: 100, boundary: 'outside' });
    expect(inside.map((x) => x.value)).toEqual([3, 4, 5]);
    expect(outside.map((x) => x.value)).toEqual([3, 4, 5, 6]);
    store.close();
  });

  it('given a closed store, when reopened, then the history is still there', () => {
    const where = dir();
    const first = new HistoryStore(where, options);
    first.record('s', [v(1000, 1), { ...v(1000, 9), tag: 'U' }]);
    first.record('s', [v(2000, 2)]);
    first.close();
    const second = new HistoryStore(where, options);
    expect(second.readRaw('s', 'T', all).map((x) => x.value)).toEqual([1, 2]);
    expect(second.readRaw('s', 'U', all).map((x) => x.value)).toEqual([9]);
    second.close();
  });

  it('given kept samples, when they are younger than flushMs, then they wait in memory (readable) and are written once due', () => {
    const where = dir();
    const store = new HistoryStore(where, { ...options, flushMs: 5000 });
    const reader = new HistoryStore(where, options);
    store.record('s', [v(1000, 1)]);
    store.record('s', [v(2000, 2)]);
    expect(store.readRaw('s', 'T', all).map((x) => x.value)).toEqual([1, 2]);
    store.flush(4000);
    expect(reader.readRaw('s', 'T', all)).toEqual([]);
    store.flush(6000);
    expect(reader.readRaw('s', 'T', all).map((x) => x.value)).toEqual([1, 2]);
    store.record('s', [v(7000, 3)]);
    expect(store.readRaw('s', 'T', all).map((x) => x.value)).toEqual([1, 2, 3]);
    store.close();
    reader.close();
  });

  it('given boundary outside across written chunks and waiting samples, when read, then the neighbours are found in either', () => {
    const store = new HistoryStore(dir(), options);
    for (let i = 0; i < 6; i++) {
      store.record('s', [v(i * 1000, i)]);
      if (i % 2 === 1) store.flush(0, true);
    }
    store.record('s', [v(9000, 9)]);
    const read = (start: number, end: number) =>
      store.readRaw('s', 'T', { start, end, maxValues: 100, boundary: 'outside' }).map((x) => x.value);
    expect(read(2500, 3500)).toEqual([2, 3, 4]);
    expect(read(5500, 8000)).toEqual([5, 9]);
    expect(read(-5, -1)).toEqual([0]);
    expect(read(10_000, 20_000)).toEqual([9]);
    store.close();
  });

  it('given values older than the age limit, when retention runs, then they are deleted and newer ones kept', () => {
    const store = new HistoryStore(dir(), { ...options, maxAgeDays: 1 });
    const now = Date.now();
    store.record('s', [v(now - 3 * 86_400_000, 1)]);
    store.flush(now, true);
    store.record('s', [v(now - 3600_000, 2)]);
    store.flush(now, true);
    expect(store.enforceRetention(now).deleted).toBe(1);
    expect(store.readRaw('s', 'T', { ...all, end: now }).map((x) => x.value)).toEqual([2]);
    store.close();
  });

  it('given more data than the size limit, when retention runs, then the oldest values go until it fits', () => {
    const store = new HistoryStore(dir(), { ...options, maxSizeMB: 1 });
    const now = Date.now();
    const start = now - 60_000_000;
    for (let batch = 0; batch < 60; batch++) {
      const values: TagValue[] = [];
      for (let i = 0; i < 3000; i++)
        values.push({
          tag: `T${i % 10}`,
          time: start + batch * 1_000_000 + i * 100,
          value: Math.random(),
          status: 'good',
        });
      store.record('s', values);
    }
    store.flush(now, true);
    expect(store.sizeBytes()).toBeGreaterThan(1024 * 1024);
    const { deleted } = store.enforceRetention(now);
    expect(deleted).toBeGreaterThan(0);
    expect(store.sizeBytes()).toBeLessThanOrEqual(1024 * 1024);
    // What is left is the newest part.
    const left = store.readRaw('s', 'T0', { start: 0, end: now, maxValues: 100_000, boundary: 'inside' });
    expect(left.length).toBeGreaterThan(0);
    expect(left.at(-1)!.time).toBe(start + 59 * 1_000_000 + 2990 * 100);
    store.close();
  });
});
