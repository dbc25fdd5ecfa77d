/**
 * MQTT over a WebSocket, as a stream, for both ends of the link. An MQTT packet is written as several
 * pieces (fixed header, topic, packet id, payload) inside one cork; `ws`'s own stream would send each
 * piece as a WebSocket frame of its own — a TLS record and a system call apiece. Here the pieces written
 * together leave in as few frames as they fill, up to FRAME_BYTES each, so a small packet is one frame
 * and several small ones share it, while a large one is not held up behind others (a receiver sees a
 * frame only once all of it arrived). MQTT over WebSocket lets a frame hold any run of bytes of the
 * packet stream (MQTT 3.1.1 §6: the receiver "MUST NOT assume that MQTT Control Packets are aligned on
 * WebSocket frame boundaries"), so both peers read it the same.
 */
import type { Duplex } from 'node:stream';
import { createWebSocketStream, type WebSocket } from 'ws';

/** Pieces are gathered into one frame until it holds at least this many bytes. */
const FRAME_BYTES = 64 * 1024;

export function mqttWebSocketStream(socket: WebSocket): Duplex {
  const stream = createWebSocketStream(socket);
  const writeOne = stream._write.bind(stream);
  stream._writev = (chunks, callback) => {
    const frames: Buffer[] = [];
    let group: Buffer[] = [];
    let size = 0;
    for (const { chunk } of chunks) {
      const piece = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array | string);
      group.push(piece);
      size += piece.length;
      if (size >= FRAME_BYTES) {
        frames.push(group.length === 1 ? piece : Buffer.concat(group, size));
        group = [];
        size = 0;
      }
    }
    if (group.length) frames.push(group.length === 1 ? (group[0] as Buffer) : Buffer.concat(group, size));
    let left = frames.length;
    let finished = false;
    for (const frame of frames)
      writeOne(frame, 'binary', (error?: Error | null) => {
        if (finished || (!error && --left > 0)) return;
        finished = true;
        callback(error);
      });
  };
  // A socket closed from the other end ends the stream too, so the MQTT client sees the link go.
  socket.on('close', () => stream.destroy());
  return stream;
}
