/**
 * Modbus RTU, on a serial port or as raw RTU frames through a TCP device server, through modbus-serial.
 * Its errors are mapped to ModbusRequestError like those of the TCP client.
 */
import ModbusSerial from 'modbus-serial';
import type { ModbusRTU as ModbusClient } from 'modbus-serial/ModbusRTU.js';
import type { ModbusSettings } from './settings.ts';
import { type BitTable, ModbusRequestError, type ModbusTransport, type RegisterTable } from './transport.ts';

// modbus-serial is CommonJS whose typings declare an ES default export; at run time the module itself
// is the client class.
const ModbusRTU = ModbusSerial as unknown as typeof ModbusClient;

function mapError(error: unknown): ModbusRequestError {
  const e = error as { modbusCode?: number; errno?: string; message?: string };
  if (typeof e.modbusCode === 'number') return ModbusRequestError.exception(e.modbusCode);
  if (e.errno === 'ETIMEDOUT' || e.message === 'Timed out') return ModbusRequestError.timeout();
  return ModbusRequestError.link(e.message ?? String(error));
}

export class SerialLineTransport implements ModbusTransport {
  private readonly client: ModbusClient;

  private constructor(client: ModbusClient) {
    this.client = client;
  }

  static async connect(settings: ModbusSettings): Promise<SerialLineTransport> {
    const client = new ModbusRTU();
    try {
      if (settings.transport === 'rtu') {
        const serial = settings.serial!;
        await client.connectRTUBuffered(serial.path, {
          baudRate: serial.baudRate,
          parity: serial.parity,
          dataBits: serial.dataBits,
          stopBits: serial.stopBits,
        });
      } else {
        // modbus-serial's "telnet" port sends raw RTU frames (with CRC) over a TCP socket, as a serial
        // device server in transparent mode expects; its "TcpRTUBuffered" port speaks MBAP instead.
        await client.connectTelnet(settings.host!, { port: settings.port });
      }
    } catch (error) {
      client.close(() => undefined);
      throw error;
    }
    client.setTimeout(settings.timeoutMs);
    return new SerialLineTransport(client);
  }

  get isOpen(): boolean {
    return this.client.isOpen;
  }

  async readBits(unitId: number, table: BitTable, address: number, count: number): Promise<boolean[]> {
    return this.run(unitId, async (c) =>
      (table === 'coil'
        ? await c.readCoils(address, count)
        : await c.readDiscreteInputs(address, count)
      ).data.slice(0, count),
    );
  }

  async readRegisters(
    unitId: number,
    table: RegisterTable,
    address: number,
    count: number,
  ): Promise<number[]> {
    return this.run(
      unitId,
      async (c) =>
        (table === 'holding'
          ? await c.readHoldingRegisters(address, count)
          : await c.readInputRegisters(address, count)
        ).data,
    );
  }

  async writeCoils(unitId: number, address: number, values: readonly boolean[]): Promise<void> {
    await this.run(unitId, async (c) => {
      if (values.length === 1) await c.writeCoil(address, values[0]!);
      else await c.writeCoils(address, [...values]);
    });
  }

  async writeRegisters(unitId: number, address: number, values: readonly number[]): Promise<void> {
    await this.run(unitId, async (c) => {
      if (values.length === 1) await c.writeRegister(address, values[0]!);
      else await c.writeRegisters(address, [...values]);
    });
  }

  onClose(listener: (reason: string) => void): void {
    let told = false;
    const tell = (reason: string) => {
      if (!told) {
        told = true;
        listener(reason);
      }
    };
    this.client.on('close', () => tell('closed by the device'));
    this.client.on('error', (error: unknown) => tell((error as Error).message ?? 'link error'));
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.client.close(() => resolve()));
  }

  private async run<T>(unitId: number, call: (client: ModbusClient) => Promise<T>): Promise<T> {
    try {
      this.client.setID(unitId);
      return await call(this.client);
    } catch (error) {
      throw mapError(error);
    }
  }
}
