/**
 * Console › Data sources: list, add (with a connection test first if wanted), enable, disable and
 * remove. Each change is an administrator action: the config file is edited, validated whole, written
 * atomically, and the running gateway takes the change at once. Secrets are typed once, sealed to
 * this machine before they are written, and never shown again.
 */

import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { parseDocument, parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { type DriverFactory, type DriverHost, silentLogger } from '../../drivers/core/index.ts';
import type { AuditEvent } from '../audit/record.ts';
import { parseGatewayConfig } from '../config/load.ts';
import type { GatewayConfig } from '../config/schema.ts';
import { editConfig, sourceEntryOf, sourcesOf } from '../config/write.ts';
import { gatewayError } from '../errors.ts';
import type { Sealer } from '../secrets/sealer.ts';
import { findDriver } from '../sources/driver-registry.ts';
import type { SourceRegistry } from '../sources/registry.ts';
import { checkedPost, consoleAuditEvent, escapeHtml, page, requireSession } from './page.ts';
import type { ConsoleSession, ConsoleSessions } from './sessions.ts';

export interface SourcesDeps {
  registry: SourceRegistry;
  configFile: string;
  drivers: readonly DriverFactory[];
  adopt(next: GatewayConfig): void;
  /** The machine's sealer, opened when first needed. */
  sealer(): Promise<Sealer>;
  audit(event: AuditEvent): Promise<void>;
}

type SourceForm = Record<string, string | undefined>;

const valueAt = (source: unknown, dotted: string): unknown =>
  dotted
    .split('.')
    .reduce<unknown>(
      (at, k) => (at && typeof at === 'object' ? (at as Record<string, unknown>)[k] : undefined),
      source,
    );

const removeAt = (target: Record<string, unknown>, dotted: string) => {
  const keys = dotted.split('.');
  const parent = valueAt(target, keys.slice(0, -1).join('.')) ?? (keys.length === 1 ? target : undefined);
  if (parent && typeof parent === 'object') delete (parent as Record<string, unknown>)[keys.at(-1)!];
};

const setAt = (target: Record<string, unknown>, dotted: string, value: unknown) => {
  const keys = dotted.split('.');
  let at = target;
  for (const key of keys.slice(0, -1)) {
    if (typeof at[key] !== 'object' || at[key] === null) at[key] = {};
    at = at[key] as Record<string, unknown>;
  }
  at[keys.at(-1)!] = value;
};

function yamlField(text: string | undefined, what: string, fallback: unknown): unknown {
  if (!text?.trim()) return fallback;
  try {
    return parseYaml(text);
  } catch (error) {
    throw gatewayError('PG_ERR_BAD_REQUEST', `${what} is not valid YAML: ${(error as Error).message}`);
  }
}

/** The entry a form describes, secrets in clear (`plain`) or sealed (`sealed`). */
async function entryOf(form: SourceForm, factory: DriverFactory, seal?: () => Promise<Sealer>) {
  const id = form.id?.trim() ?? '';
  const settings = yamlField(form.settings, 'Settings', {}) as Record<string, unknown>;
  const tags = yamlField(form.tags, 'Tags', []);
  const plain = structuredClone(settings);
  for (const field of factory.secretFields ?? []) {
    const value = form[`secret:${field}`];
    if (!value) continue;
    setAt(plain, field, value);
    if (seal) setAt(settings, field, (await seal()).seal(value, { driver: factory.name, source: id, field }));
  }
  const base = {
    id,
    driver: factory.name,
    ...(form.description ? { description: form.description } : {}),
    tags,
  };
  const poll = form.poll?.trim() ? { poll: yamlField(form.poll, 'Poll', {}) } : {};
  return { sealed: { ...base, ...poll, settings }, plain: { ...base, ...poll, settings: plain } };
}

function sourcesList(registry: SourceRegistry, session: ConsoleSession): string {
  const rows = registry
    .list()
    .map((s) => {
      const h = s.health();
      const action = (path: string, label: string) =>
        `<form method="post" action="/console/sources/${encodeURIComponent(s.id)}/${path}"><input type="hidden" name="csrf" value="${session.csrf}"><button type="submit">${label}</button></form>`;
      return `<tr><td>${escapeHtml(s.id)}</td><td>${escapeHtml(s.config.driver)}</td><td class="state-${h.state}">${h.state}</td><td>${escapeHtml(h.message ?? '')}</td>
<td><a href="/console/sources/${encodeURIComponent(s.id)}/edit">Edit ${escapeHtml(s.id)}</a></td><td>${s.config.enabled ? action('disable', `Disable ${escapeHtml(s.id)}`) : action('enable', `Enable ${escapeHtml(s.id)}`)}</td><td>${action('remove', `Remove ${escapeHtml(s.id)}`)}</td></tr>`;
    })
    .join('');
  return `<p><a href="/console/sources/new?driver=modbus">Add a Modbus source</a> · <a href="/console/sources/new?driver=opcua">Add an OPC UA source</a> · <a href="/console/sources/new?driver=sql">Add a SQL source</a></p>
<table><thead><tr><th scope="col">Source</th><th scope="col">Driver</th><th scope="col">State</th><th scope="col">Message</th><th scope="col"></th><th scope="col"></th><th scope="col"></th></tr></thead><tbody>${rows}</tbody></table>`;
}

function addForm(
  factory: DriverFactory,
  session: ConsoleSession,
  form: SourceForm = {},
  message = '',
  editing?: string,
): string {
  const keep = editing ? '; leave empty to keep the sealed one' : '';
  const secrets = (factory.secretFields ?? [])
    .map(
      (f) =>
        `<p><label>Secret ${escapeHtml(f)} (sealed to this machine, never shown again${keep}) <input type="password" name="secret:${escapeHtml(f)}" autocomplete="off"></label></p>`,
    )
    .join('');
  const action = editing ? `/console/sources/${encodeURIComponent(editing)}/edit` : '/console/sources/new';
  const area = (name: string, label: string, rows: number, hint: string) =>
    `<p><label for="f-${name}">${label}</label><br><textarea id="f-${name}" name="${name}" rows="${rows}" cols="90" placeholder="${escapeHtml(hint)}">${escapeHtml(form[name] ?? '')}</textarea></p>`;
  return `${message}<form method="post" action="${action}"><input type="hidden" name="csrf" value="${session.csrf}"><input type="hidden" name="driver" value="${escapeHtml(factory.name)}">
<p><label>Id <input name="id" required pattern="[a-z0-9][a-z0-9_-]{0,62}" value="${escapeHtml(form.id ?? '')}"${editing ? ' readonly' : ''}></label>
<label>Description <input name="description" size="40" value="${escapeHtml(form.description ?? '')}"></label></p>
${area('settings', `Settings (YAML, as under settings: for driver ${escapeHtml(factory.name)})`, 5, '{ host: 10.0.0.5, port: 502, unitId: 1 }')}
${factory.pollSchema ? area('poll', 'Poll (YAML)', 1, '{ intervalMs: 1000 }') : ''}
${area('tags', 'Tags (YAML list)', 6, '- { name: Boiler1.SteamPressure, address: "holding:100", type: float32 }')}
${secrets}
<p><button type="submit" name="action" value="test">Test the connection</button> <button type="submit" name="action" value="save">${editing ? 'Save the source' : 'Add the source'}</button></p></form>`;
}

/** Starts the driver of a definition for a few seconds, with nothing recorded, and reports how it went. */
async function testConnection(
  factory: DriverFactory,
  entry: Record<string, unknown>,
  dataDir: string,
): Promise<string> {
  let values = 0;
  const host: DriverHost = {
    update: (v) => {
      values += v.length;
    },
    log: silentLogger,
    metric: () => undefined,
    dataDir,
    pkiDir: `${dataDir}/pki`,
  };
  const driver = factory.create(entry as never, host);
  const signal = AbortSignal.timeout(8000);
  try {
    await driver.start(signal);
    for (let i = 0; i < 25 && driver.health().state === 'starting'; i++)
      await new Promise((r) => setTimeout(r, 200));
    await new Promise((r) => setTimeout(r, 1500));
    const h = driver.health();
    const ok = h.state === 'running';
    return `<p role="${ok ? 'status' : 'alert'}">Connection test: ${escapeHtml(h.state)}${h.message ? ` — ${escapeHtml(h.message)}` : ''}${values ? `; ${values} value(s) read` : ''}.</p>`;
  } catch (error) {
    return `<p role="alert">Connection test failed: ${escapeHtml((error as Error).message)}</p>`;
  } finally {
    await driver.stop().catch(() => undefined);
  }
}

export function registerSourcePages(
  app: FastifyInstance,
  sessions: ConsoleSessions,
  deps: SourcesDeps,
  dataDir: string,
): void {
  const note = (detail: string, outcome = 'ok') => deps.audit(consoleAuditEvent(detail, outcome));
  const driverOf = (name: string | undefined) => {
    const factory = name ? findDriver(name, deps.drivers) : undefined;
    if (!factory)
      throw gatewayError(
        'PG_ERR_BAD_REQUEST',
        `no driver "${name ?? ''}"; one of ${deps.drivers.map((d) => d.name).join(', ')}`,
      );
    return factory;
  };

  app.get('/console/sources', async (request, reply) => {
    const session = requireSession(request, sessions);
    return page(reply, 'Data sources', sourcesList(deps.registry, session), session);
  });

  app.get<{ Querystring: { driver?: string } }>('/console/sources/new', async (request, reply) => {
    const session = requireSession(request, sessions);
    const factory = driverOf(request.query.driver);
    return page(reply, `Add a ${factory.name} source`, addForm(factory, session), session);
  });

  app.post<{ Body: SourceForm }>('/console/sources/new', async (request, reply) => {
    const session = checkedPost(request, sessions);
    const form = request.body;
    const factory = driverOf(form.driver);
    const again = (message: string, status = 400) =>
      page(reply, `Add a ${factory.name} source`, addForm(factory, session, form, message), session, status);
    try {
      if (form.action === 'test') {
        const { plain } = await entryOf(form, factory);
        // Validated like the config itself, so the test runs with the defaults a real source gets.
        const probe = await editConfigDryRun(deps, plain);
        return again(await testConnection(factory, probe, `${dataDir}/sources/.test-${plain.id}`), 200);
      }
      const { sealed } = await entryOf(form, factory, deps.sealer);
      const next = await editConfig(
        deps.configFile,
        (doc) => sourcesOf(doc).add(doc.createNode(sealed)),
        deps.drivers,
      );
      deps.adopt(next);
      await deps.registry.add(next.sources.find((s) => s.id === sealed.id)!);
      await note(`source ${sealed.id} (${factory.name}) added from the console`);
      return reply.redirect('/console/sources', 303);
    } catch (error) {
      return again(`<p role="alert">${escapeHtml((error as Error).message)}</p>`);
    }
  });

  /** The form of a configured source: its entry as in the file, secret fields left out. */
  const formOf = (id: string, factory: DriverFactory): SourceForm => {
    const entry = sourceEntryOf(parseDocument(readFileSync(deps.configFile, 'utf8')), id).toJSON() as Record<
      string,
      unknown
    >;
    const settings = structuredClone((entry.settings ?? {}) as Record<string, unknown>);
    for (const field of factory.secretFields ?? []) removeAt(settings, field);
    const yaml = (v: unknown) => (v === undefined ? '' : stringifyYaml(v, { lineWidth: 0 }).trim());
    return {
      id,
      description: typeof entry.description === 'string' ? entry.description : '',
      settings: yaml(settings),
      poll: yaml(entry.poll),
      tags: yaml(entry.tags ?? []),
    };
  };

  app.get<{ Params: { id: string } }>('/console/sources/:id/edit', async (request, reply) => {
    const session = requireSession(request, sessions);
    const source = deps.registry.get(request.params.id);
    const factory = driverOf(source.config.driver);
    return page(
      reply,
      `Edit source ${source.id}`,
      addForm(factory, session, formOf(source.id, factory), '', source.id),
      session,
    );
  });

  app.post<{ Params: { id: string }; Body: SourceForm }>(
    '/console/sources/:id/edit',
    async (request, reply) => {
      const session = checkedPost(request, sessions);
      const id = request.params.id;
      const source = deps.registry.get(id);
      const factory = driverOf(source.config.driver);
      const form: SourceForm = { ...request.body, id };
      const again = (message: string, status = 400) =>
        page(reply, `Edit source ${id}`, addForm(factory, session, form, message, id), session, status);
      try {
        const previous = sourceEntryOf(
          parseDocument(readFileSync(deps.configFile, 'utf8')),
          id,
        ).toJSON() as Record<string, unknown>;
        const { sealed, plain } = await entryOf(form, factory, deps.sealer);
        // A secret not typed again keeps its sealed value.
        for (const field of factory.secretFields ?? []) {
          if (form[`secret:${field}`]) continue;
          const old = valueAt(previous.settings, field);
          if (old !== undefined) {
            setAt(sealed.settings, field, old);
            setAt(plain.settings, field, old);
          }
        }
        const entry = { ...sealed, ...(previous.enabled === false ? { enabled: false } : {}) };
        if (form.action === 'test') {
          if (
            (factory.secretFields ?? []).some(
              (f) => !form[`secret:${f}`] && valueAt(previous.settings, f) !== undefined,
            )
          )
            return again(
              '<p role="alert">Type the secret again to test with it (the sealed one is not opened here).</p>',
            );
          const probe = await editConfigDryRun(deps, plain, id);
          return again(await testConnection(factory, probe, `${dataDir}/sources/.test-${id}`), 200);
        }
        const next = await editConfig(
          deps.configFile,
          (doc) => {
            const list = sourcesOf(doc);
            list.set(list.items.indexOf(sourceEntryOf(doc, id)), doc.createNode(entry));
          },
          deps.drivers,
        );
        deps.adopt(next);
        await source.reconfigure(next.sources.find((s) => s.id === id)!);
        await note(`source ${id} (${factory.name}) changed from the console`);
        return reply.redirect('/console/sources', 303);
      } catch (error) {
        return again(`<p role="alert">${escapeHtml((error as Error).message)}</p>`);
      }
    },
  );

  for (const action of ['enable', 'disable', 'remove'] as const) {
    app.post<{ Params: { id: string } }>(`/console/sources/:id/${action}`, async (request, reply) => {
      checkedPost(request, sessions);
      const id = request.params.id;
      deps.registry.get(id);
      const next = await editConfig(
        deps.configFile,
        (doc) => {
          if (action === 'remove') {
            const list = sourcesOf(doc);
            list.delete(list.items.indexOf(sourceEntryOf(doc, id)));
          } else sourceEntryOf(doc, id).set('enabled', action === 'enable');
        },
        deps.drivers,
      );
      deps.adopt(next);
      if (action === 'remove') await deps.registry.remove(id);
      else await deps.registry.get(id).reconfigure(next.sources.find((s) => s.id === id)!);
      await note(`source ${id} ${action === 'remove' ? 'removed' : `${action}d`} from the console`);
      return reply.redirect('/console/sources', 303);
    });
  }
}

/** The entry as the config loader would give it (defaults filled, checked), without writing anything. */
async function editConfigDryRun(
  deps: SourcesDeps,
  entry: Record<string, unknown>,
  replacing?: string,
): Promise<Record<string, unknown>> {
  const doc = parseDocument(readFileSync(deps.configFile, 'utf8'));
  if (replacing) {
    const list = sourcesOf(doc);
    list.delete(list.items.indexOf(sourceEntryOf(doc, replacing)));
  }
  // Secrets in clear are refused by the config rules; the test replaces them by placeholders, then puts them back.
  const factory = findDriver(String(entry.driver), deps.drivers)!;
  const settings = structuredClone(entry.settings) as Record<string, unknown>;
  const masked = structuredClone(entry) as Record<string, unknown>;
  masked.settings = structuredClone(settings);
  for (const field of factory.secretFields ?? []) {
    const keys = field.split('.');
    const value = keys.reduce<unknown>(
      (at, k) => (at && typeof at === 'object' ? (at as Record<string, unknown>)[k] : undefined),
      settings,
    );
    if (value !== undefined) setAt(masked.settings as Record<string, unknown>, field, 'enc:v1:placeholder');
  }
  sourcesOf(doc).add(doc.createNode(masked));
  const config = await parseGatewayConfig(doc.toString(), deps.configFile, deps.drivers);
  const parsed = config.sources.find((s) => s.id === entry.id) as unknown as Record<string, unknown>;
  for (const field of factory.secretFields ?? []) {
    const keys = field.split('.');
    const value = keys.reduce<unknown>(
      (at, k) => (at && typeof at === 'object' ? (at as Record<string, unknown>)[k] : undefined),
      settings,
    );
    if (value !== undefined) setAt(parsed.settings as Record<string, unknown>, field, value);
  }
  return parsed;
}
