/**
 * What the driver needs from a Modbus link: reads and writes by table, with the unit named on each call.
 * Modbus TCP has its own lean client (tcp-transport.ts); serial lines and RTU through a TCP device
 * server go through modbus-serial (serial-transport.ts).
 */
import { StatusCodes } from '../core/index.ts';

export type BitTable = 'coil' | 'discrete';
export type RegisterTable = 'holding' | 'input';

export interface ModbusTransport {
  readonly isOpen: boolean;
  readBits(unitId: number, table: BitTable, address: number, count: number): Promise<boolean[]>;
  readRegisters(unitId: number, table: RegisterTable, address: number, count: number): Promise<number[]>;
  /** FC05 for one coil, FC15 for several. */
  writeCoils(unitId: number, address: number, values: readonly boolean[]): Promise<void>;
  /** FC06 for one register, FC16 for several. */
  writeRegisters(unitId: number, address: number, values: readonly number[]): Promise<void>;
  /** Called once when the link closes or fails. */
  onClose(listener: (reason: string) => void): void;
  close(): Promise<void>;
}

export const MODBUS_EXCEPTIONS: Record<number, string> = {
  1: 'illegal function',
  2: 'illegal data address',
  3: 'illegal data value',
  4: 'server device failure',
  5: 'acknowledge',
  6: 'server device busy',
  8: 'memory parity error',
  10: 'gateway path unavailable',
  11: 'gateway target device failed to respond',
};

/** A request failed: `exception` when the device answered with a Modbus exception, else a link failure. */
export class ModbusRequestError extends Error {
  readonly kind: 'exception' | 'timeout' | 'link';
  /** The Modbus exception code, or an OPC-UA-style code for timeouts and link failures. */
  readonly statusCode: number;

  constructor(kind: 'exception' | 'timeout' | 'link', statusCode: number, message: string) {
    super(message);
    this.kind = kind;
    this.statusCode = statusCode;
  }

  static exception(code: number): ModbusRequestError {
    return new ModbusRequestError(
      'exception',
      code,
      `Modbus exception ${code} (${MODBUS_EXCEPTIONS[code] ?? 'unknown exception'})`,
    );
  }

  static timeout(): ModbusRequestError {
    return new ModbusRequestError('timeout', StatusCodes.BadTimeout, 'the device did not answer in time');
  }

  static link(message: string, statusCode: number = StatusCodes.BadCommunicationError): ModbusRequestError {
    return new ModbusRequestError('link', statusCode, message);
  }
}
