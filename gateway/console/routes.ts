/**
 * The local console on the loopback server: sign-in through the one-time address, the overview
 * (machine, version, link, sources) and the audit log (filter, verify the chain, export). Every page
 * needs a session; every change is a same-origin form post with the session's CSRF token, audited.
 */
import type { FastifyInstance } from 'fastify';
import { isPlantgateError } from '../../drivers/core/index.ts';
import type { AuditEvent, AuditRecord } from '../audit/record.ts';
import { exportAudit, verifyAudit } from '../audit/verify.ts';
import { httpStatusOf } from '../errors.ts';
import type { QueryEngine } from '../query/engine.ts';
import { parseTime } from '../query/time.ts';
import { type LinkPkiDeps, registerLinkPkiPages } from './link-pki-pages.ts';
import { machineFacts } from './machine.ts';
import {
  checkedPost,
  consoleAuditEvent,
  consoleCaller,
  errorPage,
  escapeHtml,
  page,
  requireSession,
  STYLESHEET,
  sessionCookie,
  sessionOf,
} from './page.ts';
import { registerScriptPages } from './script-pages.ts';
import { ConsoleSessions } from './sessions.ts';
import { registerSourcePages, type SourcesDeps } from './sources-pages.ts';
import { registerTagsAccessPages, type TagsAccessDeps } from './tags-access-pages.ts';

export interface ConsoleDeps {
  engine: QueryEngine;
  token: () => string;
  dataDir: string;
  sessionIdleMinutes: number;
  /** Appends an audit record of a console action. */
  audit: (event: AuditEvent) => Promise<void>;
  /** What the data-source pages change; without it they are not offered. */
  sources?: Omit<SourcesDeps, 'audit'>;
  /** What the tags and access pages read and change. */
  tagsAccess?: Omit<TagsAccessDeps, 'audit' | 'engine'>;
  /** What the enrollment and certificate pages need. */
  linkPki?: Omit<LinkPkiDeps, 'audit'>;
}

const AUDIT_ROWS = 500;

type Health = {
  gateway: { id: string; version: string; uptimeS: number; rssMB: number };
  link: { state: string; lastError?: string; bridge?: string };
  sources: { id: string; driver: string; state: string; message?: string; tags: number }[];
};

const duration = (s: number) =>
  s >= 86_400
    ? `${Math.floor(s / 86_400)} d ${Math.floor((s % 86_400) / 3600)} h`
    : `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;

async function overview(engine: QueryEngine): Promise<string> {
  const health = (await engine.execute(consoleCaller(), 'health', undefined, {})) as Health;
  const m = await machineFacts();
  const sources = health.sources
    .map(
      (s) =>
        `<tr><td>${escapeHtml(s.id)}</td><td>${escapeHtml(s.driver)}</td><td class="state-${escapeHtml(s.state)}">${escapeHtml(s.state)}</td><td>${s.tags}</td><td>${escapeHtml(s.message ?? '')}</td></tr>`,
    )
    .join('');
  const link = health.link;
  return `<section aria-labelledby="link"><h2 id="link">Plant link</h2>
