/** Real Modbus peers for the tests: pymodbus (TCP, RTU over TCP, RTU on a socat pty pair) and config helpers. */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Ajv } from 'ajv';
import { RecordingHost } from '../../core/testing.ts';
import type { ModbusDriver, ModbusSourceConfig } from '../driver.ts';
import { modbusDriver } from '../index.ts';
import { ModbusPoll, ModbusSettings, ModbusTagConfig } from '../settings.ts';

const PYTHON = '/usr/bin/python3';
const PEER = new URL('./pymodbus_peer.py', import.meta.url).pathname;

/** Whether pymodbus and socat are here; in CI they must be (.ci/run installs them). */
export function pymodbusAvailable(): boolean {
  try {
    execFileSync(PYTHON, ['-c', 'import pymodbus, serial_asyncio'], { stdio: 'ignore' });
    return existsSync('/usr/bin/socat');
  } catch {
    return false;
  }
}

export function requirePeersOrSkip(): boolean {
  if (pymodbusAvailable()) return true;
  if (process.env.CI)
    throw new Error('python3-pymodbus and socat are required in CI (.ci/run installs them)');
  console.warn(
    'NOTICE: python3-pymodbus or socat missing: pymodbus peer tests are skipped (apt-get install python3-pymodbus socat)',
  );
  return false;
}

export interface PeerEntry {
  table: 'co' | 'di' | 'hr' | 'ir';
  address: number;
  type: string;
  value: unknown;
  order?: string;
  length?: number;
}

export interface RunningPeer {
  port: number;
  stop(): Promise<void>;
}

function spawnUntilReady(command: string, args: string[]): Promise<{ child: ChildProcess; line: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${path.basename(args[0] ?? command)} did not start: ${err}`));
    }, 15_000);
    child.stdout!.on('data', (d) => {
      out += d;
      const line = out.split('\n').find((l) => l.startsWith('READY'));
      if (line) {
        clearTimeout(timer);
        resolve({ child, line });
      }
    });
    child.stderr!.on('data', (d) => {
      err += d;
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`peer exited with ${code}: ${err}`));
    });
  });
}

const stopChild = (child: ChildProcess) =>
  new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });

export async function startPymodbus(
  mode: 'tcp' | 'rtu-over-tcp' | 'rtu',
  units: Record<number, PeerEntry[]>,
  device?: string,
): Promise<RunningPeer> {
  const { child, line } = await spawnUntilReady(PYTHON, [
    PEER,
    JSON.stringify({ mode, units, device, lifetime: 600 }),
  ]);
  return { port: Number(line.split(' ')[1]), stop: () => stopChild(child) };
}

/** A virtual serial cable: two pty ends joined by socat. */
export async function startSerialPair(): Promise<{ a: string; b: string; stop(): Promise<void> }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'plantgate-pty-'));
  const a = path.join(dir, 'a');
  const b = path.join(dir, 'b');
  const child = spawn('/usr/bin/socat', [`pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], {
    stdio: 'ignore',
  });
  const deadline = Date.now() + 5000;
  while (!(existsSync(a) && existsSync(b))) {
    if (Date.now() > deadline) throw new Error('socat did not create the pty pair');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return { a, b, stop: () => stopChild(child) };
}

const ajv = new Ajv({ useDefaults: true, strict: false });

/** A source config with the schema's defaults filled in, as the gateway's config loader would give. */
export function modbusSource(
  settings: Record<string, unknown>,
  tags: ({ name: string; address: string } & Record<string, unknown>)[],
  poll: Record<string, unknown> = { intervalMs: 200 },
): ModbusSourceConfig {
  const fill = <T>(schema: object, value: unknown): T => {
    const copy = structuredClone(value);
    if (!ajv.validate(schema, copy)) throw new Error(`bad test config: ${ajv.errorsText()}`);
    return copy as T;
  };
  const config = {
    id: 'test',
    driver: 'modbus',
    enabled: true,
    settings: fill<ModbusSettings>(ModbusSettings, settings),
    tags: tags.map((t) => fill<ModbusTagConfig>(ModbusTagConfig, t)),
    poll: fill<ModbusPoll>(ModbusPoll, poll),
  };
  const problems = modbusDriver.check!(config);
  if (problems.length) throw new Error(`bad test config: ${JSON.stringify(problems)}`);
  return config;
}

export async function startDriver(
  config: ModbusSourceConfig,
): Promise<{ driver: ModbusDriver; host: RecordingHost }> {
  const host = new RecordingHost();
  const driver = modbusDriver.create(config, host) as ModbusDriver;
  await driver.start(new AbortController().signal);
  return { driver, host };
}
