/**
 * The local console over HTTP: the Host allow-list, the one-time sign-in address, session cookies,
 * CSRF and same-origin checks on changes, the strict CSP, the audit pages, and /metrics.
 */

import { X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import path from 'node:path';
import { generate } from 'selfsigned';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportAudit } from '../audit/verify.ts';
import { loadGatewayConfig } from '../config/load.ts';
import { ConsoleSessions, signInUrl } from '../console/sessions.ts';
import { readLocalToken } from '../local-api/token.ts';
import { type Harness, startHarness } from './harness.ts';

let h: Harness;
let origin: string;
let token: string;

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/** A raw HTTP request, so a test can send any Host, Origin or cookie. */
function send(
  pathAndQuery: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const r = request(
      `${origin}${pathAndQuery}`,
      { method: options.method ?? 'GET', headers: options.headers ?? {} },
      (res) => {
        let text = '';
        res.on('data', (d) => {
          text += d;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
      },
    );
    r.on('error', reject);
    r.end(options.body);
  });
}

async function signIn(): Promise<{ cookie: string; csrf: string }> {
  const url = new URL(signInUrl(origin, token));
  const answer = await send(url.pathname + url.search);
  expect(answer.status).toBe(303);
  const cookie = String(answer.headers['set-cookie']).split(';')[0]!;
  const overview = await send('/console', { headers: { cookie } });
  const csrf = /name="csrf" value="([^"]+)"/.exec(overview.text)![1]!;
  return { cookie, csrf };
}

const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();

beforeAll(async () => {
  h = await startHarness();
  origin = `http://127.0.0.1:${h.gateway.port}`;
  token = readLocalToken(h.gateway.config.gateway.dataDir);
}, 30_000);
afterAll(async () => h?.stop());