<p class="state-${link.state === 'connected' ? 'running' : link.state === 'disabled' ? 'stopped' : 'degraded'}">Link: <strong>${escapeHtml(link.state)}</strong>${link.lastError ? ` — last error: ${escapeHtml(link.lastError)}` : ''}</p></section>
<section aria-labelledby="sources"><h2 id="sources">Data sources</h2>
<table><thead><tr><th scope="col">Source</th><th scope="col">Driver</th><th scope="col">State</th><th scope="col">Tags</th><th scope="col">Message</th></tr></thead><tbody>${sources}</tbody></table></section>
<section aria-labelledby="gateway"><h2 id="gateway">Gateway</h2><dl>
<dt>Id</dt><dd>${escapeHtml(health.gateway.id)}</dd><dt>Version</dt><dd>${escapeHtml(health.gateway.version)}</dd>
<dt>Running for</dt><dd>${duration(health.gateway.uptimeS)}</dd><dt>Memory (RSS)</dt><dd>${health.gateway.rssMB} MB</dd></dl></section>
<section aria-labelledby="machine"><h2 id="machine">Machine</h2><dl>
<dt>Operating system</dt><dd>${escapeHtml(m.os)}</dd><dt>Up for</dt><dd>${duration(m.uptimeS)}</dd>
<dt>CPU</dt><dd>${m.cpuLoadPercent} % of ${m.cpus} cores</dd><dt>Memory</dt><dd>${m.memoryUsedMB} of ${m.memoryTotalMB} MB in use</dd>
<dt>Disks</dt><dd>${m.disks.map((d) => `${escapeHtml(d.mount)}: ${d.usedPercent} % of ${d.sizeGB} GB`).join('<br>') || '—'}</dd>
<dt>Network</dt><dd>${m.interfaces.map((i) => `${escapeHtml(i.name)} ${i.up ? 'up' : 'down'} ${escapeHtml(i.addresses.join(', '))}`).join('<br>') || '—'}</dd></dl></section>`;
}

interface AuditFilter {
  from?: string;
  to?: string;
  principal?: string;
  app?: string;
  source?: string;
  outcome?: string;
}

function filtered(
  dataDir: string,
  f: AuditFilter,
  now: number,
): { records: AuditRecord[]; from: number; to: number } {
  const from = f.from ? parseTime(f.from, now, 'from') : now - 86_400_000;
  const to = f.to ? parseTime(f.to, now, 'to') : now + 60_000;
  const records: AuditRecord[] = [];
  for (const r of exportAudit(dataDir, from, to)) {
    if (f.principal && r.principal !== f.principal) continue;
    if (f.app && r.app !== f.app) continue;
    if (f.source && r.source !== f.source) continue;
    if (f.outcome && (f.outcome === 'refused' ? r.outcome === 'ok' : r.outcome !== f.outcome)) continue;
    records.push(r);
  }
  return { records, from, to };
}

const field = (name: keyof AuditFilter, label: string, value: string | undefined, hint = '') =>
  `<label>${label} <input name="${name}" value="${escapeHtml(value ?? '')}"${hint ? ` placeholder="${hint}"` : ''}></label>`;

function auditPage(dataDir: string, f: AuditFilter, now: number): string {
  const { records } = filtered(dataDir, f, now);
  const shown = records.slice(-AUDIT_ROWS).reverse();
  const rows = shown
    .map(
      (r) =>
        `<tr><td>${escapeHtml(r.time)}</td><td>${escapeHtml(r.principal ?? '')}</td><td>${escapeHtml(r.app ?? '')}</td><td>${escapeHtml(r.source ?? '')}</td><td>${escapeHtml(r.operation ?? r.kind)}</td><td>${escapeHtml(r.outcome)}</td><td>${escapeHtml((r.detail ?? r.tags?.join(', ') ?? '').slice(0, 300))}</td></tr>`,
    )
    .join('');
  const query = new URLSearchParams(Object.entries(f).filter(([, v]) => v) as [string, string][]);
  return `<form method="get" action="/console/audit" aria-label="Filter">
