/**
 * scriptTags.templates, create, update and delete. A script tag is made only from a shipped template,
 * its parameters checked against the template's schema, its inputs tags the caller may read, and it
 * may not depend on itself through any chain of script tags.
 */
import { isNumericType, type Tag } from '../../drivers/core/index.ts';
import { type AccessPolicy, tagAllowed } from '../access/policy.ts';
import type { CallContext } from '../api/call-context.ts';
import type { OperationRequest } from '../api/operations.ts';
import { readablePath, validate } from '../api/validator.ts';
import { gatewayError } from '../errors.ts';
import { resolveTags } from '../query/resolve.ts';
import type { SourceRegistry } from '../sources/registry.ts';
import type { Source } from '../sources/source.ts';
import { ScriptDriver } from './driver.ts';
import type { ScriptInput, ScriptTagDefinition } from './store.ts';
import { findTemplate, type ScriptTemplate, TEMPLATES } from './templates.ts';

export interface ScriptEnv {
  ctx: CallContext;
  source: Source;
  registry: SourceRegistry;
  policy: AccessPolicy;
  signal: AbortSignal;
  notes?: { detail?: string };
}

function scriptDriverOf(source: Source): ScriptDriver {
  const driver = source.driver;
  if (source.config.driver !== 'script')
    throw gatewayError(
      'PG_ERR_NOT_SUPPORTED',
      `source "${source.id}" holds no script tags (its driver is ${source.config.driver}, not script)`,
    );
  if (!(driver instanceof ScriptDriver))
    throw gatewayError(
      'PG_ERR_SOURCE_UNAVAILABLE',
      `script source "${source.id}" is ${source.health().state}`,
    );
  return driver;
}

export function listTemplates(source: Source) {
  scriptDriverOf(source);
  return {
    templates: TEMPLATES.map((t) => ({
      name: t.name,
      version: t.version,
      description: t.description,
      parameters: t.parameters,
      inputs: t.inputs,
      output: t.output(
        Object.fromEntries(Object.keys(t.parameters.properties).map((k) => [k, undefined])) as never,
      ),
    })),
  };
}

function checkParameters(template: ScriptTemplate, parameters: Record<string, unknown>, inputCount: number) {
  const copy = structuredClone(parameters);
  const problems = validate(template.parameters, copy).map(
    (p) => `parameters${readablePath(p.pointer) ? `.${readablePath(p.pointer)}` : ''}: ${p.message}`,
  );
  if (problems.length === 0)
    problems.push(
      ...(template.check?.(copy as never, inputCount) ?? []).map(
        (p) => `${p.path.replace('/', '.')}: ${p.message}`,
      ),
    );
  if (inputCount < template.inputs.min || inputCount > template.inputs.max) {
    const range =
      template.inputs.min === template.inputs.max
        ? `${template.inputs.min}`
        : `${template.inputs.min} to ${template.inputs.max}`;
    problems.push(
      `inputs: ${template.name} takes ${range} input(s)${template.inputs.names ? ` (${template.inputs.names.join(', ')})` : ''}, not ${inputCount}`,
    );
  }
  if (problems.length)
    throw gatewayError(
      'PG_ERR_BAD_REQUEST',
      `template ${template.name} v${template.version}: ${problems.join('; ')}`,
    );
  return copy;
}

/** Each input as a tag the caller may read, of a type the template takes. */
async function resolveInputs(
  env: ScriptEnv,
  template: ScriptTemplate,
  inputs: readonly { source: string; tag: string }[],
) {
  const out: ScriptInput[] = [];
  for (const [i, input] of inputs.entries()) {
    const source = env.registry.get(input.source);
    const grant = env.policy.grant(env.ctx, input.source, 'read');
    if (grant === false)
      throw gatewayError(
        'PG_ERR_ACCESS_DENIED',
        `${env.ctx.principal.subject} may not read source "${input.source}" (input ${i + 1})`,
      );
    const [resolved] = await resolveTags(source, [input.tag], env.signal, grant);
    const tag: Tag | undefined = resolved?.tag;
    if (!tag) {
      const unrestricted = (await resolveTags(source, [input.tag], env.signal, true))[0]?.tag;
      throw unrestricted && !tagAllowed(grant, unrestricted)
        ? gatewayError(
            'PG_ERR_ACCESS_DENIED',
            `${env.ctx.principal.subject} may not read ${input.source}/${input.tag} (input ${i + 1})`,
          )
        : gatewayError(
            'PG_ERR_TAG_NOT_FOUND',
            `input ${i + 1}: no tag "${input.tag}" in source "${input.source}"`,
          );
    }
    const fits =
      template.inputs.kind === 'bool'
        ? tag.dataType === 'bool' || isNumericType(tag.dataType)
        : isNumericType(tag.dataType) || tag.dataType === 'bool';
    if (!fits)
      throw gatewayError(
        'PG_ERR_BAD_REQUEST',
        `input ${i + 1}: ${input.source}/${tag.name} is ${tag.dataType}; ${template.name} takes numbers`,
      );
    out.push({ source: input.source, tag: tag.id });
  }
  return out;
}

