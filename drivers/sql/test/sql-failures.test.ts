/**
 * The SQL driver when things go wrong, against real PostgreSQL and MariaDB: a cancelled or timed-out
 * statement is cancelled on the server, a database that goes away gives bad values and comes back by
 * itself, TLS is asked for unless turned off, and a wrong column shows in health by name.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Driver, SnapshotRead, Tag, TagSearch } from '../../core/index.ts';
import {
  configuredDatabases,
  createNarrowTables,
  insertSamples,
  narrowMapping,
  openDatabase,
  sqlSettings,
  startSqlDriver,
  type TestDatabase,
  tableName,
} from './databases.ts';

/** A TCP relay to the database that a test can cut (every connection dropped, new ones refused) and restore. */
async function startRelay(port: number) {
  const sockets = new Set<net.Socket>();
  let cut = false;
  const server = net.createServer((client) => {
    if (cut) return client.destroy();
    const upstream = net.connect(port, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {});
    }
    client.pipe(upstream).pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    cut() {
      cut = true;
      for (const s of sockets) s.destroy();
    },
    restore() {
      cut = false;
    },
    close() {
      for (const s of sockets) s.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function eventually(check: () => Promise<boolean> | boolean, what: string, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

for (const dialect of configuredDatabases()) {
  describe(`SQL driver failures (${dialect})`, () => {
    let db: TestDatabase;
    let locker: TestDatabase;
    const history = tableName(`fail_hist_${dialect}`);
    const drivers: Driver[] = [];
    const mapping = narrowMapping(history, { text: false });
    const start = async (overrides: Record<string, unknown> = {}) => {
      const { driver, host } = await startSqlDriver(
        'hist',
        sqlSettings(db, { history: mapping, ...overrides }),
      );
      drivers.push(driver);
      return { driver: driver as Driver & TagSearch & SnapshotRead, host };
    };
    /** Statements of the driver still running on the server against the test table. */
    const running = async () => {
      const rows =
        dialect === 'postgres'
          ? await db.exec(
              `SELECT COUNT(*) FROM pg_stat_activity WHERE application_name = 'plantgate' AND state = 'active' AND query LIKE ?`,
              [`%${history}%`],
            )
          : await db.exec(
              `SELECT COUNT(*) FROM information_schema.processlist WHERE id <> CONNECTION_ID() AND command <> 'Sleep' AND info LIKE ? AND info NOT LIKE '%processlist%'`,
              [`%${history}%`],
            );
      return Number(rows[0]![0]);
    };
    /** Holds a lock on the table from another session, so the driver's statements wait on the server. */
    const lockTable = async () => {
      if (dialect === 'postgres') {
        await locker.exec('BEGIN');
        await locker.exec(`LOCK TABLE ${history} IN ACCESS EXCLUSIVE MODE`);
      } else await locker.exec(`LOCK TABLES ${history} WRITE`);
    };
    const unlockTable = () => locker.exec(dialect === 'postgres' ? 'ROLLBACK' : 'UNLOCK TABLES');

    beforeAll(async () => {
      db = await openDatabase(dialect);
      locker = await openDatabase(dialect);
      await createNarrowTables(db, history);
      await insertSamples(db, history, [{ tag: 'Flow', time: Date.now() - 1000, value: 4.5 }]);
    }, 30_000);

    afterAll(async () => {
      for (const d of drivers) await d.stop();
      await unlockTable().catch(() => {});
      await db?.exec(`DROP TABLE IF EXISTS ${history}`);
      await locker?.close();
      await db?.close();
    });

    it('given a statement waiting on the server, when the caller aborts, then it is refused at once and cancelled on the server', async () => {
      const { driver } = await start();
      const [flow] = await driver.getTags(['Flow'], new AbortController().signal);
      await lockTable();
      try {
        const controller = new AbortController();
        const read = driver.readSnapshot([flow as Tag], controller.signal);
        await eventually(async () => (await running()) === 1, 'the statement runs on the server');
        const abortedAt = Date.now();
        controller.abort(new Error('the app went away'));
        await expect(read).rejects.toMatchObject({ code: 'PG_ERR_ABORTED' });
        expect(Date.now() - abortedAt).toBeLessThan(1000);
        // The lock is still held: only a cancel on the server ends the statement.
        await eventually(async () => (await running()) === 0, 'the server dropped the statement', 5000);
      } finally {
        await unlockTable();
      }
    });

    it('given a statement longer than queryTimeoutMs, when it runs, then it fails as a timeout and is cancelled on the server', async () => {
      const { driver } = await start({ queryTimeoutMs: 400 });
      const [flow] = await driver.getTags(['Flow'], new AbortController().signal);
      await lockTable();
      try {
        const reading = (async () => {
          for await (const _ of (driver as unknown as import('../../core/index.ts').RawHistoryRead).readRaw(
            flow as Tag,
            { start: 0, end: Date.now(), maxValues: 10, boundary: 'inside' },
            new AbortController().signal,
          ));
        })();
        await expect(reading).rejects.toMatchObject({
          code: 'PG_ERR_DEVICE_TIMEOUT',
          message: expect.stringContaining('400 ms'),
        });
        await eventually(async () => (await running()) === 0, 'the server dropped the statement', 5000);
      } finally {
        await unlockTable();
      }
    });

    it('given the database goes away, when read, then values are bad and health degraded; when it is back, reads recover by themselves', async () => {
      const port = Number(db.url.port || (dialect === 'postgres' ? 5432 : 3306));
      const relay = await startRelay(port);
      try {
        const settings = sqlSettings(db, { history: mapping, healthIntervalMs: 1000 });
        settings.connection.port = relay.port;
        const { driver } = await startSqlDriver('relayed', settings);
        drivers.push(driver);
        const d = driver as Driver & TagSearch & SnapshotRead;
        const [flow] = await d.getTags(['Flow'], new AbortController().signal);
        expect((await d.readSnapshot([flow!], new AbortController().signal))[0]).toMatchObject({
          value: 4.5,
          status: 'good',
        });
        relay.cut();
        const down = await d.readSnapshot([flow!], new AbortController().signal);
        expect(down[0]).toMatchObject({
          status: 'bad',
          value: null,
          error: expect.stringContaining(`127.0.0.1:${relay.port}`),
        });
        expect(typeof down[0]!.statusCode).toBe('number');
        await eventually(() => d.health().state === 'degraded', 'health is degraded');
        relay.restore();
        await eventually(
          async () => (await d.readSnapshot([flow!], new AbortController().signal))[0]!.status === 'good',
          'reads recover',
        );
        await eventually(() => d.health().state === 'running', 'health is running again');
      } finally {
        await relay.close();
      }
    });

    it('given default TLS settings, when the server offers no TLS, then nothing is sent in clear text and health says why', async () => {
      const settings = sqlSettings(db, { history: mapping });
      settings.connection.tls = { enabled: true, verifyServer: true };
      const { driver } = await startSqlDriver('tls', settings);
      drivers.push(driver);
      expect(driver.health()).toMatchObject({
        state: 'degraded',
        message: expect.stringMatching(/ssl|secure/i),
      });
      expect(driver.health().details).toMatchObject({ tls: 'verified' });
    });

    it('given a column that is not in the table, when started, then health names it', async () => {
      const { driver } = await start({ history: { ...mapping, valueColumn: 'valu' } });
      expect(driver.health()).toMatchObject({ state: 'degraded', message: expect.stringContaining('valu') });
    });
  });
}
