import { randomUUID } from 'node:crypto';
import type { Annotation, AnnotationStorage } from '../../drivers/core/index.ts';
/**
 * annotations.read, create, update and delete. A note about tags is shown only to callers who may use
 * all of them; one about the source as a whole to anyone who may read the source.
 */
import { type TagGrant, tagAllowed } from '../access/policy.ts';
import type { CallContext } from '../api/call-context.ts';
import type { OperationRequest } from '../api/operations.ts';
import { gatewayError } from '../errors.ts';
import { parseTime } from '../query/time.ts';

export interface AnnotationEnv {
  ctx: CallContext;
  sourceId: string;
  /** The source's own annotation table, or the gateway's store for that source. */
  store: AnnotationStorage;
  signal: AbortSignal;
  /** The caller's tags for the operation's role (read, or writeAnnotations). */
  grant: TagGrant;
  now: number;
  notes?: { detail?: string };
}

const READ_LIMIT = 10_000;

const visible = (grant: TagGrant, a: Annotation) => a.tags.every((name) => tagAllowed(grant, { name }));

function toWire(a: Annotation) {
  return {
    id: a.id,
    start: new Date(a.start).toISOString(),
    ...(a.end !== undefined ? { end: new Date(a.end).toISOString() } : {}),
    text: a.text,
    tags: a.tags,
    author: a.author,
    createdAt: new Date(a.createdAt).toISOString(),
    modifiedBy: a.modifiedBy,
    modifiedAt: new Date(a.modifiedAt).toISOString(),
  };
}

const describe = (a: Annotation) =>
  `${JSON.stringify(a.text.slice(0, 200))} at ${new Date(a.start).toISOString()}${a.end !== undefined ? ` to ${new Date(a.end).toISOString()}` : ''}${a.tags.length ? ` on ${a.tags.join(', ')}` : ''}`;

function span(start: string, end: string | undefined, now: number): { start: number; end?: number } {
  const s = parseTime(start, now, 'start');
  if (end === undefined) return { start: s };
  const e = parseTime(end, now, 'end');
  if (e < s) throw gatewayError('PG_ERR_BAD_TIME', `end (${end}) is before start (${start})`);
  return { start: s, end: e };
}

function refuseTags(env: AnnotationEnv, tags: readonly string[]) {
  const outside = tags.filter((name) => !tagAllowed(env.grant, { name }));
  if (outside.length)
    throw gatewayError(
      'PG_ERR_ACCESS_DENIED',
      `${env.ctx.principal.subject} may not annotate ${outside.join(', ')}`,
    );
}

async function existing(env: AnnotationEnv, id: string): Promise<Annotation> {
  const a = await env.store.getAnnotation(id, env.signal);
  if (!a || !visible(env.grant, a))
    throw gatewayError('PG_ERR_NOT_FOUND', `no annotation ${id} in source "${env.sourceId}"`);
  return a;
}

export async function readAnnotations(env: AnnotationEnv, request: OperationRequest<'annotations.read'>) {
  const from = parseTime(request.start, env.now, 'start');
  const to = parseTime(request.end, env.now, 'end');
  if (to < from)
    throw gatewayError('PG_ERR_BAD_TIME', `end (${request.end}) is before start (${request.start})`);
  const wanted = request.tags ? new Set(request.tags) : undefined;
  const found = (await env.store.readAnnotations(from, to, READ_LIMIT + 1, env.signal)).filter(
    (a) => visible(env.grant, a) && (!wanted || a.tags.length === 0 || a.tags.some((t) => wanted.has(t))),
  );
  const truncated = found.length > READ_LIMIT;
  return { annotations: found.slice(0, READ_LIMIT).map(toWire), ...(truncated ? { truncated: true } : {}) };
}

export async function createAnnotation(env: AnnotationEnv, request: OperationRequest<'annotations.create'>) {
  refuseTags(env, request.tags);
  const who = env.ctx.principal.subject;
  const created: Annotation = {
    id: randomUUID(),
    source: env.sourceId,
    ...span(request.start, request.end, env.now),
    text: request.text,
    tags: request.tags,
    author: who,
    createdAt: env.now,
    modifiedBy: who,
    modifiedAt: env.now,
  };
  await env.store.createAnnotation(created, env.signal);
  if (env.notes) env.notes.detail = `annotation ${created.id} created: ${describe(created)}`;
  return { annotation: toWire(created) };
}

export async function updateAnnotation(env: AnnotationEnv, request: OperationRequest<'annotations.update'>) {
  const before = await existing(env, request.id);
  if (request.tags) refuseTags(env, request.tags);
  const start = request.start ?? new Date(before.start).toISOString();
  const end =
    request.end === null
      ? undefined
      : (request.end ?? (before.end !== undefined ? new Date(before.end).toISOString() : undefined));
  const when = span(start, end, env.now);
  const after: Annotation = {
    ...before,
    start: when.start,
    text: request.text ?? before.text,
    tags: request.tags ?? before.tags,
    modifiedBy: env.ctx.principal.subject,
    modifiedAt: env.now,
  };
  if (when.end !== undefined) after.end = when.end;
  else delete after.end;
  await env.store.updateAnnotation(after, env.signal);
  if (env.notes)
    env.notes.detail = `annotation ${after.id} changed from ${describe(before)} to ${describe(after)}`;
  return { annotation: toWire(after) };
}

export async function deleteAnnotation(env: AnnotationEnv, request: OperationRequest<'annotations.delete'>) {
  const before = await existing(env, request.id);
  await env.store.deleteAnnotation(before.id, env.signal);
  if (env.notes)
    env.notes.detail = `annotation ${before.id} deleted: ${describe(before)} (by ${before.author})`;
  return { deleted: before.id };
}