/** Refuses a definition through which a script tag would depend on itself. */
function refuseCycle(env: ScriptEnv, definition: ScriptTagDefinition): void {
  const graph = new Map<string, ScriptInput[]>();
  for (const s of env.registry.list()) {
    if (!(s.driver instanceof ScriptDriver)) continue;
    for (const d of s.driver.definitions()) graph.set(`${s.id}/${d.id}`, d.inputs);
  }
  const self = `${env.source.id}/${definition.id}`;
  graph.set(self, definition.inputs);
  const names = new Map<string, string>();
  for (const s of env.registry.list())
    if (s.driver instanceof ScriptDriver)
      for (const d of s.driver.definitions()) names.set(`${s.id}/${d.id}`, `${s.id}/${d.name}`);
  names.set(self, `${env.source.id}/${definition.name}`);
  const path: string[] = [];
  const visit = (node: string): boolean => {
    if (path.includes(node)) return node === self;
    path.push(node);
    for (const input of graph.get(node) ?? []) if (visit(`${input.source}/${input.tag}`)) return true;
    path.pop();
    return false;
  };
  if (visit(self)) {
    const chain = [...path, self].map((n) => names.get(n) ?? n).join(' → ');
    throw gatewayError('PG_ERR_BAD_REQUEST', `a script tag may not depend on itself: ${chain}`);
  }
}

function findDefinition(driver: ScriptDriver, ref: string, sourceId: string): ScriptTagDefinition {
  const d = driver.definitions().find((x) => x.id === ref || x.name === ref);
  if (!d) throw gatewayError('PG_ERR_TAG_NOT_FOUND', `no script tag "${ref}" in source "${sourceId}"`);
  return d;
}

function refuseDuplicateName(driver: ScriptDriver, name: string, id: string | undefined, sourceId: string) {
  if (driver.definitions().some((d) => d.name === name && d.id !== id))
    throw gatewayError('PG_ERR_CONFLICT', `source "${sourceId}" already has a script tag named "${name}"`);
}

const describe = (d: ScriptTagDefinition) =>
  `${d.name} = ${d.template} v${d.templateVersion} ${JSON.stringify(d.parameters)} of ${d.inputs.map((i) => `${i.source}/${i.tag}`).join(', ')}${d.periodMs ? ` every ${d.periodMs} ms` : ''}`;

export async function createScriptTag(env: ScriptEnv, request: OperationRequest<'scriptTags.create'>) {
  const driver = scriptDriverOf(env.source);
  const template = findTemplate(request.template, request.templateVersion);
  if (!template)
    throw gatewayError(
      'PG_ERR_BAD_REQUEST',
      `no template ${request.template}${request.templateVersion ? ` v${request.templateVersion}` : ''}; the shipped ones are ${TEMPLATES.map((t) => `${t.name} v${t.version}`).join(', ')}`,
    );
  refuseDuplicateName(driver, request.name, undefined, env.source.id);
  const parameters = checkParameters(template, request.parameters, request.inputs.length);
  const inputs = await resolveInputs(env, template, request.inputs);
  const fields = {
    name: request.name,
    description: request.description,
    template: template.name,
    templateVersion: template.version,
    parameters,
    inputs,
    ...(request.periodMs ? { periodMs: request.periodMs } : {}),
  };
  refuseCycle(env, {
    ...fields,
    id: '\u0000new',
    createdBy: '',
    createdAt: '',
    modifiedBy: '',
    modifiedAt: '',
  });
  const saved = await driver.save(fields, env.ctx.principal.subject, env.signal);
  env.source.indexTags();
  if (env.notes) env.notes.detail = `script tag created: ${describe(saved)}`;
  return { tag: driver.listTags().find((t) => t.id === saved.id) };
}

export async function updateScriptTag(env: ScriptEnv, request: OperationRequest<'scriptTags.update'>) {
  const driver = scriptDriverOf(env.source);
  const before = findDefinition(driver, request.tag, env.source.id);
  const template = findTemplate(before.template, before.templateVersion)!;
  const name = request.name ?? before.name;
  refuseDuplicateName(driver, name, before.id, env.source.id);
  const inputs = request.inputs ? await resolveInputs(env, template, request.inputs) : before.inputs;
  const parameters = checkParameters(template, request.parameters ?? before.parameters, inputs.length);
  const periodMs = request.periodMs === null ? undefined : (request.periodMs ?? before.periodMs);
  const fields = {
    name,
    description: request.description ?? before.description,
    template: before.template,
    templateVersion: before.templateVersion,
    parameters,
    inputs,
    ...(periodMs ? { periodMs } : {}),
  };
  refuseCycle(env, { ...before, ...fields });
  const saved = await driver.save(fields, env.ctx.principal.subject, env.signal, before.id);
  env.source.indexTags();
  if (env.notes) env.notes.detail = `script tag changed from ${describe(before)} to ${describe(saved)}`;
  return { tag: driver.listTags().find((t) => t.id === saved.id) };
}

export function deleteScriptTag(env: ScriptEnv, request: OperationRequest<'scriptTags.delete'>) {
  const driver = scriptDriverOf(env.source);
  const before = findDefinition(driver, request.tag, env.source.id);
  for (const s of env.registry.list()) {
    if (!(s.driver instanceof ScriptDriver)) continue;
    const user = s.driver
      .definitions()
      .find((d) => d.inputs.some((i) => i.source === env.source.id && i.tag === before.id));
    if (user)
      throw gatewayError(
        'PG_ERR_CONFLICT',
        `script tag ${s.id}/${user.name} takes ${before.name} as an input; change or delete it first`,
      );
  }
  driver.delete(before.id);
  env.source.indexTags();
  if (env.notes)
    env.notes.detail = `script tag deleted: ${describe(before)} (made by ${before.createdBy} at ${before.createdAt})`;
  return { deleted: before.id, name: before.name };
}
