/**
 * TLS to PostgreSQL, checked for real: the CI server speaks no TLS, so a relay in front of it answers
 * PostgreSQL's SSLRequest, ends TLS with a certificate made for the test, and passes the plain protocol
 * on. The driver must refuse a certificate it cannot verify, accept it with the CA given, refuse a
 * wrong name, and take anything only when told verifyServer: false.
 */

import { mkdtempSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { generate } from 'selfsigned';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Driver, SnapshotRead, Tag, TagSearch } from '../../core/index.ts';
import { numericTag } from '../../core/testing.ts';
import {
  configuredDatabases,
  createNarrowTables,
  insertSamples,
  openDatabase,
  sqlSettings,
  startSqlDriver,
  type TestDatabase,
  tableName,
} from './databases.ts';

const SSL_REQUEST = Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f]);

/** Answers SSLRequest with 'S', then relays the decrypted protocol to the database in plain. */
async function startTlsRelay(target: number, key: string, cert: string) {
  const sockets = new Set<net.Socket>();
  let tlsSessions = 0;
  const server = net.createServer((raw) => {
    sockets.add(raw);
    raw.on('error', () => {});
    raw.once('data', (first) => {
      if (!first.subarray(0, 8).equals(SSL_REQUEST)) return raw.destroy(); // plain text is refused
      raw.write('S');
      const secure = new tls.TLSSocket(raw, { isServer: true, key, cert });
      secure.on('error', () => raw.destroy());
      secure.once('secure', () => {
        tlsSessions++;
        const upstream = net.connect(target, '127.0.0.1');
        sockets.add(upstream);
        upstream.on('error', () => secure.destroy());
        secure.pipe(upstream).pipe(secure);
        secure.on('close', () => upstream.destroy());
        upstream.on('close', () => secure.destroy());
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    sessions: () => tlsSessions,
    close() {
      for (const s of sockets) s.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe.runIf(configuredDatabases().includes('postgres'))('SQL driver TLS (postgres)', () => {
  let db: TestDatabase;
  let relay: Awaited<ReturnType<typeof startTlsRelay>>;
  let caFile: string;
  const history = tableName('tls_hist');
  const drivers: Driver[] = [];

  beforeAll(async () => {
    db = await openDatabase('postgres');
    await createNarrowTables(db, history);
    await insertSamples(db, history, [{ tag: 'Flow', time: Date.now() - 1000, value: 3.25 }]);
    const pems = await generate([{ name: 'commonName', value: 'historian.test' }], {
      keySize: 2048,
      extensions: [
        {
          name: 'subjectAltName',
          altNames: [
            { type: 2, value: 'historian.test' },
            { type: 7, ip: '127.0.0.1' },
          ],
        },
      ],
    } as never);
    caFile = path.join(mkdtempSync(path.join(os.tmpdir(), 'plantgate-sql-tls-')), 'ca.pem');
    writeFileSync(caFile, pems.cert);
    relay = await startTlsRelay(Number(db.url.port || 5432), pems.private, pems.cert);
  }, 30_000);

  afterAll(async () => {
    for (const d of drivers) await d.stop();
    await relay?.close();
    await db?.exec(`DROP TABLE IF EXISTS ${history}`);
    await db?.close();
  });

  const connect = async (tlsSettings: Record<string, unknown>) => {
    const settings = sqlSettings(db, {
      history: { table: history, tagColumn: 'tag', timeColumn: 'ts', valueColumn: 'value' },
    });
    settings.connection.port = relay.port;
    settings.connection.tls = {
      enabled: true,
      verifyServer: true,
      ...tlsSettings,
    } as typeof settings.connection.tls;
    const { driver } = await startSqlDriver('tls', settings);
    drivers.push(driver);
    return driver as Driver & SnapshotRead & TagSearch;
  };
  const flow = (): Tag => numericTag('Flow', { writable: false });

  it('given a certificate of no CA the gateway trusts, when connecting, then it is refused and nothing is read', async () => {
    const driver = await connect({});
    expect(driver.health()).toMatchObject({
      state: 'degraded',
      message: expect.stringMatching(/self.signed|certificate/i),
    });
    expect((await driver.readSnapshot([flow()], new AbortController().signal))[0]).toMatchObject({
      status: 'bad',
    });
  });

  it('given the CA file, when connecting over TLS, then the certificate is verified and the value read', async () => {
    const before = relay.sessions();
    const driver = await connect({ caFile });
    expect(driver.health()).toMatchObject({ state: 'running', details: { tls: 'verified' } });
    expect((await driver.readSnapshot([flow()], new AbortController().signal))[0]).toMatchObject({
      value: 3.25,
      status: 'good',
    });
    expect(relay.sessions()).toBeGreaterThan(before);
  });

  it('given the CA but a name the certificate does not carry, when connecting, then it is refused', async () => {
    const driver = await connect({ caFile, serverName: 'other.test' });
    expect(driver.health()).toMatchObject({
      state: 'degraded',
      message: expect.stringMatching(/other\.test|altnames|hostname/i),
    });
  });

  it('given verifyServer: false, when connecting, then any certificate is taken and health says unverified', async () => {
    const driver = await connect({ verifyServer: false });
    expect(driver.health()).toMatchObject({ state: 'running', details: { tls: 'unverified' } });
  });
});
