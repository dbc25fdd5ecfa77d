import path from 'node:path';
import { LocalApiClient } from '../gateway/index.ts';
import { readLocalToken } from '../gateway/local-api/token.ts';
import { buildBinary } from '../installer/build-binary.ts';
import { bulkModbusGateway, spawnReady } from './modbus-poll.ts';
import { dropFromPageCache, measureProcess } from './process-stats.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The script tag made on input i: five templates in turn. */
function scriptTag(i: number, inputs: number) {
  const x = { source: 'bulk', tag: `T${i}` };
  const next = { source: 'bulk', tag: `T${(i + 1) % inputs}` };
  switch (i % 5) {
    case 0:
      return { template: 'linear-scale', parameters: { a: 0.1, b: 2 }, inputs: [x] };
    case 1:
      return { template: 'sum', parameters: {}, inputs: [x, next] };
    case 2:
      return {
        template: 'threshold-alarm',
        parameters: { limit: 50, deadband: 1, delaySeconds: 5 },
        inputs: [x],
      };
    case 3:
      return { template: 'rolling-average', parameters: { windowSeconds: 60 }, inputs: [x] };
    default:
      return { template: 'unit-conversion', parameters: { from: 'bar', to: 'psi' }, inputs: [x] };
  }
}

async function runOnce(binary: string, tags: number, scriptTags: number, seconds: number) {
  const { sim, dir, configFile, port } = await bulkModbusGateway(tags, '  - { id: calc, driver: script }\n');
  dropFromPageCache(binary);
  const gateway = await spawnReady(binary, ['gateway', '--config', configFile], /"gateway started"/);
  try {
    const client = new LocalApiClient(port, readLocalToken(path.join(dir, 'data')));
    const madeAt = performance.now();
    for (let i = 0; i < scriptTags; i += 25) {
      await Promise.all(
        Array.from({ length: Math.min(25, scriptTags - i) }, async (_, k) => {
          const answer = await client.call('scriptTags.create', 'calc', {
            name: `S${i + k}`,
            ...scriptTag(i + k, tags),
          });
          if (answer.status !== 200) throw new Error(`scriptTags.create: ${JSON.stringify(answer.body)}`);
        }),
      );
    }
    const createMs = performance.now() - madeAt;
    const measured = await measureProcess(gateway.child.pid!, seconds);
    const health = (await client.call('health', undefined)).body as {
      sources: { id: string; details?: { evaluations?: number; scriptTags?: number } }[];
    };
    const calc = health.sources.find((s) => s.id === 'calc')!;
    const snapshot = scriptTags
      ? ((await client.call('values.snapshot', 'calc', { tags: ['S0', 'S1', 'S3', 'S4'] })).body as {
          values: { status: string }[];
        })
      : { values: [] };
    return {
      scriptTags: calc.details?.scriptTags ?? 0,
      createSeconds: Number((createMs / 1000).toFixed(1)),
      evaluations: calc.details?.evaluations ?? 0,
      valuesGood: snapshot.values.every((v) => v.status === 'good'),
      ...measured,
    };
  } finally {
    gateway.child.kill('SIGTERM');
    sim.child.stdin!.end();
    await sleep(300);
  }
}

export async function runScriptBenchmark(options: { tags?: number; seconds?: number } = {}) {
  const tags = options.tags ?? 5000;
  const seconds = options.seconds ?? 60;
  const binary = await buildBinary('linux-x64');
  const without = await runOnce(binary, tags, 0, seconds);
  const withScripts = await runOnce(binary, tags, tags, seconds);
  return {
    name: `${tags} script tags on ${tags} Modbus inputs changing every second, ${seconds} s`,
    inputs: tags,
    seconds,
    without,
    with: withScripts,
    scriptCpuPercentOfOneCore: Number(
      (withScripts.cpuPercentOfOneCore - without.cpuPercentOfOneCore).toFixed(2),
    ),
  };
}

if (import.meta.main) console.log(JSON.stringify(await runScriptBenchmark(), null, 2));
