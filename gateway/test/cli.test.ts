/** The plantgate command as a user runs it: separate processes, real files, a real simulator. */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBoilerSimulator } from '../../hardware-tests/simulators/index.ts';
import { BOILER_TAGS, freePort } from './harness.ts';

const run = promisify(execFile);
const BIN = new URL('../../bin/plantgate.js', import.meta.url).pathname;
const NODE = process.execPath;

async function plantgate(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    // An audit export of a busy run is several MB; execFile cuts output at 1 MB by default.
    const { stdout, stderr } = await run(NODE, [BIN, ...args], {
      timeout: 20_000,
      maxBuffer: 256 * 1024 * 1024,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

function startGatewayProcess(configFile: string): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(NODE, [BIN, 'gateway', '--config', configFile], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    child.stderr!.on('data', (d) => {
      err += d;
      if (err.includes('"gateway started"')) resolve(child);
    });
    child.on('exit', (code) => reject(new Error(`gateway exited ${code}: ${err}`)));
  });
}

const stop = (child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM') =>
  new Promise<number | null>((resolve) => {
    child.once('exit', (code) => resolve(code));
    child.kill(signal);
  });

let sim: Awaited<ReturnType<typeof startBoilerSimulator>>;
let dir: string;
let configFile: string;

beforeAll(async () => {
  sim = await startBoilerSimulator({ tickMs: 100 });
  dir = mkdtempSync(path.join(os.tmpdir(), 'plantgate-cli-'));
  configFile = path.join(dir, 'gateway.yaml');
  writeFileSync(
    configFile,
    `gateway: { id: cli-site, dataDir: ./data }\nconsole: { port: ${await freePort()} }\nsources:\n  - id: boiler\n    driver: modbus\n    settings: { host: 127.0.0.1, port: ${sim.port} }\n    poll: { intervalMs: 100 }\n    tags:${BOILER_TAGS}\n`,
  );
});
afterAll(async () => sim?.stop());

describe('plantgate CLI', () => {
  it('given --version and help, when run, then it prints them and exits 0', async () => {
    expect((await plantgate('--version')).stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    expect((await plantgate('help')).stdout).toContain('plantgate query --config FILE OPERATION');
    expect((await plantgate('frobnicate')).code).toBe(2);
  });

  it('given a valid and an invalid config, when checked, then the first passes and the second names file, line and path', async () => {
    const ok = await plantgate('config', 'check', configFile);
    expect(ok).toMatchObject({
      code: 0,
      stdout: expect.stringContaining('valid — gateway cli-site, 1 source(s), 6 tag(s)'),
    });
    const bad = path.join(dir, 'bad.yaml');
    writeFileSync(
      bad,
      'gateway: { id: x, dataDir: . }\nsources:\n  - { id: b, driver: modbus, settings: { host: h, port: 0 } }\n',
    );
    const result = await plantgate('config', 'check', bad);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${bad}:3:`);
    expect(result.stderr).toContain('sources[0].settings.port: must be >= 1');
  });

  it('given an invalid config, when the gateway is started with it, then it refuses to start', async () => {
    const bad = path.join(dir, 'bad-gateway.yaml');
    writeFileSync(bad, 'gateway: { id: X!, dataDir: . }\n');
    const result = await plantgate('gateway', '--config', bad);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/bad-gateway.yaml:1:\d+: gateway.id: does not match/);
  });

  it('given a running gateway process, when queried, then the answer is printed; after a restart the history is still there', async () => {
    let gateway = await startGatewayProcess(configFile);
    try {
      const request = JSON.stringify({ tags: ['Boiler1.SteamPressure'] });
      let snapshot: { values: { status: string }[] } | undefined;
      for (let i = 0; i < 50 && snapshot?.values[0]?.status !== 'good'; i++) {
        const r = await plantgate('query', '--config', configFile, 'values.snapshot', 'boiler', request);
        expect(r.code).toBe(0);
        snapshot = JSON.parse(r.stdout);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(snapshot!.values[0]!.status).toBe('good');
      const limit = await plantgate(
        'query',
        '--config',
        configFile,
        'values.snapshot',
        'boiler',
        JSON.stringify({ tags: Array(101).fill('x') }),
      );
      expect(limit.code).toBe(1);
      expect(JSON.parse(limit.stdout).error.code).toBe('PG_ERR_LIMIT_EXCEEDED');
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(await stop(gateway)).toBe(0);
      const stoppedAt = Date.now();

      gateway = await startGatewayProcess(configFile);
      const raw = await plantgate(
        'query',
        '--config',
        configFile,
        'values.raw',
        'boiler',
        JSON.stringify({ tags: ['Boiler1.Tag'], start: '*-1h', end: new Date(stoppedAt).toISOString() }),
      );
      const values = JSON.parse(raw.stdout).tags[0].values as { value: string; time: string }[];
      expect(values.length).toBeGreaterThan(0);
      expect(values[0]!.value).toBe('BLR1');
      expect(Date.parse(values[0]!.time)).toBeLessThan(stoppedAt);
    } finally {
      await stop(gateway);
    }
  });

  it('given a running gateway, when the local token is rotated, then the old token is refused and the new one works', async () => {
    const gateway = await startGatewayProcess(configFile);
    try {
      const tokenPath = path.join(dir, 'data', 'local-token');
      const old = readFileSync(tokenPath, 'utf8').trim();
      const port = /console: \{ port: (\d+) \}/.exec(readFileSync(configFile, 'utf8'))![1];
      const health = (token: string) =>
        fetch(`http://127.0.0.1:${port}/api/v1/health`, {
          headers: { authorization: `Bearer ${token}` },
        }).then((r) => r.status);
      expect(await health(old)).toBe(200);
      const rotated = await plantgate('token', 'rotate', '--config', configFile);
      expect(rotated.code).toBe(0);
      const fresh = readFileSync(tokenPath, 'utf8').trim();
      expect(fresh).not.toBe(old);
      expect(statSync(tokenPath).mode & 0o777).toBe(0o600);
      const deadline = Date.now() + 5000;
      while ((await health(old)) !== 401 && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 100));
      expect(await health(old)).toBe(401);
      expect(await health(fresh)).toBe(200);
      expect((await plantgate('query', '--config', configFile, 'health')).code).toBe(0);
    } finally {
      await stop(gateway);
    }
  });

  it('given a gateway under load, when killed with SIGKILL, then every answered request has its record and the chain verifies', async () => {
    const gateway = await startGatewayProcess(configFile);
    const port = /console: \{ port: (\d+) \}/.exec(readFileSync(configFile, 'utf8'))![1];
    const token = readFileSync(path.join(dir, 'data', 'local-token'), 'utf8').trim();
    const marker = `Boiler1.Kill${Date.now()}`;
    let answered = 0;
    let stopping = false;
    const worker = async () => {
      while (!stopping) {
        try {
          const r = await fetch(`http://127.0.0.1:${port}/api/v1/sources/boiler/values/snapshot`, {
            method: 'POST',
            headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
            body: JSON.stringify({ tags: [marker] }),
          });
          await r.arrayBuffer();
          if (r.status === 200) answered++;
        } catch {
          return; // the gateway is gone
        }
      }
    };
    const workers = Array.from({ length: 16 }, worker);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    gateway.kill('SIGKILL');
    stopping = true;
    await Promise.all(workers);
    expect(answered).toBeGreaterThan(50);
    const verify = await plantgate('audit', 'verify', '--config', configFile);
    expect(verify).toMatchObject({ code: 0, stdout: expect.stringContaining('audit log intact') });
    const exported = await plantgate('audit', 'export', '--config', configFile);
    expect(exported.code).toBe(0);
    const recorded = exported.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line))
      .filter((r) => r.tags?.[0] === marker && r.outcome === 'ok').length;
    expect(recorded).toBeGreaterThanOrEqual(answered);
  });

  it('given a gateway running on a data folder, when a second one starts on it, then the second refuses', async () => {
    const first = await startGatewayProcess(configFile);
    try {
      const second = await plantgate('gateway', '--config', configFile);
      expect(second.code).toBe(1);
      expect(second.stderr).toMatch(/another gateway \(pid \d+\) is running on/);
    } finally {
      await stop(first);
    }
    // A lock left by a gateway killed outright is taken over.
    const killed = await startGatewayProcess(configFile);
    await stop(killed, 'SIGKILL');
    const next = await startGatewayProcess(configFile);
    await stop(next);
  });

  it('given no gateway running, when queried, then the error says it cannot reach it', async () => {
    const result = await plantgate('query', '--config', configFile, 'health');
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /cannot reach the gateway at http:\/\/127\.0\.0\.1:\d+\/api\/v1: is it running\?/,
    );
  });
});
