/**
 * `npm run bench -- NAME…` runs benchmarks (all without a name), writes bench/results/NAME.json and
 * the table between the NAME markers in bench/README.md.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CONCURRENCY, runLinkBenchmark } from './link.ts';
import { runPlanBenchmark } from './modbus-plan.ts';
import { runPollBenchmark } from './modbus-poll.ts';
import { runOpcuaBenchmark } from './opcua-subscribe.ts';
import { runScriptBenchmark } from './script-tags.ts';
import { accessAuditLatency, auditThroughput, fdatasyncFloor } from './security.ts';
import { runSqlBenchmark } from './sql-raw.ts';

const here = import.meta.dirname;

interface Table {
  headers: string[];
  rows: (string | number | boolean)[][];
}

const BENCHMARKS: Record<string, () => Promise<{ results: unknown; tables: Table[] }>> = {
  async modbus() {
    const plan = runPlanBenchmark();
    const poll = await runPollBenchmark();
    return {
      results: { plan, poll },
      tables: [
        {
          headers: [
            'max register gap',
            'max bit gap',
            'requests (planner)',
            'requests (optimum)',
            'one per tag',
            'fewer than one per tag',
            'plan time ms',
          ],
          rows: plan.rows.map((r) => [
            r.maxRegisterGap,
            r.maxBitGap,
            r.requestsPlanned,
            r.requestsOptimum,
            r.requestsOnePerTag,
            `${r.fewerThanOnePerTag}×`,
            r.planMs,
          ]),
        },
        {
          headers: [
            'tags',
            'interval',
            'duration',
            'CPU (one core)',
            'peak RSS',
            'RSS anon + file',
            'requests/cycle',
            'cycle time',
            'failed requests',
            'all values good',
          ],
          rows: [
            [
              poll.tags,
              '1 s',
              `${poll.seconds} s`,
              `${poll.cpuPercentOfOneCore} %`,
              `${poll.peakRssMB} MB`,
              `${poll.anonMB} + ${poll.fileMB} MB`,
              poll.requestsPerCycle,
              `${poll.lastCycleMs} ms`,
              poll.failedRequests,
              poll.valuesGood,
            ],
          ],
        },
      ],
    };
  },
  async opcua() {
    const r = await runOpcuaBenchmark();
    return {
      results: r,
      tables: [
        {
          headers: [
            'monitored items',
            'publishing',
            'security',
            'duration',
            'CPU (one core)',
            'peak RSS',
            'RSS anon + file',
            'refused items',
            'all values good',
            'latest value age',
          ],
          rows: [
            [
              r.monitoredItems,
              `${r.publishingIntervalMs} ms`,
              r.securityMode,
              `${r.seconds} s`,
              `${r.cpuPercentOfOneCore} %`,
              `${r.peakRssMB} MB`,
              `${r.anonMB} + ${r.fileMB} MB`,
              r.refusedItems,
              r.valuesGood,
              `${r.latestValueAgeMs} ms`,
            ],
          ],
        },
      ],
    };
  },
  async script() {
    const r = await runScriptBenchmark();
    const row = (label: string, m: typeof r.with) => [
      label,
      m.scriptTags,
      `${r.seconds} s`,
      `${m.cpuPercentOfOneCore} %`,
      `${m.peakRssMB} MB`,
      m.evaluations,
      m.valuesGood,
    ];
    return {
      results: r,
      tables: [
        {
          headers: [
            'run',
            'script tags',
            'duration',
            'CPU (one core)',
            'peak RSS',
            'evaluations',
            'all values good',
          ],
          rows: [
            row(`${r.inputs} Modbus inputs only`, r.without),
            row(`with ${r.inputs} script tags`, r.with),
            [
              'script tags alone (the difference)',
              r.with.scriptTags,
              '',
              `${r.scriptCpuPercentOfOneCore} %`,
              '',
              '',
              '',
            ],
          ],
        },
      ],
    };
  },
  async sql() {
    const r = await runSqlBenchmark();
    return {
      results: r,
      tables: [
        {
          headers: ['values', 'read', 'time (median of 3)', 'to direct pg', 'RSS growth (largest)', 'target'],
          rows: [
            [
              r.rows,
              'SQL driver, streamed',
              `${r.driverMs} ms`,
              `${r.ratio}× (${r.ratioToArrays}× to arrays, ${r.ratioToCursor}× to a cursor)`,
              `${r.driverRssGrowthMB} MB`,
              '≤ 1.3×, < 100 MB',
            ],
            [
              r.rows,
              'direct pg query, row objects',
              `${r.directPgMs} ms`,
              '1×',
              `${r.directPgRssGrowthMB} MB`,
              '',
            ],
            [
              r.rows,
              'direct pg query, arrays',
              `${r.directPgArraysMs} ms`,
              '',
              `${r.directPgArraysRssGrowthMB} MB`,
              '',
            ],
            [
              r.rows,
              'direct pg-cursor read, arrays, 10,000 rows a batch',
              `${r.directPgCursorMs} ms`,
              '',
              `${r.directPgCursorRssGrowthMB} MB`,
              '',
            ],
          ],
        },
      ],
    };
  },
  async security() {
    const audit = await auditThroughput();
    const latency = await accessAuditLatency();
    const floor = fdatasyncFloor();
    return {
      results: { audit, latency, fdatasyncFloor: floor },
      tables: [
        {
          headers: ['audit records', 'concurrent writers', 'records/s (durable)', 'fsync batches'],
          rows: [[audit.records, audit.writers, audit.recordsPerSecond, audit.flushes]],
        },
        {
          headers: [
            'requests/s',
            'median bare',
            'median + access',
            'median + access + audit',
            'added median (access / both)',
            'p99 bare',
            'p99 + access + audit',
          ],
          rows: [
            [
              latency.withAccessAndAudit.achievedPerSecond,
              `${latency.bare.medianUs} µs`,
              `${latency.withAccess.medianUs} µs`,
              `${latency.withAccessAndAudit.medianUs} µs`,
              `${latency.accessAddedMedianUs} µs / ${latency.addedMedianUs} µs`,
              `${latency.bare.p99Us} µs`,
              `${latency.withAccessAndAudit.p99Us} µs`,
            ],
          ],
        },
        {
          headers: ['one 300-byte append + fdatasync, alone', 'median', 'p99'],
          rows: [[`${floor.appends} appends`, `${floor.medianUs} µs`, `${floor.p99Us} µs`]],
        },
      ],
    };
  },
  async link() {
    const link = await runLinkBenchmark();
    const s = link.snapshot;
    return {
      results: link,
      tables: [
        {
          headers: [
            'values.snapshot',
            'median (one at a time)',
            'p99',
            ...CONCURRENCY.map((c) => `requests/s (${c} in flight)`),
            'failed',
          ],
          rows: [
            [
              'through bridge and link',
              `${s.bridge.medianMs} ms`,
              `${s.bridge.p99Ms} ms`,
              ...CONCURRENCY.map((c) => s.bridge.perSecond[c] ?? ''),
              s.bridge.failed,
            ],
            [
              'local API of the gateway',
              `${s.local.medianMs} ms`,
              `${s.local.p99Ms} ms`,
              ...CONCURRENCY.map((c) => s.local.perSecond[c] ?? ''),
              s.local.failed,
            ],
            [
              'bare MQTT echo, same broker (floor)',
              '',
              '',
              `${s.mqttEcho.perSecond} messages/s (pipelined)`,
              ...CONCURRENCY.slice(1).map(() => ''),
              '',
            ],
          ],
        },
        {
          headers: ['values.raw, one tag', 'values', 'answer', 'time', 'values/s'],
          rows: [
            [
              'through bridge and link',
              link.raw.values,
              `${link.raw.bridge.megabytes} MB`,
              `${link.raw.bridge.seconds} s`,
              link.raw.bridge.valuesPerSecond,
            ],
            [
              'local API of the gateway',
              link.raw.values,
              `${link.raw.local.megabytes} MB`,
              `${link.raw.local.seconds} s`,
              link.raw.local.valuesPerSecond,
            ],
            ['link time ÷ local time', '', '', `${link.raw.bridgeOverLocal}×`, ''],
          ],
        },
      ],
    };
  },
};

const markdown = (t: Table) =>
  [
    `| ${t.headers.join(' | ')} |`,
    `| ${t.headers.map(() => '---').join(' | ')} |`,
    ...t.rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');

const names = process.argv.slice(2).length ? process.argv.slice(2) : Object.keys(BENCHMARKS);
for (const name of names) {
  const bench = BENCHMARKS[name];
  if (!bench) throw new Error(`no benchmark "${name}"; one of ${Object.keys(BENCHMARKS).join(', ')}`);
  console.log(`running ${name} …`);
  const { results, tables } = await bench();
  const machine = {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model,
    memoryGB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
  };
  const measuredAt = new Date().toISOString();
  writeFileSync(
    path.join(here, 'results', `${name}.json`),
    `${JSON.stringify({ measuredAt, machine, results }, null, 2)}\n`,
  );
  const readmeFile = path.join(here, 'README.md');
  const readme = readFileSync(readmeFile, 'utf8');
  const start = `<!-- bench:${name}:start -->`;
  const end = `<!-- bench:${name}:end -->`;
  const body = `${start}\nMeasured ${measuredAt.slice(0, 10)} on ${machine.cpus} cores (${machine.cpuModel}), ${machine.memoryGB} GB, Node ${machine.node}.\n\n${tables.map(markdown).join('\n\n')}\n${end}`;
  const from = readme.indexOf(start);
  const to = readme.indexOf(end);
  writeFileSync(
    readmeFile,
    from >= 0 && to > from
      ? readme.slice(0, from) + body + readme.slice(to + end.length)
      : `${readme}\n${body}\n`,
  );
  for (const t of tables) console.log(markdown(t));
}
