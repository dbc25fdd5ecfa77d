import { describe, expect, it } from 'vitest';
import { type Frame, LinkCall } from './link-dispatcher.ts';

const frame = (seq: number, kind: Frame['header']['kind'] = 'data'): Frame => ({
  header: { id: 'r1', seq, kind },
  body: Buffer.from(String(seq)),
});

describe('a call in flight', () => {
  it('given more frames at once than its queue holds, when the consumer reads, then every delivery is released in order', async () => {
    // A broker that reads several packets in one go hands them over without waiting for each other.
    const call = new LinkCall('r1', 'site-a', () => undefined);
    const deliveries = [0, 1, 2, 3, 4, 5, 6, 7].map((seq) => call.accept(frame(seq)));
    deliveries.push(call.accept(frame(8, 'end')));
    const read: string[] = [];
    for await (const f of call) read.push(f.body.toString());
    await Promise.all(deliveries);
    expect(read).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8']);
  });

  it('given a frame out of order, then the call fails with PG_ERR_LINK_LOST and releases its deliveries', async () => {
    const call = new LinkCall('r1', 'site-a', () => undefined);
    const deliveries = [0, 1, 2, 3, 4].map((seq) => call.accept(frame(seq)));
    deliveries.push(call.accept(frame(9)));
    await Promise.all(deliveries);
    const read: string[] = [];
    await expect(
      (async () => {
        for await (const f of call) read.push(f.body.toString());
      })(),
    ).rejects.toMatchObject({ code: 'PG_ERR_LINK_LOST' });
  });
});
