/**
 * Console › Tags (search a source, live values that update every second through the console's own
 * script) and › Access rules (the rules as YAML, edited with validation and applied at once, and what
 * a user or group may do where).
 */
import type { FastifyInstance } from 'fastify';
import { parse as parseYaml } from 'yaml';
import type { AccessPolicy } from '../access/policy.ts';
import { ROLES } from '../access/rules.ts';
import type { CallContext } from '../api/call-context.ts';
import type { AuditEvent } from '../audit/record.ts';
import type { GatewayConfig } from '../config/schema.ts';
import { editConfig } from '../config/write.ts';
import { gatewayError } from '../errors.ts';
import type { QueryEngine } from '../query/engine.ts';
import type { SourceRegistry } from '../sources/registry.ts';
import { checkedPost, consoleAuditEvent, consoleCaller, escapeHtml, page, requireSession } from './page.ts';
import type { ConsoleSession, ConsoleSessions } from './sessions.ts';

export interface TagsAccessDeps {
  engine: QueryEngine;
  registry: SourceRegistry;
  configFile: string;
  rules(): GatewayConfig['access']['rules'];
  policy(): AccessPolicy;
  adopt(next: GatewayConfig): void;
  audit(event: AuditEvent): Promise<void>;
}

/** The console's one script: it fills in and refreshes the values of the tags table every second. */
export const LIVE_VALUES_SCRIPT = `(() => {
  const table = document.querySelector('table[data-live]');
  if (!table) return;
  const source = table.dataset.source;
  const cells = [...table.querySelectorAll('td[data-tag]')];
  const refresh = async () => {
    const tags = cells.map((c) => c.dataset.tag).join(',');
    const answer = await fetch('/console/data/snapshot?source=' + encodeURIComponent(source) + '&tags=' + encodeURIComponent(tags), { credentials: 'same-origin' });
    if (!answer.ok) return;
    const { values } = await answer.json();
    values.forEach((v, i) => {
      const cell = cells[i];
      if (!cell) return;
      cell.textContent = v.value === null ? '—' : String(v.value);
      cell.nextElementSibling.textContent = v.status;
      cell.nextElementSibling.nextElementSibling.textContent = v.time;
    });
  };
  refresh();
  setInterval(refresh, 1000);

  // The trend of one tag: plot values of the last hour or day from local history, drawn on a canvas.
  const canvas = document.querySelector('canvas[data-trend]');
  if (!canvas) return;
  const draw = async () => {
    const q = new URLSearchParams({ source, tag: canvas.dataset.trend, range: canvas.dataset.range });
    const answer = await fetch('/console/data/trend?' + q, { credentials: 'same-origin' });
    if (!answer.ok) return;
    const { start: t0, end: t1, values } = await answer.json();
    const points = values.filter((v) => typeof v.value === 'number').map((v) => [Date.parse(v.time), v.value]);
    const g = canvas.getContext('2d');
    const w = canvas.width, h = canvas.height, pad = 40;
    g.clearRect(0, 0, w, h);
    g.fillStyle = '#fff'; g.fillRect(0, 0, w, h);
    g.strokeStyle = '#aab'; g.strokeRect(pad, 10, w - pad - 10, h - pad - 10);
    canvas.setAttribute('aria-label', canvas.dataset.trend + ': ' + points.length + ' points');
    const label = (t) => new Date(t).toISOString().slice(t1 - t0 > 7200000 ? 5 : 11, 16).replace('T', ' ');
    g.fillStyle = '#333'; g.font = '12px system-ui';
    [0, 0.25, 0.5, 0.75, 1].forEach((f) => {
      const t = t0 + f * (t1 - t0);
      g.fillText(label(t), pad + f * (w - pad - 10) - (f === 1 ? 70 : f ? 35 : 0), h - pad + 16);
    });
    g.fillText('UTC', 2, h - pad + 16);
    if (points.length === 0) { g.fillText('no history in this window', w / 2 - 70, h / 2); return; }
    let lo = Math.min(...points.map((p) => p[1])), hi = Math.max(...points.map((p) => p[1]));
    if (hi === lo) { hi += 1; lo -= 1; }
    const x = (t) => pad + ((t - t0) / Math.max(1, t1 - t0)) * (w - pad - 10);
    const y = (v) => h - pad - ((v - lo) / (hi - lo)) * (h - pad - 20);
    g.fillText(hi.toPrecision(4), 2, 20); g.fillText(lo.toPrecision(4), 2, h - pad);
    g.strokeStyle = '#1f5fa8'; g.lineWidth = 1.5; g.beginPath();
    points.forEach(([t, v], i) => (i ? g.lineTo(x(t), y(v)) : g.moveTo(x(t), y(v))));
    g.stroke();
    if (points.length === 1) { g.fillStyle = '#1f5fa8'; g.fillRect(x(points[0][0]) - 2, y(points[0][1]) - 2, 4, 4); }
  };
  draw();
  setInterval(draw, 10000);
})();`;

