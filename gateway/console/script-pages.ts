/**
 * Console › Script tags: each script source's tags with their template, inputs and latest value; the
 * shipped templates; and a create form generated from a template's parameter schema. Changes go
 * through the typed operations (scriptTags.create/delete), so they are checked and audited as any.
 */
import type { FastifyInstance } from 'fastify';
import { gatewayError } from '../errors.ts';
import type { QueryEngine } from '../query/engine.ts';
import { ScriptDriver } from '../script-tags/driver.ts';
import { findTemplate, type ScriptTemplate, TEMPLATES } from '../script-tags/templates.ts';
import type { SourceRegistry } from '../sources/registry.ts';
import { checkedPost, consoleCaller, escapeHtml, page, requireSession } from './page.ts';
import type { ConsoleSession, ConsoleSessions } from './sessions.ts';

type PropertySchema = {
  type?: string;
  enum?: unknown[];
  default?: unknown;
  description?: string;
  minimum?: number;
  maximum?: number;
};

/** One labelled field per parameter, from its JSON Schema: a list for an enum, a number or a text box. */
function parameterFields(template: ScriptTemplate, values: Record<string, string>): string {
  const schema = template.parameters as unknown as {
    properties: Record<string, PropertySchema>;
    required?: string[];
  };
  return Object.entries(schema.properties)
    .map(([name, p]) => {
      const required = schema.required?.includes(name) ?? false;
      const label = `${escapeHtml(name)}${required ? ' (required)' : ''}${p.description ? ` — ${escapeHtml(p.description)}` : ''}`;
      const value = values[`p:${name}`] ?? (p.default !== undefined ? String(p.default) : '');
      if (p.enum) {
        const options = p.enum
          .map((v) => `<option${String(v) === value ? ' selected' : ''}>${escapeHtml(String(v))}</option>`)
          .join('');
        return `<p><label>${label} <select name="p:${escapeHtml(name)}">${required ? '' : '<option value=""></option>'}${options}</select></label></p>`;
      }
      const type = p.type === 'number' || p.type === 'integer' ? 'number" step="any' : 'text';
      return `<p><label>${label} <input type="${type}" name="p:${escapeHtml(name)}" value="${escapeHtml(value)}"${required ? ' required' : ''}></label></p>`;
    })
    .join('');
}

function inputFields(template: ScriptTemplate, values: Record<string, string>): string {
  const rows = Math.min(template.inputs.max, 8);
  return Array.from({ length: rows }, (_, i) => {
    const name = template.inputs.names?.[i] ?? `input ${i + 1}`;
    const optional = i >= template.inputs.min ? ' (optional)' : '';
    return `<p><label>${escapeHtml(name)}${optional}: source <input name="source:${i}" value="${escapeHtml(values[`source:${i}`] ?? '')}" size="12"></label> <label>tag <input name="tag:${i}" value="${escapeHtml(values[`tag:${i}`] ?? '')}" size="30"></label></p>`;
  }).join('');
}

function createForm(
  session: ConsoleSession,
  source: string,
  template: ScriptTemplate,
  values: Record<string, string> = {},
  message = '',
) {
  return `${message}<p>${escapeHtml(template.description)}</p><form method="post" action="/console/script-tags/new">
<input type="hidden" name="csrf" value="${session.csrf}"><input type="hidden" name="source" value="${escapeHtml(source)}"><input type="hidden" name="template" value="${escapeHtml(template.name)}">
<p><label>Name <input name="name" required value="${escapeHtml(values.name ?? '')}" size="40"></label> <label>Description <input name="description" value="${escapeHtml(values.description ?? '')}" size="40"></label></p>
<fieldset><legend>Parameters</legend>${parameterFields(template, values)}</fieldset>
<fieldset><legend>Inputs</legend>${inputFields(template, values)}</fieldset>
<p><button type="submit">Make the script tag</button></p></form>`;
}

/** The form's parameters typed by the template's schema (numbers as numbers), empty ones left out. */
function parametersOf(template: ScriptTemplate, form: Record<string, string>): Record<string, unknown> {
  const props = (template.parameters as unknown as { properties: Record<string, PropertySchema> }).properties;
  const out: Record<string, unknown> = {};
  for (const [name, p] of Object.entries(props)) {
    const raw = form[`p:${name}`];
    if (raw === undefined || raw === '') continue;
    out[name] = p.type === 'number' || p.type === 'integer' ? Number(raw) : raw;
  }
  return out;
}

