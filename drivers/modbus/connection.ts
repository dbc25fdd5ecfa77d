/**
 * One connection to a Modbus TCP device, serial line or serial gateway. Requests go one at a time (a
 * serial line carries one transaction at a time, MODBUS over Serial Line §2.4, and many TCP devices
 * accept only one), with a timeout, retries of timed-out requests, an optional pause between requests,
 * and reconnection with jittered exponential back-off after the link fails.
 */
import { abortedError, type Logger, PlantgateError, StatusCodes } from '../core/index.ts';
import type { ModbusSettings } from './settings.ts';
import { ModbusTcpTransport } from './tcp-transport.ts';
import { ModbusRequestError, type ModbusTransport } from './transport.ts';

export { MODBUS_EXCEPTIONS, ModbusRequestError } from './transport.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface ConnectionStats {
  connected: boolean;
  reconnects: number;
  requests: number;
  failures: number;
  lastError?: string;
}

export class ModbusConnection {
  private client: ModbusTransport | undefined;
  private connecting: Promise<ModbusTransport> | undefined;
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

  /** Runs one request, after those already queued. */
  request<T>(run: (transport: ModbusTransport) => Promise<T>, signal?: AbortSignal): Promise<T> {
    const result = this.queue.then(() => this.attempt(run, signal));
    this.queue = result.catch(() => undefined);
    return result;
  }

  async close(): Promise<void> {
    this.closed = true;
    const client = this.client;
    this.client = undefined;
    this.stats.connected = false;
    if (client) await client.close();
  }

  private async attempt<T>(
    run: (transport: ModbusTransport) => Promise<T>,
    signal?: AbortSignal,
  ): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      if (signal?.aborted) throw abortedError(signal);
      const client = await this.open();
      const pause = this.settings.interRequestDelayMs - (Date.now() - this.lastRequestAt);
      if (pause > 0) await sleep(pause);
      this.stats.requests++;
      try {
        return await run(client);
      } catch (error) {
        if (!(error instanceof ModbusRequestError)) throw error;
        const failure = error;
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
    void client.close();
  }

  private open(): Promise<ModbusTransport> {
    if (this.client?.isOpen) return Promise.resolve(this.client);
    this.connecting ??= this.connect().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private async connect(): Promise<ModbusTransport> {
    if (this.closed) throw new PlantgateError('PG_ERR_SOURCE_UNAVAILABLE', 'the source is stopped');
    const wait = this.nextConnectAt - Date.now();
    if (wait > 0) {
      // Back off without queueing requests behind the wait: callers learn at once that the link is down.
      throw ModbusRequestError.link(`not connected; next attempt in ${wait} ms`, StatusCodes.BadNotConnected);
    }
    const s = this.settings;
    let client: ModbusTransport;
    try {
      client =
        s.transport === 'tcp'
          ? await ModbusTcpTransport.connect(s.host!, s.port, s.timeoutMs)
          : // modbus-serial and the serial-port addon load only when a source needs them.
            await (await import('./serial-transport.ts')).SerialLineTransport.connect(s);
    } catch (error) {
      this.failedConnects++;
      const delay = Math.min(s.reconnectMaxMs, s.reconnectMinMs * 2 ** (this.failedConnects - 1));
      // Jitter keeps many gateways from reconnecting to one device server in lockstep.
      this.nextConnectAt = Date.now() + delay / 2 + Math.random() * (delay / 2);
      const message = (error as Error).message ?? String(error);
      this.stats.lastError = message;
      throw ModbusRequestError.link(`cannot connect: ${message}`, StatusCodes.BadNotConnected);
    }
    client.onClose((reason) => {
      if (this.client === client) this.drop(reason);
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
