import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { mqttWebSocketStream } from './link-websocket.ts';

let server: WebSocketServer;
let frames: Buffer[][];

beforeAll(async () => {
  server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => server.once('listening', resolve));
  server.on('connection', (socket) => {
    const mine: Buffer[] = [];
    frames.push(mine);
    socket.on('message', (data) => mine.push(data as Buffer));
  });
});
afterAll(async () => {
  for (const client of server.clients) client.terminate();
  await new Promise((resolve) => server.close(resolve));
});

async function connected(): Promise<{ stream: Duplex; received: Buffer[] }> {
  frames = [];
  const socket = new WebSocket(`ws://127.0.0.1:${(server.address() as AddressInfo).port}`);
  const stream = mqttWebSocketStream(socket);
  await new Promise((resolve) => socket.once('open', resolve));
  await until(() => frames.length === 1);
  return { stream, received: frames[0] as Buffer[] };
}

async function until(done: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !done(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  expect(done()).toBe(true);
}

/** Writes pieces the way mqtt-packet writes a packet: corked, uncorked on the next tick. */
function writeCorked(stream: Duplex, pieces: Buffer[]): void {
  stream.cork();
  for (const piece of pieces) stream.write(piece);
  process.nextTick(() => stream.uncork());
}

describe('MQTT over a WebSocket stream', () => {
  it('given the pieces of one packet written together, when sent, then they travel as one frame', async () => {
    const { stream, received } = await connected();
    const pieces = [Buffer.from([0x30, 0x0a]), Buffer.from([0, 3]), Buffer.from('a/b'), Buffer.from('hello')];
    writeCorked(stream, pieces);
    await until(() => received.length > 0);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(received).toEqual([Buffer.concat(pieces)]);
    stream.destroy();
  });

  it('given a large packet and a small one written together, then the large one does not wait for the rest', async () => {
    const { stream, received } = await connected();
    const large = [Buffer.from([0x30]), Buffer.alloc(100 * 1024, 7)];
    const small = [Buffer.from([0x30, 0x02]), Buffer.from('ok')];
    writeCorked(stream, [...large, ...small]);
    await until(() => received.length === 2);
    expect(received).toEqual([Buffer.concat(large), Buffer.concat(small)]);
    stream.destroy();
  });

  it('given the other end closes, then the stream ends too', async () => {
    const { stream } = await connected();
    const closed = new Promise((resolve) => stream.once('close', resolve));
    for (const client of server.clients) client.close();
    await closed;
    expect(stream.destroyed).toBe(true);
  });
});