${field('from', 'From', f.from, '*-24h')}${field('to', 'To', f.to, '*')}${field('principal', 'User', f.principal, 'user:…')}${field('app', 'App', f.app)}${field('source', 'Source', f.source)}${field('outcome', 'Outcome', f.outcome, 'ok, refused or a code')}
<button type="submit">Filter</button></form>
<p>${records.length} record(s)${records.length > AUDIT_ROWS ? `, the latest ${AUDIT_ROWS} shown` : ''}. <a href="/console/audit/export?${escapeHtml(query.toString())}">Export them (JSON lines)</a></p>
<table><thead><tr><th scope="col">Time</th><th scope="col">User</th><th scope="col">App</th><th scope="col">Source</th><th scope="col">Operation</th><th scope="col">Outcome</th><th scope="col">Detail</th></tr></thead><tbody>${rows}</tbody></table>`;
}

/** The console's routes, in a scope of their own: its form parser and error pages stay out of the API. */
export function registerConsole(root: FastifyInstance, deps: ConsoleDeps): void {
  root.register(async (app) => consoleRoutes(app, deps));
}

function consoleRoutes(app: FastifyInstance, deps: ConsoleDeps): void {
  const sessions = new ConsoleSessions(deps.sessionIdleMinutes);
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string', bodyLimit: 64 * 1024 },
    (_request, body, done) => done(null, Object.fromEntries(new URLSearchParams(body as string))),
  );
  const note = (detail: string, outcome = 'ok') => deps.audit(consoleAuditEvent(detail, outcome));

  app.setErrorHandler((error, request, reply) => {
    const code = isPlantgateError(error) ? error.code : 'PG_ERR_INTERNAL';
    return errorPage(
      reply,
      isPlantgateError(error) ? httpStatusOf(code) : 500,
      (error as Error).message,
      sessionOf(request, sessions),
    );
  });

  app.get('/console/assets/console.css', async (_request, reply) =>
    reply
      .headers({
        'content-type': 'text/css; charset=utf-8',
        'cache-control': 'no-cache',
        'x-content-type-options': 'nosniff',
      })
      .send(STYLESHEET),
  );

  app.get<{ Querystring: { n?: string; e?: string; s?: string } }>(
    '/console/sign-in',
    async (request, reply) => {
      const session = sessions.signIn(deps.token(), request.query);
      if (!session) {
        await note(
          'console sign-in refused: the address is wrong, used or expired',
          'PG_ERR_UNAUTHENTICATED',
        );
        return errorPage(
          reply,
          401,
          'This sign-in address is wrong, used or expired. Run plantgate console-url for a new one.',
        );
      }
      await note('console sign-in');
      return reply.header('set-cookie', sessionCookie(session.id, 12 * 3600)).redirect('/console', 303);
    },
  );

  app.post('/console/sign-out', async (request, reply) => {
    const session = checkedPost(request, sessions);
    sessions.end(session.id);
    await note('console sign-out');
    return reply.header('set-cookie', sessionCookie('', 0)).redirect('/console/signed-out', 303);
  });

  if (deps.sources) registerSourcePages(app, sessions, { ...deps.sources, audit: deps.audit }, deps.dataDir);
  if (deps.linkPki) registerLinkPkiPages(app, sessions, { ...deps.linkPki, audit: deps.audit });
  if (deps.tagsAccess) registerScriptPages(app, sessions, deps.engine, deps.tagsAccess.registry);
  if (deps.tagsAccess)
    registerTagsAccessPages(app, sessions, { ...deps.tagsAccess, engine: deps.engine, audit: deps.audit });

  app.get('/console/signed-out', async (_request, reply) =>
    page(reply, 'Signed out', '<p>Run <code>plantgate console-url</code> to sign in again.</p>'),
  );

  app.get('/console', async (request, reply) => {
    const session = requireSession(request, sessions);
    return page(reply, 'Overview', await overview(deps.engine), session);
  });

  app.get<{ Querystring: AuditFilter }>('/console/audit', async (request, reply) => {
    const session = requireSession(request, sessions);
    const verify = `<form method="post" action="/console/audit/verify"><input type="hidden" name="csrf" value="${session.csrf}"><button type="submit">Verify the chain</button></form>`;
    return page(reply, 'Audit', verify + auditPage(deps.dataDir, request.query, Date.now()), session);
  });

  app.post('/console/audit/verify', async (request, reply) => {
    const session = checkedPost(request, sessions);
    const result = verifyAudit(deps.dataDir);
    await note(`audit chain verified from the console: ${result.ok ? 'intact' : result.problem?.message}`);
    const body = result.ok
      ? `<p role="status">The chain is intact: ${result.records} records in ${result.files} file(s).</p>`
      : `<p role="alert">The chain is broken: ${escapeHtml(result.problem!.kind)} at ${escapeHtml(result.problem!.file)} line ${result.problem!.line} — ${escapeHtml(result.problem!.message)}</p>`;
    return page(
      reply,
      'Audit chain',
      `${body}<p><a href="/console/audit">Back to the audit log</a></p>`,
      session,
    );
  });

  app.get<{ Querystring: AuditFilter }>('/console/audit/export', async (request, reply) => {
    requireSession(request, sessions);
    const { records } = filtered(deps.dataDir, request.query, Date.now());
    await note(`audit exported from the console: ${records.length} record(s)`);
    return reply
      .headers({
        'content-type': 'application/x-ndjson; charset=utf-8',
        'content-disposition': 'attachment; filename="plantgate-audit.jsonl"',
        'cache-control': 'no-store',
      })
      .send(records.map((r) => JSON.stringify(r)).join('\n') + (records.length ? '\n' : ''));
  });
}
