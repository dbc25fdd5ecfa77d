/**
 * The access decision against a small reference model over random rule sets, and the tricks an
 * attacker would try with ids and groups.
 */
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../drivers/core/testing.ts';
import type { CallContext } from '../api/call-context.ts';
import { AccessPolicy, LOCAL_ADMIN, LOCAL_CONSOLE, MAX_GROUPS, tagAllowed } from './policy.ts';
import { type AccessRule, ROLES, type Role } from './rules.ts';

const link = (subject: string, groups: string[] = []): CallContext => ({
  requestId: 'r',
  origin: 'link',
  principal: { subject, groups },
});
const local = (subject: string, groups: string[] = []): CallContext => ({
  ...link(subject, groups),
  origin: 'local',
});

/** The reference: the rule list read literally. */
function reference(
  rules: AccessRule[],
  ctx: CallContext,
  source: string,
  role: Role,
  tagName: string,
): boolean {
  if (ctx.origin === 'local' && [LOCAL_ADMIN, LOCAL_CONSOLE].includes(ctx.principal.subject)) return true;
  if (role === 'administrator' && ctx.origin !== 'local') return false;
  if (ctx.principal.groups.length > MAX_GROUPS) return false;
  const who = [ctx.principal.subject, ...ctx.principal.groups.map((g) => `group:${g}`)];
  return rules.some(
    (r) =>
      who.includes(r.principal) &&
      r.roles.includes(role) &&
      (r.sources.includes('*') || r.sources.includes(source)) &&
      (!r.tags ||
        r.tags.some((p) =>
          new RegExp(
            `^${p
              .replace(/[.+^${}()|[\]\\]/g, '\\$&')
              .replace(/\*/g, '.*')
              .replace(/\?/g, '.')}$`,
            's',
          ).test(tagName),
        )),
  );
}

describe('access policy', () => {
  it('given random rules, principals and operations, when decided, then the decision equals the reference model', () => {
    const rnd = seededRandom(7);
    const pick = <T>(list: readonly T[]) => list[Math.floor(rnd() * list.length)]!;
    const users = ['user:alice', 'user:bob', 'user:carol'];
    const groups = ['ops', 'eng', 'qa'];
    const sources = ['boiler', 'line3', 'calc'];
    const tagNames = ['Boiler1.Pressure', 'Boiler1.Temp', 'Line3.Speed', 'Calc.X'];
    let allowed = 0;
    for (let round = 0; round < 300; round++) {
      const rules: AccessRule[] = Array.from({ length: Math.floor(rnd() * 5) }, () => ({
        principal: rnd() < 0.5 ? pick(users) : `group:${pick(groups)}`,
        sources: rnd() < 0.2 ? ['*'] : [...new Set([pick(sources), pick(sources)])],
        roles: [...new Set([pick(ROLES), pick(ROLES)])],
        ...(rnd() < 0.3 ? { tags: [pick(['Boiler1.*', '*.Speed', 'Calc.?', 'Line3.Speed'])] } : {}),
      }));
      const policy = new AccessPolicy(rules);
      for (let k = 0; k < 30; k++) {
        const groupList = groups.filter(() => rnd() < 0.4);
        const ctx = rnd() < 0.8 ? link(pick(users), groupList) : local(pick(users), groupList);
        const source = pick(sources);
        const role = pick(ROLES);
        const tag = pick(tagNames);
        const expected = reference(rules, ctx, source, role, tag);
        const actual = tagAllowed(policy.grant(ctx, source, role), { name: tag });
        expect(actual, JSON.stringify({ rules, ctx, source, role, tag })).toBe(expected);
        if (actual) allowed++;
      }
    }
    // The cases must exercise both answers, or the comparison proves little.
    expect(allowed).toBeGreaterThan(300);
    expect(allowed).toBeLessThan(8700);
  });

  const rules: AccessRule[] = [
    { principal: 'user:alice', sources: ['boiler'], roles: ['read', 'writeValues', 'administrator'] },
    { principal: 'group:operators', sources: ['line3'], roles: ['read'], tags: ['Line3.*'] },
  ];
  const policy = new AccessPolicy(rules);
  const decide = (ctx: CallContext, source = 'boiler', role: Role = 'read') =>
    policy.grant(ctx, source, role);

  it('given no rule for a principal, when it asks, then it is denied', () => {
    expect(decide(link('user:mallory'))).toBe(false);
    expect(decide(link('user:alice'), 'line3')).toBe(false);
    expect(decide(link('user:alice'), 'boiler', 'configureTags')).toBe(false);
  });

  it('given ids that only look like a granted one, when they ask, then each is denied', () => {
    for (const subject of [
      'user:Alice', // case
      'user:ALICE',
      'user:аlice', // Cyrillic а
      'user:alice\u200b', // zero-width space
      'user:ali\u0063e\u0301', // combining accent
      'user:*',
      'user:al*',
      '*',
      'alice',
      'user:alice/../bob',
      'group:operators',
      ' user:alice',
    ]) {
      expect(decide(link(subject)), subject).toBe(false);
    }
    for (const source of ['Boiler', '../boiler', 'boiler/', '*', 'boiler\u0000', '']) {
      expect(decide(link('user:alice'), source), JSON.stringify(source)).toBe(false);
    }
    expect(decide(link('user:x', ['Operators', 'operators ', '*', 'operators/x']), 'line3')).toBe(false);
  });

  it('given empty and huge group lists, when they ask, then only a matching rule counts and a huge list is refused', () => {
    expect(decide(link('user:x', []), 'line3')).toBe(false);
    expect(decide(link('user:x', ['operators']), 'line3')).toEqual([expect.any(RegExp)]);
    const huge = [...Array.from({ length: MAX_GROUPS }, (_, i) => `g${i}`), 'operators'];
    expect(decide(link('user:x', huge), 'line3')).toBe(false);
    expect(decide(link('user:alice', huge))).toBe(false);
  });

  it('given a rule with administrator, when asked over the link, then it is refused; locally it holds', () => {
    expect(decide(link('user:alice'), 'boiler', 'administrator')).toBe(false);
    expect(decide(local('user:alice'), 'boiler', 'administrator')).toBe(true);
    expect(decide(local(LOCAL_ADMIN), 'anything', 'administrator')).toBe(true);
    expect(decide(link(LOCAL_ADMIN), 'boiler')).toBe(false);
    expect(decide(local(LOCAL_CONSOLE), 'anything', 'administrator')).toBe(true);
    expect(decide(link(LOCAL_CONSOLE), 'boiler')).toBe(false);
  });

  it('given a rule narrowed to tags, when deciding per tag, then only matching names are allowed (case-sensitive)', () => {
    const grant = decide(link('user:x', ['operators']), 'line3');
    expect(tagAllowed(grant, { name: 'Line3.Speed' })).toBe(true);
    expect(tagAllowed(grant, { name: 'line3.speed' })).toBe(false);
    expect(tagAllowed(grant, { name: 'Boiler1.Pressure' })).toBe(false);
  });
});