function tagsPage(
  sources: string[],
  source: string | undefined,
  pattern: string,
  found: { name: string; units: string; description: string }[],
  trend: { tag: string; range: string } | undefined,
) {
  const options = sources
    .map((s) => `<option${s === source ? ' selected' : ''}>${escapeHtml(s)}</option>`)
    .join('');
  const rows = found
    .map(
      (t) =>
        `<tr><td><a href="/console/tags?${escapeHtml(new URLSearchParams({ source: source ?? '', name: pattern, trend: t.name }).toString())}">${escapeHtml(t.name)}</a></td><td data-tag="${escapeHtml(t.name)}" aria-live="polite">…</td><td></td><td></td><td>${escapeHtml(t.units)}</td><td>${escapeHtml(t.description)}</td></tr>`,
    )
    .join('');
  return `<form method="get" action="/console/tags"><label>Source <select name="source">${options}</select></label>
<label>Name <input name="name" value="${escapeHtml(pattern)}" placeholder="* and ?"></label><button type="submit">Search</button></form>
${source ? `<table data-live data-source="${escapeHtml(source)}"><thead><tr><th scope="col">Tag</th><th scope="col">Value</th><th scope="col">Quality</th><th scope="col">Time</th><th scope="col">Units</th><th scope="col">Description</th></tr></thead><tbody>${rows}</tbody></table>` : ''}
${
  trend && source
    ? `<h2>Trend of ${escapeHtml(trend.tag)}</h2><p>${['1h', '1d'].map((r) => (r === trend.range ? `<strong>last ${r === '1h' ? 'hour' : 'day'}</strong>` : `<a href="/console/tags?${escapeHtml(new URLSearchParams({ source, name: pattern, trend: trend.tag, range: r }).toString())}">last ${r === '1h' ? 'hour' : 'day'}</a>`)).join(' · ')}</p>
<canvas data-trend="${escapeHtml(trend.tag)}" data-range="${trend.range}" width="1000" height="300" role="img" aria-label="trend of ${escapeHtml(trend.tag)}"></canvas>`
    : ''
}
<script src="/console/assets/live-values.js"></script>`;
}

function accessPage(session: ConsoleSession, rulesYaml: string, message = '', who = '', can = ''): string {
  return `${message}<form method="post" action="/console/access"><input type="hidden" name="csrf" value="${session.csrf}">
<p><label for="rules">Role rules (YAML list of { principal, sources, roles, tags })</label><br><textarea id="rules" name="rules" rows="14" cols="100">${escapeHtml(rulesYaml)}</textarea></p>
<p><button type="submit">Save the rules</button> Roles: ${ROLES.join(', ')}.</p></form>
<h2>What may someone do?</h2><form method="get" action="/console/access"><label>User or group <input name="who" value="${escapeHtml(who)}" placeholder="user:… or group:…"></label><button type="submit">Show</button></form>${can}`;
}

function whatCan(policy: AccessPolicy, registry: SourceRegistry, who: string): string {
  const principal = who.startsWith('group:')
    ? { subject: 'user:\u0000nobody', groups: [who.slice(6)] }
    : { subject: who, groups: [] };
  const ctx: CallContext = { requestId: 'console', origin: 'link', principal };
  const rows = registry
    .list()
    .map((s) => {
      const cells = ROLES.map((role) => {
        const g = policy.grant(ctx, s.id, role);
        return `<td>${g === true ? 'yes' : g === false ? '—' : `tags ${escapeHtml(g.map((p) => p.source.replace(/^\^|\$$/g, '')).join(', '))}`}</td>`;
      }).join('');
      return `<tr><td>${escapeHtml(s.id)}</td>${cells}</tr>`;
    })
    .join('');
  return `<table><thead><tr><th scope="col">Source</th>${ROLES.map((r) => `<th scope="col">${r}</th>`).join('')}</tr></thead><tbody>${rows}</tbody></table>`;
}

