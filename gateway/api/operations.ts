/**
 * The typed operations (DESIGN.md, "Typed operations"): one schema per request, with its limits. They
 * are validated here, by the gateway, whoever calls; the bridge validates them again on its side.
 * Nothing else crosses into a source: no SQL, no script text, no driver-specific query.
 */
import { type Static, type TSchema, Type } from '@sinclair/typebox';
import { OneOf } from '../../drivers/core/index.ts';
import { AGGREGATES } from '../query/aggregates.ts';

const doc = (description: string) => ({ description });
const TagRef = Type.String({ minLength: 1, maxLength: 256, ...doc('Tag id or name.') });
const TagList = (max: number) =>
  Type.Array(TagRef, { minItems: 1, maxItems: max, ...doc(`1 to ${max} tag ids or names.`) });
const Time = Type.String({
  minLength: 1,
  maxLength: 64,
  ...doc('ISO 8601 (UTC unless an offset is given) or relative: *, *-1h, *-7d.'),
});
const Strict = { additionalProperties: false } as const;
const TagDefinition = (options: { description: string }) =>
  Type.Record(Type.String({ pattern: '^[A-Za-z][A-Za-z0-9]{0,63}$' }), Type.Unknown(), {
    minProperties: 1,
    maxProperties: 64,
    ...options,
  });
const AnnotationText = Type.String({ minLength: 1, maxLength: 4000, ...doc('The note.') });
const AnnotationId = Type.String({ pattern: '^[0-9a-f-]{36}$', ...doc('The annotation, as created.') });
const ScriptTagName = Type.String({
  minLength: 1,
  maxLength: 256,
  pattern: '^[^\\s*?][^*?]*$',
  ...doc('Name of the script tag, unique in its source; no * or ?.'),
});
/** Values of a template's parameters: checked against that template's own schema by the gateway. */
const TemplateParameters = (options: { default?: object } = {}) =>
  Type.Record(
    Type.String({ pattern: '^[A-Za-z][A-Za-z0-9]{0,63}$' }),
    Type.Union([Type.Number(), Type.String({ maxLength: 256 }), Type.Boolean()]),
    { ...options, maxProperties: 32, ...doc("The template's parameters (see scriptTags.templates).") },
  );
const ScriptInputs = Type.Array(
  Type.Object({ source: Type.String({ pattern: '^[a-z0-9][a-z0-9_-]{0,62}$' }), tag: TagRef }, Strict),
  { minItems: 1, maxItems: 32, ...doc('Input tags, in the order the template names them.') },
);
const PeriodMs = Type.Integer({
  minimum: 1000,
  maximum: 86_400_000,
  ...doc('Also evaluate every this many milliseconds, besides on each input change.'),
});

export const LIMITS = {
  searchPageSize: 500,
  getTags: 500,
  snapshotTags: 100,
  historyTags: 100,
  maxValues: 1_000_000,
  intervals: 10_000,
  buckets: 100_000,
  atTimes: 500,
  subscribeTags: 1000,
  writeValues: 10_000,
  /** Samples the core reads to compute plot or processed results for one tag. */
  aggregateSamples: 5_000_000,
} as const;

