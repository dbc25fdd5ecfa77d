/**
 * One connection to a Modbus TCP device, serial line or serial gateway. Requests go one at a time (a
 * serial line carries one transaction at a time, MODBUS over Serial Line §2.4, and many TCP devices
 * accept only one), with a timeout, retries of timed-out requests, an optional pause between requests,
 * and reconnection with jittered exponential back-off after the link fails.
 */
import ModbusSerial from 'modbus-serial';
import type { ModbusRTU as ModbusClient } from 'modbus-serial/ModbusRTU.js';
import { abortedError, type Logger, PlantgateError, StatusCodes } from '../core/index.ts';
import type { ModbusSettings } from './settings.ts';

// modbus-serial is CommonJS whose typings declare an ES default export; at run time the module itself
// is the client class.
const ModbusRTU = ModbusSerial as unknown as typeof ModbusClient;
type Client = ModbusClient;

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
}

function classify(error: unknown): ModbusRequestError {
  if (error instanceof ModbusRequestError) return error;
  const e = error as { modbusCode?: number; errno?: string; message?: string };
  if (typeof e.modbusCode === 'number') {
    const name = MODBUS_EXCEPTIONS[e.modbusCode] ?? 'unknown exception';
    return new ModbusRequestError('exception', e.modbusCode, `Modbus exception ${e.modbusCode} (${name})`);
  }
  if (e.errno === 'ETIMEDOUT' || e.message === 'Timed out') {
    return new ModbusRequestError('timeout', StatusCodes.BadTimeout, 'the device did not answer in time');
  }
  return new ModbusRequestError('link', StatusCodes.BadCommunicationError, e.message ?? String(error));
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface ConnectionStats {
  connected: boolean;
  reconnects: number;
  requests: number;
  failures: number;
  lastError?: string;
}

export class ModbusConnection {
  private client: Client | undefined;
  private connecting: Promise<Client> | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;
  private failedConnects = 0;
  private nextConnectAt = 0;
  private lastRequestAt = 0;
  private hadConnection = false;
  readonly stats: ConnectionStats = { connected: false, reconnects: 0, requests: 0, failures: 0 };

  private readonly settings: ModbusSettings;
  private readonly log: Logger;

  constructor(settings: ModbusSettings, log: Logger) {
    this.settings = settings;
    this.log = log;
  }

  /** Runs one request against a unit, after those already queued. */
  request<T>(unitId: number, run: (client: Client) => Promise<T>, signal?: AbortSignal): Promise<T> {
    const result = this.queue.then(() => this.attempt(unitId, run, signal));
    this.queue = result.catch(() => undefined);
    return result;
  }

  async close(): Promise<void> {
    this.closed = true;
    const client = this.client;
    this.client = undefined;
    this.stats.connected = false;
    if (client) await new Promise<void>((resolve) => client.close(() => resolve()));
  }

  private async attempt<T>(
    unitId: number,
    run: (client: Client) => Promise<T>,
    signal?: AbortSignal,
  ): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      if (signal?.aborted) throw abortedError(signal);
      const client = await this.open();
      const pause = this.settings.interRequestDelayMs - (Date.now() - this.lastRequestAt);
      if (pause > 0) await sleep(pause);
      this.stats.requests++;
      try {
        client.setID(unitId);
        return await run(client);
      } catch (error) {
        const failure = classify(error);
        if (failure.kind !== 'exception') this.stats.failures++;
        this.stats.lastError = failure.message;
        // A timed-out request on TCP may be answered late and desynchronise the stream; a link error
        // means the socket is gone. Either way, start from a fresh connection.
        if (failure.kind !== 'exception') this.drop(failure.message);
        if (failure.kind === 'timeout' && attempt < this.settings.retries) continue;
        throw failure;
      } finally {
        this.lastRequestAt = Date.now();
      }
    }
  }

  private drop(reason: string): void {
    const client = this.client;
    if (!client) return;
    this.client = undefined;
    this.stats.connected = false;
    this.log.warn('modbus connection dropped', { reason });
    client.close(() => undefined);
  }

  private open(): Promise<Client> {
    if (this.client?.isOpen) return Promise.resolve(this.client);
    this.connecting ??= this.connect().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private async connect(): Promise<Client> {
    if (this.closed) throw new PlantgateError('PG_ERR_SOURCE_UNAVAILABLE', 'the source is stopped');
    const wait = this.nextConnectAt - Date.now();
    if (wait > 0) {
      // Back off without queueing requests behind the wait: callers learn at once that the link is down.
      throw new ModbusRequestError(
        'link',
        StatusCodes.BadNotConnected,
        `not connected; next attempt in ${wait} ms`,
      );
    }
    const client = new ModbusRTU();
    const s = this.settings;
    try {
      if (s.transport === 'rtu') {
        const serial = s.serial!;
        await client.connectRTUBuffered(serial.path, {
          baudRate: serial.baudRate,
          parity: serial.parity,
          dataBits: serial.dataBits,
          stopBits: serial.stopBits,
        });
      } else if (s.transport === 'rtuOverTcp') {
        // modbus-serial's "telnet" port sends raw RTU frames (with CRC) over a TCP socket, as a serial
        // device server in transparent mode expects; its "TcpRTUBuffered" port speaks MBAP instead.
        await client.connectTelnet(s.host!, { port: s.port });
      } else {
        await client.connectTCP(s.host!, { port: s.port });
      }
    } catch (error) {
      this.failedConnects++;
      const delay = Math.min(s.reconnectMaxMs, s.reconnectMinMs * 2 ** (this.failedConnects - 1));
      // Full jitter keeps many gateways from reconnecting to one device server in lockstep.
      this.nextConnectAt = Date.now() + delay / 2 + Math.random() * (delay / 2);
      client.close(() => undefined);
      const message = (error as Error).message ?? String(error);
      this.stats.lastError = message;
      throw new ModbusRequestError('link', StatusCodes.BadNotConnected, `cannot connect: ${message}`);
    }
    client.setTimeout(s.timeoutMs);
    client.on('error', (error: unknown) => this.drop((error as Error).message ?? 'socket error'));
    client.on('close', () => {
      if (this.client === client) this.drop('closed by the device');
    });
    if (this.hadConnection) this.stats.reconnects++;
    this.hadConnection = true;
    this.failedConnects = 0;
    this.nextConnectAt = 0;
    this.client = client;
    this.stats.connected = true;
    return client;
  }
}
