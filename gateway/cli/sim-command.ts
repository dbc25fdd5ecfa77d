/**
 * `plantgate sim modbus|opcua`: a simulated plant system alone, until SIGINT or SIGTERM (or, with
 * --exit-on-stdin-end, until the process that started it closes its standard input).
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import {
  SIMULATOR_USER,
  startBoilerSimulator,
  startOpcuaSimulator,
} from '../../hardware-tests/simulators/index.ts';
import { print, UsageError, waitForSignal } from './args.ts';

const USAGE = `plantgate sim modbus [--port N] [--host 127.0.0.1]
       plantgate sim opcua [--port N] [--host 127.0.0.1] [--pki DIR] [--accept-any-client]
                           [--bench-items N] [--tick-ms N] [--limits maxNodesPerRead=N,…]
                           [--json] [--exit-on-stdin-end]`;

/** `maxNodesPerRead=3,maxMonitoredItemsPerCall=2`: operation limits the simulated server announces and enforces. */
function limitsOf(text: string | undefined): Record<string, number> | undefined {
  if (!text) return undefined;
  return Object.fromEntries(
    text.split(',').map((pair) => {
      const [key, value] = pair.split('=');
      const n = Number(value);
      if (!key || !Number.isInteger(n) || n < 1)
        throw new UsageError(`--limits ${pair}: expected name=whole number`);
      return [key, n];
    }),
  );
}

function portOf(text: string | undefined, fallback: number): number {
  const port = text === undefined ? fallback : Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new UsageError(`--port ${text} is not a port number`);
  return port;
}

function countOf(name: string, text: string | undefined, fallback: number): number {
  const n = text === undefined ? fallback : Number(text);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`--${name} ${text} is not a whole number`);
  return n;
}

function until(exitOnStdinEnd: boolean | undefined): Promise<unknown> {
  if (!exitOnStdinEnd) return waitForSignal();
  return Promise.race([
    waitForSignal(),
    new Promise((resolve) => {
      process.stdin.on('end', resolve).on('close', resolve).resume();
    }),
  ]);
}

export async function simCommand(argv: string[]): Promise<number> {
  const [kind, ...rest] = argv;
  if (kind === 'modbus') {
    const { values } = parseArgs({
      args: rest,
      options: { port: { type: 'string' }, host: { type: 'string' } },
    });
    const host = values.host ?? '127.0.0.1';
    const sim = await startBoilerSimulator({ port: portOf(values.port, 5020), host });
    print(`Modbus TCP boiler simulator on ${host}:${sim.port} (unit 1). Ctrl-C stops it.`);
    await waitForSignal();
    await sim.stop();
    return 0;
  }
  if (kind !== 'opcua') throw new UsageError(USAGE);
  const { values } = parseArgs({
    args: rest,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      pki: { type: 'string' },
      'accept-any-client': { type: 'boolean' },
      'bench-items': { type: 'string' },
      'tick-ms': { type: 'string' },
      limits: { type: 'string' },
      json: { type: 'boolean' },
      'exit-on-stdin-end': { type: 'boolean' },
    },
  });
  const sim = await startOpcuaSimulator({
    port: portOf(values.port, 4840),
    host: values.host ?? '127.0.0.1',
    pkiDir: path.resolve(values.pki ?? 'var/opcua-sim/pki'),
    acceptAnyClient: values['accept-any-client'] ?? false,
    benchItems: countOf('bench-items', values['bench-items'], 0),
    tickMs: Math.max(50, countOf('tick-ms', values['tick-ms'], 1000)),
    operationLimits: limitsOf(values.limits),
  });
  if (values.json) {
    print(
      JSON.stringify({
        endpoint: sim.endpoint,
        port: sim.port,
        thumbprint: sim.thumbprint,
        pid: process.pid,
      }),
    );
  } else {
    print(`OPC UA packaging-line simulator at ${sim.endpoint}`);
    print(`  server certificate ${sim.thumbprint} (${sim.certificateFile})`);
    print(
      `  user ${SIMULATOR_USER.username}; clients ${values['accept-any-client'] ? 'all accepted' : `trusted from ${path.join(path.resolve(values.pki ?? 'var/opcua-sim/pki'), 'server', 'trusted', 'certs')}`}`,
    );
    print('Ctrl-C stops it.');
  }
  await until(values['exit-on-stdin-end']);
  await sim.stop();
  return 0;
}
