/**
 * A Modbus TCP client (MODBUS Messaging on TCP/IP Implementation Guide §3.1): MBAP header, one
 * transaction at a time, answers matched by transaction id so a late answer to an abandoned request is
 * recognised and dropped. Anything that is not a well-formed answer to the request in flight fails it
 * as a link error, and the connection is given up. Registers are read straight from the answer frame.
 */
import net from 'node:net';
import { type BitTable, ModbusRequestError, type ModbusTransport, type RegisterTable } from './transport.ts';

const READ_FC: Record<BitTable | RegisterTable, number> = { coil: 1, discrete: 2, holding: 3, input: 4 };

interface Pending {
  transaction: number;
  unitId: number;
  fc: number;
  resolve(pdu: Buffer): void;
  reject(error: ModbusRequestError): void;
  timer: NodeJS.Timeout;
}

export class ModbusTcpTransport implements ModbusTransport {
  private readonly socket: net.Socket;
  private readonly timeoutMs: number;
  private pending: Pending | undefined;
  private transaction = 0;
  private buffer: Buffer = Buffer.alloc(0);
  private open = true;
  private readonly closeListeners: ((reason: string) => void)[] = [];

  private constructor(socket: net.Socket, timeoutMs: number) {
    this.socket = socket;
    this.timeoutMs = timeoutMs;
    socket.setNoDelay(true);
    socket.on('data', (chunk) => this.receive(chunk));
    socket.on('error', (error) => this.fail(error.message));
    socket.on('close', () => this.fail('closed by the device'));
  }

  static connect(host: string, port: number, timeoutMs: number): Promise<ModbusTcpTransport> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host, port });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`no connection to ${host}:${port} within ${timeoutMs} ms`));
      }, timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        resolve(new ModbusTcpTransport(socket, timeoutMs));
      });
      socket.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
    });
  }

  get isOpen(): boolean {
    return this.open;
  }

  async readBits(unitId: number, table: BitTable, address: number, count: number): Promise<boolean[]> {
    const pdu = await this.call(unitId, READ_FC[table], address, count);
    if (pdu[1] !== Math.ceil(count / 8) || pdu.length !== 2 + pdu[1]) throw this.garbage('bit count');
    const bits: boolean[] = new Array(count);
    for (let i = 0; i < count; i++) bits[i] = ((pdu[2 + (i >> 3)]! >> (i & 7)) & 1) === 1;
    return bits;
  }

  async readRegisters(
    unitId: number,
    table: RegisterTable,
    address: number,
    count: number,
  ): Promise<number[]> {
    const pdu = await this.call(unitId, READ_FC[table], address, count);
    if (pdu[1] !== count * 2 || pdu.length !== 2 + count * 2) throw this.garbage('byte count');
    const registers: number[] = new Array(count);
    for (let i = 0; i < count; i++) registers[i] = pdu.readUInt16BE(2 + i * 2);
    return registers;
  }

  async writeCoils(unitId: number, address: number, values: readonly boolean[]): Promise<void> {
    if (values.length === 1) {
      await this.call(unitId, 5, address, values[0] ? 0xff00 : 0x0000);
      return;
    }
    const bytes = Buffer.alloc(Math.ceil(values.length / 8));
    values.forEach((on, i) => {
      if (on) bytes[i >> 3]! |= 1 << (i & 7);
    });
    await this.call(unitId, 15, address, values.length, bytes);
  }

  async writeRegisters(unitId: number, address: number, values: readonly number[]): Promise<void> {
    if (values.length === 1) {
      await this.call(unitId, 6, address, values[0]!);
      return;
    }
    const bytes = Buffer.alloc(values.length * 2);
    values.forEach((word, i) => {
      bytes.writeUInt16BE(word, i * 2);
    });
    await this.call(unitId, 16, address, values.length, bytes);
  }

  onClose(listener: (reason: string) => void): void {
    this.closeListeners.push(listener);
  }

  async close(): Promise<void> {
    this.fail('closed by the gateway');
  }

  /** Sends one request (fc, address, count-or-value[, byte count, data]) and resolves with the answer PDU. */
  private call(
    unitId: number,
    fc: number,
    address: number,
    countOrValue: number,
    data?: Buffer,
  ): Promise<Buffer> {
    if (!this.open) return Promise.reject(ModbusRequestError.link('not connected'));
    if (this.pending) return Promise.reject(ModbusRequestError.link('a request is already in flight'));
    this.transaction = (this.transaction + 1) & 0xffff;
    const pduLength = 5 + (data ? 1 + data.length : 0);
    const frame = Buffer.allocUnsafe(7 + pduLength);
    frame.writeUInt16BE(this.transaction, 0);
    frame.writeUInt16BE(0, 2); // protocol id: Modbus
    frame.writeUInt16BE(1 + pduLength, 4);
    frame.writeUInt8(unitId, 6);
    frame.writeUInt8(fc, 7);
    frame.writeUInt16BE(address, 8);
    frame.writeUInt16BE(countOrValue, 10);
    if (data) {
      frame.writeUInt8(data.length, 12);
      data.copy(frame, 13);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending = undefined;
        reject(ModbusRequestError.timeout());
      }, this.timeoutMs);
      this.pending = { transaction: this.transaction, unitId, fc, resolve, reject, timer };
      this.socket.write(frame);
    });
  }

  private receive(chunk: Buffer): void {
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
    while (this.buffer.length >= 7) {
      const transaction = this.buffer.readUInt16BE(0);
      const protocol = this.buffer.readUInt16BE(2);
      const length = this.buffer.readUInt16BE(4);
      if (protocol !== 0 || length < 2 || length > 254) {
        this.fail('the device sent a frame that is not Modbus TCP');
        return;
      }
      if (this.buffer.length < 6 + length) return;
      const unitId = this.buffer.readUInt8(6);
      const pdu = this.buffer.subarray(7, 6 + length);
      this.buffer = this.buffer.subarray(6 + length);
      const pending = this.pending;
      // A late answer to a request that already timed out: not ours any more.
      if (!pending || transaction !== pending.transaction) continue;
      this.pending = undefined;
      clearTimeout(pending.timer);
      const fc = pdu[0]!;
      if (unitId !== pending.unitId || (fc & 0x7f) !== pending.fc) {
        pending.reject(this.garbage('unit or function code'));
      } else if (fc & 0x80) {
        pending.reject(ModbusRequestError.exception(pdu[1] ?? 0));
      } else {
        pending.resolve(pdu);
      }
    }
  }

  private garbage(what: string): ModbusRequestError {
    return ModbusRequestError.link(`the device answered with a wrong ${what}`);
  }

  private fail(reason: string): void {
    if (!this.open) return;
    this.open = false;
    this.socket.destroy();
    const pending = this.pending;
    this.pending = undefined;
    if (pending) {
      clearTimeout(pending.timer);
      pending.reject(ModbusRequestError.link(reason));
    }
    for (const listener of this.closeListeners) listener(reason);
  }
}
