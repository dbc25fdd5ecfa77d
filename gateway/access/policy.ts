/**
 * The access decision: may this principal do this operation on this source (and this tag)? No rule, no
 * access. Principals are compared exactly — no wildcards, case folding or Unicode normalisation — so a
 * look-alike id never matches. `administrator` is granted only to local callers, whatever the rules say.
 * The machine's administrators may do everything locally: the loopback API's token holder and the
 * signed-in console (each named apart, so the audit log and a script tag's creator say which it was).
 */
import type { Tag } from '../../drivers/core/index.ts';
import type { CallContext } from '../api/call-context.ts';
import type { OperationName } from '../api/operations.ts';
import { globToRegExp } from '../query/tag-handlers.ts';
import type { AccessRule, Role } from './rules.ts';

/** Tokens with more groups than this are refused outright rather than matched. */
export const MAX_GROUPS = 1024;
export const LOCAL_ADMIN = 'local:token';
export const LOCAL_CONSOLE = 'local:console';
const LOCAL_ADMINS = new Set([LOCAL_ADMIN, LOCAL_CONSOLE]);

export const ROLE_OF_OPERATION: Record<Exclude<OperationName, 'health'>, Role> = {
  'tags.search': 'read',
  'tags.get': 'read',
  'values.snapshot': 'read',
  'values.raw': 'read',
  'values.plot': 'read',
  'values.processed': 'read',
  'values.atTimes': 'read',
  'values.subscribe': 'read',
  'values.write': 'writeValues',
  'tags.create': 'configureTags',
  'tags.update': 'configureTags',
  'tags.delete': 'configureTags',
  'annotations.read': 'read',
  'annotations.create': 'writeAnnotations',
  'annotations.update': 'writeAnnotations',
  'annotations.delete': 'writeAnnotations',
  'scriptTags.templates': 'read',
  'scriptTags.create': 'configureScriptTags',
  'scriptTags.update': 'configureScriptTags',
  'scriptTags.delete': 'configureScriptTags',
};

/** What a decision allows for tags: every tag, none, or those whose name matches a pattern. */
export type TagGrant = true | false | RegExp[];

export const tagAllowed = (grant: TagGrant, tag: Pick<Tag, 'name'>): boolean =>
  grant === true || (grant !== false && grant.some((pattern) => pattern.test(tag.name)));

interface CompiledRule {
  principal: string;
  allSources: boolean;
  sources: Set<string>;
  roles: Set<Role>;
  tags?: RegExp[];
}

export class AccessPolicy {
  private readonly rules: CompiledRule[];

  constructor(rules: readonly AccessRule[]) {
    this.rules = rules.map((r) => ({
      principal: r.principal,
      allSources: r.sources.includes('*'),
      sources: new Set(r.sources),
      roles: new Set(r.roles),
      ...(r.tags ? { tags: r.tags.map((p) => globToRegExp(p, false)) } : {}),
    }));
  }

  /** The principals a call acts as: its user and each of its groups. */
  private principalsOf(ctx: CallContext): Set<string> | undefined {
    if (ctx.principal.groups.length > MAX_GROUPS) return undefined;
    return new Set([ctx.principal.subject, ...ctx.principal.groups.map((g) => `group:${g}`)]);
  }

  private isLocalAdmin(ctx: CallContext): boolean {
    return ctx.origin === 'local' && LOCAL_ADMINS.has(ctx.principal.subject);
  }

  /** Which tags of `sourceId` the caller may use in `role`: all, none, or those matching patterns. */
  grant(ctx: CallContext, sourceId: string, role: Role): TagGrant {
    if (this.isLocalAdmin(ctx)) return true;
    if (role === 'administrator' && ctx.origin !== 'local') return false;
    const principals = this.principalsOf(ctx);
    if (!principals) return false;
    const patterns: RegExp[] = [];
    for (const rule of this.rules) {
      if (!principals.has(rule.principal) || !rule.roles.has(role)) continue;
      if (!rule.allSources && !rule.sources.has(sourceId)) continue;
      if (!rule.tags) return true;
      patterns.push(...rule.tags);
    }
    return patterns.length ? patterns : false;
  }

  /** health: any rule for the caller on any source (or the local administrator). */
  mayAskHealth(ctx: CallContext): boolean {
    if (this.isLocalAdmin(ctx)) return true;
    const principals = this.principalsOf(ctx);
    return principals !== undefined && this.rules.some((r) => principals.has(r.principal));
  }
}