export function registerScriptPages(
  app: FastifyInstance,
  sessions: ConsoleSessions,
  engine: QueryEngine,
  registry: SourceRegistry,
): void {
  app.get('/console/script-tags', async (request, reply) => {
    const session = requireSession(request, sessions);
    const scriptSources = registry.list().filter((s) => s.config.driver === 'script');
    const sections = await Promise.all(
      scriptSources.map(async (s) => {
        const driver = s.driver instanceof ScriptDriver ? s.driver : undefined;
        const tags = driver?.listTags() ?? [];
        const latest = driver && tags.length ? await driver.readSnapshot(tags) : [];
        const rows = tags
          .map(
            (t, i) =>
              `<tr><td>${escapeHtml(t.name)}</td><td>${escapeHtml(String(t.properties.template))} v${escapeHtml(String(t.properties.templateVersion))}</td><td>${escapeHtml(String(t.properties.inputs))}</td><td>${escapeHtml(String(latest[i]?.value ?? '—'))} ${escapeHtml(t.units)} (${latest[i]?.status ?? ''})</td><td>${escapeHtml(String(t.properties.createdBy))}</td>
<td><form method="post" action="/console/script-tags/delete"><input type="hidden" name="csrf" value="${session.csrf}"><input type="hidden" name="source" value="${escapeHtml(s.id)}"><input type="hidden" name="tag" value="${escapeHtml(t.id)}"><button type="submit">Delete ${escapeHtml(t.name)}</button></form></td></tr>`,
          )
          .join('');
        const make = TEMPLATES.map(
          (t) =>
            `<li><a href="/console/script-tags/new?source=${encodeURIComponent(s.id)}&amp;template=${encodeURIComponent(t.name)}">${escapeHtml(t.name)}</a> — ${escapeHtml(t.description)}</li>`,
        ).join('');
        return `<h2>Source ${escapeHtml(s.id)}</h2><table><thead><tr><th scope="col">Name</th><th scope="col">Template</th><th scope="col">Inputs</th><th scope="col">Value</th><th scope="col">Made by</th><th scope="col"></th></tr></thead><tbody>${rows}</tbody></table>
<details><summary>Make a script tag from a template</summary><ul>${make}</ul></details>`;
      }),
    );
    const none = '<p>No script source: add <code>- { id: calc, driver: script }</code> under sources.</p>';
    return page(reply, 'Script tags', sections.join('') || none, session);
  });

  app.get<{ Querystring: { source?: string; template?: string } }>(
    '/console/script-tags/new',
    async (request, reply) => {
      const session = requireSession(request, sessions);
      const template = findTemplate(request.query.template ?? '');
      if (!template || !request.query.source)
        throw gatewayError('PG_ERR_BAD_REQUEST', 'name a script source and a shipped template');
      return page(
        reply,
        `New ${template.name} script tag`,
        createForm(session, request.query.source, template),
        session,
      );
    },
  );

  app.post<{ Body: Record<string, string> }>('/console/script-tags/new', async (request, reply) => {
    const session = checkedPost(request, sessions);
    const form = request.body;
    const template = findTemplate(form.template ?? '');
    if (!template || !form.source)
      throw gatewayError('PG_ERR_BAD_REQUEST', 'name a script source and a shipped template');
    const inputs = Array.from({ length: 8 }, (_, i) => ({
      source: form[`source:${i}`]?.trim() ?? '',
      tag: form[`tag:${i}`]?.trim() ?? '',
    })).filter((x) => x.source && x.tag);
    try {
      await engine.execute(consoleCaller(), 'scriptTags.create', form.source, {
        name: form.name ?? '',
        description: form.description ?? '',
        template: template.name,
        parameters: parametersOf(template, form),
        inputs,
      });
      return reply.redirect('/console/script-tags', 303);
    } catch (error) {
      return page(
        reply,
        `New ${template.name} script tag`,
        createForm(
          session,
          form.source,
          template,
          form,
          `<p role="alert">${escapeHtml((error as Error).message)}</p>`,
        ),
        session,
        400,
      );
    }
  });

  app.post<{ Body: Record<string, string> }>('/console/script-tags/delete', async (request, reply) => {
    checkedPost(request, sessions);
    await engine.execute(consoleCaller(), 'scriptTags.delete', request.body.source ?? '', {
      tag: request.body.tag ?? '',
    });
    return reply.redirect('/console/script-tags', 303);
  });
}