export const OPERATION_SCHEMAS = {
  'tags.search': Type.Object(
    {
      name: Type.Optional(
        Type.String({ maxLength: 256, ...doc('Name pattern: * any run of characters, ? one character.') }),
      ),
      description: Type.Optional(
        Type.String({ maxLength: 256, ...doc('Text the description contains (any case).') }),
      ),
      units: Type.Optional(Type.String({ maxLength: 64, ...doc('Units, exactly.') })),
      label: Type.Optional(Type.String({ maxLength: 64, ...doc('A label the tag carries.') })),
      page: Type.Integer({ minimum: 1, maximum: 1_000_000, default: 1 }),
      pageSize: Type.Integer({ minimum: 1, maximum: LIMITS.searchPageSize, default: 100 }),
    },
    Strict,
  ),
  'tags.get': Type.Object({ tags: TagList(LIMITS.getTags) }, Strict),
  'values.snapshot': Type.Object({ tags: TagList(LIMITS.snapshotTags) }, Strict),
  'values.raw': Type.Object(
    {
      tags: TagList(LIMITS.historyTags),
      start: Time,
      end: Time,
      maxValues: Type.Integer({ minimum: 1, maximum: LIMITS.maxValues, default: 1000, ...doc('Per tag.') }),
      boundary: OneOf(['inside', 'outside'], {
        default: 'inside',
        ...doc('outside adds the last value before start and the first after end.'),
      }),
    },
    Strict,
  ),
  'values.plot': Type.Object(
    {
      tags: TagList(LIMITS.historyTags),
      start: Time,
      end: Time,
      intervals: Type.Integer({
        minimum: 1,
        maximum: LIMITS.intervals,
        ...doc('Buckets, usually the width in pixels.'),
      }),
    },
    Strict,
  ),
  'values.processed': Type.Object(
    {
      tags: TagList(LIMITS.historyTags),
      start: Time,
      end: Time,
      interval: Type.String({
        pattern: '^\\d+(\\.\\d+)?(ms|s|m|h|d|w)$',
        ...doc('Bucket width: 500ms, 10s, 5m, 1h, 1d, 1w.'),
      }),
      functions: Type.Array(OneOf(AGGREGATES), {
        minItems: 1,
        maxItems: AGGREGATES.length,
        uniqueItems: true,
      }),
    },
    Strict,
  ),
  'values.atTimes': Type.Object(
    { tags: TagList(LIMITS.historyTags), times: Type.Array(Time, { minItems: 1, maxItems: LIMITS.atTimes }) },
    Strict,
  ),
  'values.subscribe': Type.Object(
    {
      tags: TagList(LIMITS.subscribeTags),
      publishInterval: Type.Integer({
        minimum: 100,
        maximum: 3_600_000,
        default: 1000,
        ...doc('Milliseconds between pushes.'),
      }),
    },
    Strict,
  ),
  'values.write': Type.Object(
    {
      values: Type.Array(
        Type.Object(
          {
            tag: TagRef,
            value: Type.Union([
              Type.Number(),
              Type.Boolean(),
              Type.String({ maxLength: 4096 }),
              Type.Array(Type.Union([Type.Number(), Type.Boolean(), Type.String({ maxLength: 4096 })]), {
                maxItems: 2000,
              }),
            ]),
            time: Type.Optional(Time),
          },
          Strict,
        ),
        { minItems: 1, maxItems: LIMITS.writeValues },
      ),
    },
    Strict,
  ),
  'tags.create': Type.Object(
    {
      definition: TagDefinition(
        doc("The tag as the source's driver describes one (Modbus: as in the config's tags list)."),
      ),
    },
    Strict,
  ),
  'tags.update': Type.Object(
    { tag: TagRef, changes: TagDefinition(doc('Fields to set; null removes one.')) },
    Strict,
  ),
  'tags.delete': Type.Object({ tag: TagRef }, Strict),
  'annotations.read': Type.Object(
    {
      start: Time,
      end: Time,
      tags: Type.Optional(TagList(LIMITS.historyTags)),
    },
    Strict,
  ),
  'annotations.create': Type.Object(
    {
      text: AnnotationText,
      start: Time,
      end: Type.Optional(Time),
      tags: Type.Array(TagRef, {
        default: [],
        maxItems: LIMITS.historyTags,
        ...doc('Tag names it is about; none: the source.'),
      }),
    },
    Strict,
  ),
  'annotations.update': Type.Object(
    {
      id: AnnotationId,
      text: Type.Optional(AnnotationText),
      start: Type.Optional(Time),
      end: Type.Optional(Type.Union([Time, Type.Null()], doc('null: an instant at start.'))),
      tags: Type.Optional(Type.Array(TagRef, { maxItems: LIMITS.historyTags })),
    },
    Strict,
  ),
  'annotations.delete': Type.Object({ id: AnnotationId }, Strict),
  'scriptTags.templates': Type.Object({}, Strict),
  'scriptTags.create': Type.Object(
    {
      name: ScriptTagName,
      description: Type.String({ maxLength: 1024, default: '' }),
      template: Type.String({ minLength: 1, maxLength: 64, ...doc('A shipped template, by name.') }),
      templateVersion: Type.Optional(Type.Integer({ minimum: 1, ...doc('Default: the shipped version.') })),
      parameters: TemplateParameters({ default: {} }),
      inputs: ScriptInputs,
      periodMs: Type.Optional(PeriodMs),
    },
    Strict,
  ),
  'scriptTags.update': Type.Object(
    {
      tag: TagRef,
      name: Type.Optional(ScriptTagName),
      description: Type.Optional(Type.String({ maxLength: 1024 })),
      parameters: Type.Optional(TemplateParameters()),
      inputs: Type.Optional(ScriptInputs),
      periodMs: Type.Optional(Type.Union([PeriodMs, Type.Null()], doc('null: on input change only.'))),
    },
    Strict,
  ),
  'scriptTags.delete': Type.Object({ tag: TagRef }, Strict),
  health: Type.Object({}, Strict),
} satisfies Record<string, TSchema>;

export type OperationName = keyof typeof OPERATION_SCHEMAS;
export type OperationRequest<Op extends OperationName> = Static<(typeof OPERATION_SCHEMAS)[Op]>;
export const OPERATION_NAMES = Object.keys(OPERATION_SCHEMAS) as OperationName[];

/**
 * Operations that change something (values, tags, annotations, script tags): through the bridge each
 * carries an idempotency key, and a retry with the same key gets the first answer, not a second change.
 */
export const CHANGE_OPERATIONS: ReadonlySet<OperationName> = new Set<OperationName>([
  'values.write',
  'tags.create',
  'tags.update',
  'tags.delete',
  'annotations.create',
  'annotations.update',
  'annotations.delete',
  'scriptTags.create',
  'scriptTags.update',
  'scriptTags.delete',
]);

/** Operations that read or change a source (all but health, which is about the gateway). */
export const isOperationName = (name: string): name is OperationName =>
  Object.hasOwn(OPERATION_SCHEMAS, name);

/** Wire forms of the answers. Times are ISO 8601 UTC strings. */
export interface WireValue {
  time: string;
  value: unknown;
  status: 'good' | 'uncertain' | 'bad';
  statusCode?: number;
  error?: string;
}
export interface WireTagValue extends WireValue {
  tag: string;
}
export interface TagHistory {
  tag: string;
  /** The aggregate, in values.processed answers (one entry per tag and function). */
  function?: string;
  values: WireValue[];
  /** More values exist in the range than maxValues allowed. */
  truncated?: boolean;
  error?: { code: string; message: string };
}
