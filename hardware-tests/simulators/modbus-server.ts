/**
 * A Modbus TCP server for the simulators: the four tables as plain arrays, unmapped ranges that answer
 * exception 2, and faults a real device shows (silence, garbage, a closed socket) to prove the gateway
 * survives them. Frames follow MODBUS Messaging on TCP/IP §3.1 (MBAP header) and the function codes of
 * the MODBUS Application Protocol §6 (FC 1, 2, 3, 4, 5, 6, 15, 16).
 */
import net from 'node:net';

/** silent: never answers; late: answers after `lateMs`; garbage: answers bytes that are not Modbus; close: drops the socket. */
export type Fault = 'none' | 'silent' | 'late' | 'garbage' | 'close';

export interface ModbusTables {
  coil: Uint8Array;
  discrete: Uint8Array;
  holding: Uint16Array;
  input: Uint16Array;
}

export interface Unmapped {
  table: keyof ModbusTables;
  start: number;
  end: number;
}

export function createTables(): ModbusTables {
  return {
    coil: new Uint8Array(65536),
    discrete: new Uint8Array(65536),
    holding: new Uint16Array(65536),
    input: new Uint16Array(65536),
  };
}

const TABLE_OF_FC: Record<number, keyof ModbusTables> = {
  1: 'coil',
  2: 'discrete',
  3: 'holding',
  4: 'input',
};

export class ModbusTcpSimulator {
  readonly tables: ModbusTables;
  /** Units that answer; any other unit id gets exception 11 (gateway target failed to respond). */
  units = new Set<number>([1]);
  unmapped: Unmapped[] = [];
  /** Faults per unit id; `*` for all. */
  faults = new Map<number | '*', Fault>();
  requests = 0;
  lateMs = 300;
  /** Requests to leave unanswered, once each, before answering again (a lost frame). */
  dropNext = 0;
  /** Arrival times of the last requests (at most 1000), to check pacing. */
  readonly requestTimes: number[] = [];
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();

  constructor(tables: ModbusTables = createTables()) {
    this.tables = tables;
  }

  async listen(port = 0, host = '127.0.0.1'): Promise<number> {
    const server = net.createServer((socket) => this.accept(socket));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    return (server.address() as net.AddressInfo).port;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  setFloat32(table: 'holding' | 'input', address: number, value: number): void {
    const b = Buffer.alloc(4);
    b.writeFloatBE(value);
    this.tables[table][address] = b.readUInt16BE(0);
    this.tables[table][address + 1] = b.readUInt16BE(2);
  }

  private accept(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.setNoDelay(true);
    let pending = Buffer.alloc(0);
    socket.on('data', (chunk) => {
      pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      while (pending.length >= 7) {
        const length = pending.readUInt16BE(4);
        if (pending.length < 6 + length) break;
        const frame = pending.subarray(0, 6 + length);
        pending = pending.subarray(6 + length);
        this.handle(socket, frame);
      }
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => this.sockets.delete(socket));
  }

  private handle(socket: net.Socket, frame: Buffer): void {
    this.requests++;
    this.requestTimes.push(performance.now());
    if (this.requestTimes.length > 1000) this.requestTimes.shift();
    const transaction = frame.readUInt16BE(0);
    const unit = frame.readUInt8(6);
    const pdu = frame.subarray(7);
    const fault = this.faults.get(unit) ?? this.faults.get('*') ?? 'none';
    if (fault === 'silent') return;
    if (this.dropNext > 0) {
      this.dropNext--;
      return;
    }
    if (fault === 'close') {
      socket.destroy();
      return;
    }
    if (fault === 'garbage') {
      socket.write(Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x00, 0x03, 0x42, 0x42, 0x42]));
      return;
    }
    const answer = this.units.has(unit) ? this.execute(pdu) : Buffer.from([pdu[0]! | 0x80, 11]);
    const header = Buffer.alloc(7);
    header.writeUInt16BE(transaction, 0);
    header.writeUInt16BE(0, 2);
    header.writeUInt16BE(answer.length + 1, 4);
    header.writeUInt8(unit, 6);
    const reply = Buffer.concat([header, answer]);
    if (fault === 'late') setTimeout(() => socket.writable && socket.write(reply), this.lateMs);
    else socket.write(reply);
  }

  private isUnmapped(table: keyof ModbusTables, start: number, count: number): boolean {
    return this.unmapped.some((u) => u.table === table && start < u.end && start + count > u.start);
  }

  /** Executes one request PDU and returns the response PDU (or an exception PDU). */
  private execute(pdu: Buffer): Buffer {
    const fc = pdu.readUInt8(0);
    const exception = (code: number) => Buffer.from([fc | 0x80, code]);
    if (pdu.length < 5) return exception(3);
    const address = pdu.readUInt16BE(1);
    const countOrValue = pdu.readUInt16BE(3);
    const table = TABLE_OF_FC[fc];
    if (table) {
      const bits = table === 'coil' || table === 'discrete';
      if (countOrValue < 1 || countOrValue > (bits ? 2000 : 125)) return exception(3);
      if (address + countOrValue > 65536 || this.isUnmapped(table, address, countOrValue))
        return exception(2);
      if (bits) {
        const bytes = Buffer.alloc(Math.ceil(countOrValue / 8));
        for (let i = 0; i < countOrValue; i++) {
          if (this.tables[table][address + i]) bytes[i >> 3]! |= 1 << (i & 7);
        }
        return Buffer.concat([Buffer.from([fc, bytes.length]), bytes]);
      }
      const out = Buffer.alloc(2 + countOrValue * 2);
      out[0] = fc;
      out[1] = countOrValue * 2;
      const registers = this.tables[table] as Uint16Array;
      for (let i = 0; i < countOrValue; i++) out.writeUInt16BE(registers[address + i]!, 2 + i * 2);
      return out;
    }
    switch (fc) {
      case 5:
        if (countOrValue !== 0xff00 && countOrValue !== 0) return exception(3);
        if (this.isUnmapped('coil', address, 1)) return exception(2);
        this.tables.coil[address] = countOrValue === 0xff00 ? 1 : 0;
        return pdu.subarray(0, 5);
      case 6:
        if (this.isUnmapped('holding', address, 1)) return exception(2);
        this.tables.holding[address] = countOrValue;
        return pdu.subarray(0, 5);
      case 15: {
        if (address + countOrValue > 65536 || this.isUnmapped('coil', address, countOrValue))
          return exception(2);
        for (let i = 0; i < countOrValue; i++) {
          this.tables.coil[address + i] = (pdu[6 + (i >> 3)]! >> (i & 7)) & 1;
        }
        return pdu.subarray(0, 5);
      }
      case 16: {
        if (address + countOrValue > 65536 || this.isUnmapped('holding', address, countOrValue))
          return exception(2);
        for (let i = 0; i < countOrValue; i++) this.tables.holding[address + i] = pdu.readUInt16BE(6 + i * 2);
        return pdu.subarray(0, 5);
      }
      default:
        return exception(1);
    }
  }
}
