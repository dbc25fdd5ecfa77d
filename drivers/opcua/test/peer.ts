/**
 * The real OPC UA peer for the tests: node-opcua's own server (the packaging-line simulator) in a
 * process of its own, over TCP on loopback, and the two-way certificate trust a plant does by hand.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Value } from '@sinclair/typebox/value';
import type { Driver } from '../../core/index.ts';
import { RecordingHost } from '../../core/testing.ts';
import type { OpcuaSourceConfig } from '../driver.ts';
import { opcuaDriver, ownCertificateFile, trustRejected } from '../index.ts';
import type { LazyOpcuaDriver as OpcuaDriver } from '../lazy-driver.ts';
import type { OpcuaBrowse, OpcuaSettings, OpcuaTagConfig } from '../settings.ts';

const NODE = process.execPath;
const CLI = new URL('../../../bin/plantgate.js', import.meta.url).pathname;
export const USER = { username: 'operator', password: 'plantgate-demo' };

export interface OpcuaPeer {
  endpoint: string;
  port: number;
  thumbprint: string;
  pkiDir: string;
  stop(): Promise<void>;
  /** Stops the server and starts it again on the same port with the same certificates. */
  restart(downMs?: number): Promise<void>;
}

function spawnSimulator(
  args: string[],
): Promise<{ child: ChildProcess; info: { endpoint: string; port: number; thumbprint: string } }> {
  return new Promise((resolve, reject) => {
    // stdin stays a pipe: the simulator exits when this process (and so the pipe) goes away.
    const child = spawn(NODE, [CLI, 'sim', 'opcua', '--json', '--exit-on-stdin-end', ...args], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the OPC UA simulator did not start: ${err}`));
    }, 20_000);
    child.stderr!.on('data', (d) => {
      err += d;
    });
    child.stdout!.on('data', (d) => {
      out += d;
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (!line) return;
      clearTimeout(timer);
      resolve({ child, info: JSON.parse(line) });
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the OPC UA simulator exited (${code}): ${err}`));
    });
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 5000).unref();
  });
}

export async function startPeer(
  options: { tickMs?: number; limits?: string; benchItems?: number } = {},
): Promise<OpcuaPeer> {
  const pkiDir = mkdtempSync(path.join(os.tmpdir(), 'plantgate-opcua-peer-'));
  const extra = [
    '--pki',
    pkiDir,
    '--tick-ms',
    String(options.tickMs ?? 200),
    ...(options.limits ? ['--limits', options.limits] : []),
    ...(options.benchItems ? ['--bench-items', String(options.benchItems)] : []),
  ];
  let { child, info } = await spawnSimulator(['--port', '0', ...extra]);
  const peer: OpcuaPeer = {
    ...info,
    pkiDir,
    stop: () => stopChild(child),
    async restart(downMs = 1000) {
      await stopChild(child);
      await new Promise((resolve) => setTimeout(resolve, downMs));
      ({ child } = await spawnSimulator(['--port', String(info.port), ...extra]));
    },
  };
  return peer;
}

export function settingsFor(peer: OpcuaPeer, settings: Partial<OpcuaSettings> = {}): OpcuaSettings {
  return Value.Default(opcuaDriver.settingsSchema, {
    endpoint: peer.endpoint,
    user: USER,
    ...settings,
  }) as OpcuaSettings;
}

export function tagConfig(tag: Partial<OpcuaTagConfig> & { name: string; nodeId: string }): OpcuaTagConfig {
  return Value.Default(opcuaDriver.tagSchema, tag) as OpcuaTagConfig;
}

export function line(name: string, extra: Partial<OpcuaTagConfig> = {}): OpcuaTagConfig {
  return tagConfig({ name: `Line1.${name}`, nodeId: `ns=1;s=Line1.${name}`, ...extra });
}

export function sourceConfig(
  settings: OpcuaSettings,
  tags: OpcuaTagConfig[],
  browse?: Partial<OpcuaBrowse> & { root: string },
): OpcuaSourceConfig {
  return {
    id: 'line',
    driver: 'opcua',
    enabled: true,
    settings,
    tags,
    ...(browse ? { browse: Value.Default(opcuaDriver.browseSchema!, browse) as OpcuaBrowse } : {}),
  };
}

/** Moves every certificate in `from` into `to` (what an administrator does on the other side). */
export function trustAllIn(from: string, to: string): number {
  if (!existsSync(from)) return 0;
  mkdirSync(to, { recursive: true });
  const names = readdirSync(from).filter((n) => n.endsWith('.pem') || n.endsWith('.der'));
  for (const name of names) renameSync(path.join(from, name), path.join(to, name));
  return names.length;
}

export interface TrustSteps {
  /** Why the first start failed: the server's certificate was unknown to the gateway. */
  untrustedServer: string;
  /** Why the second failed: the server did not know the gateway's certificate. */
  refusedByServer: string;
}

/**
 * Runs the trust flow both ways and returns a started driver: the gateway rejects the unknown server
 * certificate; `trustRejected` (plantgate opcua trust) accepts it; the server refuses the gateway's
 * certificate until its administrator trusts it; then the session opens.
 */
export async function startTrusted(
  peer: OpcuaPeer,
  config: OpcuaSourceConfig,
  host = new RecordingHost(),
): Promise<{ driver: OpcuaDriver; host: RecordingHost; steps: TrustSteps }> {
  const attempt = async () => {
    const driver = opcuaDriver.create(config as never, host) as Driver as OpcuaDriver;
    try {
      await driver.start(new AbortController().signal);
      return { driver };
    } catch (error) {
      return { error: (error as Error).message };
    }
  };
  const first = await attempt();
  if (first.driver) throw new Error('the gateway connected to a server it had never trusted');
  trustRejected(host.pkiDir, peer.thumbprint);
  const second = await attempt();
  if (second.driver) throw new Error('the server accepted a gateway certificate it had never trusted');
  // The server's administrator trusts the gateway's certificate (the server keeps it in rejected).
  const serverTrusted = path.join(peer.pkiDir, 'server', 'trusted', 'certs');
  if (trustAllIn(path.join(peer.pkiDir, 'server', 'rejected'), serverTrusted) === 0) {
    mkdirSync(serverTrusted, { recursive: true });
    copyFileSync(ownCertificateFile(host.pkiDir), path.join(serverTrusted, 'plantgate.pem'));
  }
  // The server's store notices the new file through a folder watcher: retry for a while.
  let last = '';
  for (let i = 0; i < 40; i++) {
    const next = await attempt();
    last = next.error ?? '';
    if (next.driver)
      return {
        driver: next.driver,
        host,
        steps: { untrustedServer: first.error!, refusedByServer: second.error! },
      };
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`the server never accepted the gateway certificate after it was trusted: ${last}`);
}

/** A driver for a peer whose trust is already settled (same gateway PKI folder). */
export async function startWithPki(config: OpcuaSourceConfig, pkiDir: string, host = new RecordingHost()) {
  host.pkiDir = pkiDir;
  const driver = opcuaDriver.create(config as never, host) as Driver as OpcuaDriver;
  await driver.start(new AbortController().signal);
  return { driver, host };
}