describe('the local console', () => {
  it('given a foreign Host header, when anything is asked, then it is refused (DNS rebinding)', async () => {
    for (const p of ['/console', '/api/v1/health', '/metrics']) {
      const answer = await send(p, {
        headers: { host: 'attacker.example:80', authorization: `Bearer ${token}` },
      });
      expect(answer.status, p).toBe(421);
    }
    expect(
      (
        await send('/api/v1/health', {
          headers: { host: `localhost:${h.gateway.port}`, authorization: `Bearer ${token}` },
        })
      ).status,
    ).toBe(200);
  });

  it('given the one-time address, when used, then it signs in once with a strict cookie; again, forged or expired it does not', async () => {
    const url = new URL(signInUrl(origin, token));
    const first = await send(url.pathname + url.search);
    expect(first.status).toBe(303);
    expect(first.headers.location).toBe('/console');
    expect(String(first.headers['set-cookie'])).toMatch(
      /^pg_console=[A-Za-z0-9_-]{43}; Path=\/console; HttpOnly; SameSite=Strict/,
    );
    expect((await send(url.pathname + url.search)).status).toBe(401);
    const forged = new URL(signInUrl(origin, 'not-the-token'));
    expect((await send(forged.pathname + forged.search)).status).toBe(401);
    const old = new URL(signInUrl(origin, token, Date.now() - 10 * 60_000));
    expect((await send(old.pathname + old.search)).status).toBe(401);
    expect((await send('/console')).status).toBe(401);
  });

  it('given a session, when the overview is shown, then it has the sources, link and machine, under a strict CSP', async () => {
    const { cookie } = await signIn();
    const overview = await send('/console', { headers: { cookie } });
    expect(overview.status).toBe(200);
    expect(overview.headers['content-security-policy']).toContain("default-src 'none'");
    expect(overview.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(overview.text).toContain('<td>boiler</td><td>modbus</td>');
    expect(overview.text).toMatch(/Link: <strong>(disabled|stopped)<\/strong>/);
    expect(overview.text).toMatch(/of \d+ cores/);
    expect(overview.text).not.toMatch(/https?:\/\/(?!127\.0\.0\.1)[a-z]/i);
  });

  it('given a tag, when its trend data is asked for the last hour or day, then it spans that whole window', async () => {
    const { cookie } = await signIn();
    for (const [range, ms] of [
      ['1h', 3_600_000],
      ['1d', 86_400_000],
    ] as const) {
      const answer = await send(
        `/console/data/trend?source=boiler&tag=Boiler1.SteamPressure&range=${range}`,
        {
          headers: { cookie },
        },
      );
      expect(answer.status).toBe(200);
      const trend = JSON.parse(answer.text) as { start: number; end: number; values: { time: string }[] };
      expect(trend.end - trend.start).toBe(ms);
      expect(Math.abs(trend.end - Date.now())).toBeLessThan(5_000);
      for (const v of trend.values) expect(Date.parse(v.time)).toBeGreaterThanOrEqual(trend.start);
    }
    const anonymous = await send('/console/data/trend?source=boiler&tag=Boiler1.SteamPressure');
    expect(anonymous.status).toBe(401);
  });

  it('given a change, when it lacks the CSRF token or comes from another site, then it is refused', async () => {
    const { cookie, csrf } = await signIn();
    const post = (headers: Record<string, string>, body: string) =>
      send('/console/audit/verify', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', cookie, ...headers },
        body,
      });
    expect((await post({}, form({}))).status).toBe(403);
    expect((await post({}, form({ csrf: 'x'.repeat(43) }))).status).toBe(403);
    expect((await post({ origin: 'http://evil.example' }, form({ csrf }))).status).toBe(403);
    expect((await post({ 'sec-fetch-site': 'cross-site' }, form({ csrf }))).status).toBe(403);
    const noSession = await send('/console/audit/verify', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form({ csrf }),
    });
    expect(noSession.status).toBe(401);
    const ok = await post({ origin }, form({ csrf }));
    expect(ok.status).toBe(200);
    expect(ok.text).toContain('The chain is intact');
  });

  it('given the audit log, when filtered and exported, then it shows and exports just those records', async () => {
    const { cookie } = await signIn();
    const page = await send('/console/audit?principal=local%3Aconsole', { headers: { cookie } });
    expect(page.text).toContain('console sign-in');
    expect(page.text).not.toContain('<td>local:token</td>');
    const exported = await send('/console/audit/export?principal=local%3Aconsole', { headers: { cookie } });
    expect(exported.headers['content-type']).toContain('application/x-ndjson');
    const records = exported.text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(records.length).toBeGreaterThan(2);
    expect(records.every((r) => r.principal === 'local:console')).toBe(true);
  });

  it('given a session, when signed out, then it is over', async () => {
    const { cookie, csrf } = await signIn();
    const out = await send('/console/sign-out', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie, origin },
      body: form({ csrf }),
    });
    expect(out.status).toBe(303);
    expect((await send('/console', { headers: { cookie } })).status).toBe(401);
  });

  it('given sessions, when unused past the idle time, then they end', () => {
    const sessions = new ConsoleSessions(15);
    const url = new URL(signInUrl('http://x', 'token', 1_000_000));
    const session = sessions.signIn('token', Object.fromEntries(url.searchParams), 1_000_000)!;
    expect(sessions.use(session.id, 1_000_000 + 14 * 60_000)).toBeDefined();
    expect(sessions.use(session.id, 1_000_000 + 14 * 60_000 + 15 * 60_000 + 1)).toBeUndefined();
  });

  it('given metrics, when scraped with the local token, then sources, link and requests are there', async () => {
    expect((await send('/metrics')).status).toBe(401);
    const metrics = await send('/metrics', { headers: { authorization: `Bearer ${token}` } });
    expect(metrics.status).toBe(200);
    expect(metrics.text).toContain(
      'plantgate_source_state{source="boiler",driver="modbus",state="running"} 1',
    );
    expect(metrics.text).toContain('plantgate_link_connected 0');
    expect(metrics.text).toMatch(/plantgate_source_poll_milliseconds\{source="boiler",group="[^"]*"\} \d/);
    expect(metrics.text).toMatch(
      /plantgate_requests_total\{operation="health",origin="local",outcome="ok"\} \d/,
    );
    expect(metrics.text).toContain('plantgate_process_resident_memory_bytes');
  });

  it('given a rejected OPC UA server certificate, when trusted and then rejected on the page, then it moves and both are audited', async () => {
    const { cookie, csrf } = await signIn();
    const pems = await generate([{ name: 'commonName', value: 'press-line-server' }], {
      keySize: 2048,
    } as never);
    const pki = path.join(h.gateway.config.gateway.dataDir, 'pki');
    mkdirSync(path.join(pki, 'rejected'), { recursive: true });
    writeFileSync(path.join(pki, 'rejected', 'press.pem'), pems.cert);
    const thumbprint = new X509Certificate(pems.cert).fingerprint.replace(/:/g, '');
    const listed = await send('/console/certificates', { headers: { cookie } });
    expect(listed.text).toContain(`Trust CN=press-line-server`);
    const post = (action: string) =>
      send(`/console/certificates/${action}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', cookie, origin },
        body: form({ csrf, thumbprint }),
      });
    expect((await post('trust')).text).toContain('is trusted');
    expect(existsSync(path.join(pki, 'trusted', 'certs', 'press.pem'))).toBe(true);
    expect((await post('reject')).text).toContain('is rejected');
    expect(existsSync(path.join(pki, 'rejected', 'press.pem'))).toBe(true);
    const details = [...exportAudit(h.gateway.config.gateway.dataDir, 0, Date.now() + 1000)].map(
      (r) => r.detail ?? '',
    );
    expect(details).toContain(
      `OPC UA server certificate trusted from the console: ${thumbprint} CN=press-line-server`,
    );
  });

  it('given no enrollment, when the page is shown and a code is refused, then it says so and the refusal is audited', async () => {
    const { cookie, csrf } = await signIn();
    expect((await send('/console/enrollment', { headers: { cookie } })).text).toContain('not enrolled');
    const refused = await send('/console/enrollment', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie, origin },
      body: form({ csrf, bridge: 'https://127.0.0.1:9', code: 'abc' }),
    });
    expect(refused.status).toBe(400);
    expect(refused.text).toContain('role="alert"');
    const records = [...exportAudit(h.gateway.config.gateway.dataDir, 0, Date.now() + 1000)];
    expect(
      records.some(
        (r) =>
          r.outcome === 'PG_ERR_ENROLLMENT_REFUSED' &&
          r.detail?.startsWith('enrollment from the console refused'),
      ),
    ).toBe(true);
  });

  it('given a source with a secret, when added and edited on the page, then the secret is sealed, kept and never shown', async () => {
    const { cookie, csrf } = await signIn();
    const post = (url: string, fields: Record<string, string>) =>
      send(url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', cookie, origin },
        body: form({ csrf, ...fields }),
      });
    const settings =
      '{ dialect: postgres, connection: { host: 127.0.0.1, port: 9, database: hist, user: reader, tls: { enabled: false } }, history: { table: history, tagColumn: tag, timeColumn: ts, valueColumn: value } }';
    const added = await post('/console/sources/new', {
      driver: 'sql',
      id: 'hist',
      settings,
      tags: '',
      'secret:connection.password': 'Sup3r-Secret!',
      action: 'save',
    });
    expect(added.status, added.text).toBe(303);
    const file = () => readFileSync(h.configFile, 'utf8');
    expect(file()).not.toContain('Sup3r-Secret!');
    const sealed = /password: (enc:v1:[A-Za-z0-9+/=_:-]+)/.exec(file())?.[1];
    expect(sealed).toBeDefined();
    const edit = await send('/console/sources/hist/edit', { headers: { cookie } });
    expect(edit.text).not.toContain('enc:v1');
    expect(edit.text).toContain('leave empty to keep the sealed one');
    const saved = await post('/console/sources/hist/edit', {
      driver: 'sql',
      description: 'Process history',
      settings,
      tags: '',
      action: 'save',
    });
    expect(saved.status, saved.text).toBe(303);
    expect(file()).toContain(sealed!);
    expect(file()).toContain('description: Process history');
    expect(h.gateway.registry.get('hist').config.description).toBe('Process history');
    const removed = await post('/console/sources/hist/remove', {});
    expect(removed.status).toBe(303);
    expect(file()).not.toContain('id: hist');
    expect(() => h.gateway.registry.get('hist')).toThrow(/no data source/);
  });

  it('given a console address off loopback, when the config is loaded, then it is refused by path', async () => {
    const file = path.join(h.dir, 'wide-open.yaml');
    writeFileSync(
      file,
      'gateway: { id: x, dataDir: ./x }\nconsole: { port: 7443, host: 0.0.0.0 }\nsources: []\n',
    );
    await expect(loadGatewayConfig(file)).rejects.toThrow(
      /console\.host: must be one of "127\.0\.0\.1", "::1"/,
    );
  });
});
