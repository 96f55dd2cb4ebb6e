import { rulesAllow } from '../../../src/plan/access-rules';
import { appendAuditEntry, AUDIT_MAX_ENTRIES, parseAuditTrail } from '../../../src/plan/audit-trail';

const entry = (n: number) => ({ container: `debugger-shell-${n}`, preset: 'shell', image: 'busybox', user: 'alice', time: `2026-11-26T00:00:${String(n).padStart(2, '0')}Z` });

describe('audit trail annotation', () => {
  it('appends to an existing list', () => {
    const once = appendAuditEntry(undefined, entry(1));
    expect(parseAuditTrail(appendAuditEntry(once, { ...entry(2), reason: 'INC-1' }))).toEqual([entry(1), { ...entry(2), reason: 'INC-1' }]);
  });

  it('tolerates a foreign or broken value', () => {
    expect(parseAuditTrail('not json')).toEqual([]);
    expect(parseAuditTrail('{"a":1}')).toEqual([]);
    expect(parseAuditTrail('[1, {"container": "x"}]')).toEqual([{ container: 'x' }]);
  });

  it('keeps the newest entries past the cap', () => {
    let value: string | undefined;
    for (let i = 0; i < AUDIT_MAX_ENTRIES + 5; i++) value = appendAuditEntry(value, entry(i));
    const trail = parseAuditTrail(value);
    expect(trail).toHaveLength(AUDIT_MAX_ENTRIES);
    expect(trail[0]!.container).toBe('debugger-shell-5');
  });
});

describe('rulesAllow (SelfSubjectRulesReview evaluation)', () => {
  const rule = (verbs: string[], resources: string[], extra = {}) => ({ verbs, apiGroups: [''], resources, ...extra });
  it.each([
    [[rule(['patch'], ['pods/ephemeralcontainers'])], 'patch', 'pods/ephemeralcontainers', true],
    [[rule(['get', 'patch'], ['pods'])], 'patch', 'pods/ephemeralcontainers', false],
    [[rule(['*'], ['*'])], 'patch', 'pods/ephemeralcontainers', true],
    [[rule(['patch'], ['pods/*'])], 'patch', 'pods/ephemeralcontainers', true],
    [[rule(['create'], ['pods/attach'], { resourceNames: ['web'] })], 'create', 'pods/attach', false],
    [[{ verbs: ['create'], apiGroups: ['apps'], resources: ['pods/attach'] }], 'create', 'pods/attach', false],
    [[], 'get', 'pods', false],
  ])('%j allows %s %s: %s', (rules, verb, resource, expected) => {
    expect(rulesAllow(rules, verb, resource)).toBe(expected);
  });
});