export function registerTagsAccessPages(
  app: FastifyInstance,
  sessions: ConsoleSessions,
  deps: TagsAccessDeps,
): void {
  app.get('/console/assets/live-values.js', async (_request, reply) =>
    reply
      .headers({
        'content-type': 'text/javascript; charset=utf-8',
        'cache-control': 'no-cache',
        'x-content-type-options': 'nosniff',
      })
      .send(LIVE_VALUES_SCRIPT),
  );

  app.get<{ Querystring: { source?: string; name?: string; trend?: string; range?: string } }>(
    '/console/tags',
    async (request, reply) => {
      const session = requireSession(request, sessions);
      const sources = deps.registry.list().map((s) => s.id);
      const source = request.query.source ?? sources[0];
      const pattern = request.query.name ?? '*';
      const found = source
        ? (
            (await deps.engine.execute(consoleCaller(), 'tags.search', source, {
              name: pattern,
              pageSize: 200,
            })) as {
              tags: { name: string; units: string; description: string }[];
            }
          ).tags
        : [];
      const trend = request.query.trend
        ? { tag: request.query.trend, range: request.query.range === '1d' ? '1d' : '1h' }
        : undefined;
      return page(reply, 'Tags', tagsPage(sources, source, pattern, found, trend), session);
    },
  );

  app.get<{ Querystring: { source?: string; tags?: string } }>(
    '/console/data/snapshot',
    async (request, reply) => {
      requireSession(request, sessions);
      const tags = (request.query.tags ?? '').split(',').filter(Boolean).slice(0, 100);
      if (!request.query.source || tags.length === 0) return reply.send({ values: [] });
      return reply
        .header('cache-control', 'no-store')
        .send(await deps.engine.execute(consoleCaller(), 'values.snapshot', request.query.source, { tags }));
    },
  );

  app.get<{ Querystring: { source?: string; tag?: string; range?: string } }>(
    '/console/data/trend',
    async (request, reply) => {
      requireSession(request, sessions);
      const { source, tag } = request.query;
      if (!source || !tag) return reply.send({ values: [] });
      // The chart spans the whole window, so an hour with little history still reads as an hour.
      const end = Date.now();
      const start = end - (request.query.range === '1d' ? 86_400_000 : 3_600_000);
      const answer = (await deps.engine.execute(consoleCaller(), 'values.plot', source, {
        tags: [tag],
        start: new Date(start).toISOString(),
        end: new Date(end).toISOString(),
        intervals: 500,
      })) as {
        tags: { values: unknown[] }[];
      };
      return reply
        .header('cache-control', 'no-store')
        .send({ start, end, values: answer.tags[0]?.values ?? [] });
    },
  );

  app.get<{ Querystring: { who?: string } }>('/console/access', async (request, reply) => {
    const session = requireSession(request, sessions);
    const who = request.query.who?.trim() ?? '';
    const can = /^(user|group):\S{1,256}$/.test(who)
      ? whatCan(deps.policy(), deps.registry, who)
      : who
        ? '<p role="alert">Give user:… or group:…</p>'
        : '';
    return page(reply, 'Access rules', accessPage(session, rulesYaml(deps.rules()), '', who, can), session);
  });

  app.post<{ Body: { rules?: string } }>('/console/access', async (request, reply) => {
    const session = checkedPost(request, sessions);
    const text = request.body.rules ?? '';
    try {
      const rules = text.trim() ? parseYaml(text) : [];
      if (!Array.isArray(rules)) throw gatewayError('PG_ERR_BAD_REQUEST', 'the rules must be a YAML list');
      const before = deps.rules();
      const next = await editConfig(deps.configFile, (doc) =>
        doc.setIn(['access', 'rules'], doc.createNode(rules)),
      );
      deps.adopt(next);
      await deps.audit(
        consoleAuditEvent(
          `role rules changed from the console: ${JSON.stringify(before)} → ${JSON.stringify(next.access.rules)}`.slice(
            0,
            4000,
          ),
        ),
      );
      return page(
        reply,
        'Access rules',
        accessPage(session, rulesYaml(next.access.rules), '<p role="status">Saved and in force.</p>'),
        session,
      );
    } catch (error) {
      return page(
        reply,
        'Access rules',
        accessPage(session, text, `<p role="alert">${escapeHtml((error as Error).message)}</p>`),
        session,
        400,
      );
    }
  });
}

const rulesYaml = (rules: GatewayConfig['access']['rules']) =>
  rules.map((r) => `- ${JSON.stringify(r).replace(/"(\w+)":/g, '$1: ')}`).join('\n');
