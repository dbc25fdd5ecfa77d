/** Role rules in the gateway config (DESIGN.md, "Roles"): principal × sources × roles, optionally narrowed to tags. */
import { type Static, Type } from '@sinclair/typebox';
import { OneOf } from '../../drivers/core/index.ts';

export const ROLES = [
  'read',
  'writeValues',
  'writeAnnotations',
  'configureTags',
  'configureScriptTags',
  'administrator',
] as const;
export type Role = (typeof ROLES)[number];

const doc = (description: string) => ({ description });

export const AccessRule = Type.Object(
  {
    principal: Type.String({
      // Exact ids only: no wildcards, no white space; compared byte for byte (no case or Unicode folding).
      pattern: '^(user|group):[^*?\\s]{1,256}$',
      ...doc('user:<oid-or-sub> or group:<group-id> from the token; exact, case-sensitive, no wildcards.'),
    }),
    sources: Type.Array(Type.String({ pattern: '^(\\*|[a-z0-9][a-z0-9_-]{0,62})$' }), {
      minItems: 1,
      uniqueItems: true,
      ...doc('Source ids the rule covers, or "*" for every source.'),
    }),
    roles: Type.Array(OneOf(ROLES), {
      minItems: 1,
      uniqueItems: true,
      ...doc('What the principal may do there.'),
    }),
    tags: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 256 }), {
        minItems: 1,
        ...doc('Tag name patterns (* and ?) that narrow the rule to some tags; all tags when absent.'),
      }),
    ),
  },
  { additionalProperties: false },
);
export type AccessRule = Static<typeof AccessRule>;

export const AccessSection = Type.Object(
  {
    rules: Type.Array(AccessRule, { default: [], ...doc('No rule, no access.') }),
  },
  { additionalProperties: false, default: {} },
);
