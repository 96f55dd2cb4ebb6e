import { rulesAllow } from '../../../src/kube/access-rules';
import {
  ANNOTATIONS_MAX_BYTES,
  appendAuditEntry,
  AUDIT_ANNOTATION,
  AUDIT_FIELD_MAX,
  AUDIT_MAX_BYTES,
  AUDIT_MAX_ENTRIES,
  auditDigest,
  otherAnnotationBytes,
  parseAuditTrail,
  verifyAuditTrail,
  type AuditEntry,
  type StampedContainer,
} from '../../../src/plan/audit-trail';

const entry = (n: number, over: Partial<AuditEntry> = {}): AuditEntry => ({
  container: `debugger-shell-${n}`,
  preset: 'shell',
  image: 'busybox',
  user: 'alice',
  time: `2026-11-26T00:00:${String(n).padStart(2, '0')}Z`,
  ...over,
});
/** Appends and expects a write. */
const append = (value: string | undefined, e: AuditEntry, others = 0): string => {
  const next = appendAuditEntry(value, e, others);
  if (!('value' in next)) throw new Error(`refused: ${next.refused}`);
  return next.value;
};
const trailOf = (...entries: AuditEntry[]) => entries.reduce<string | undefined>((v, e) => append(v, e), undefined)!;
const stampOf = (e: AuditEntry): StampedContainer => ({ name: e.container, preset: e.preset, image: e.image, user: e.user, ...(e.reason ? { reason: e.reason } : {}) });

describe('audit trail annotation', () => {
  it('appends entries chained to the element before them', () => {
    const value = trailOf(entry(1), entry(2, { reason: 'INC-1' }));
    expect(JSON.parse(value)).toEqual([
      { ...entry(1), prev: '' },
      { ...entry(2, { reason: 'INC-1' }), prev: auditDigest({ ...entry(1), prev: '' }) },
    ]);
    expect(parseAuditTrail(value).map((e) => e.container)).toEqual(['debugger-shell-1', 'debugger-shell-2']);
  });

  it('keeps what others wrote: foreign elements survive appends and the cap', () => {
    let value = JSON.stringify([{ note: 'written by the SRE bot' }, 42, { container: 7 }]);
    for (let i = 0; i < AUDIT_MAX_ENTRIES + 3; i++) value = append(value, entry(i));
    const list = JSON.parse(value) as unknown[];
    expect(list.slice(0, 3)).toEqual([{ note: 'written by the SRE bot' }, 42, { container: 7 }]);
    expect(parseAuditTrail(value)).toHaveLength(AUDIT_MAX_ENTRIES);
    expect(parseAuditTrail(value)[0]!.container).toBe('debugger-shell-3');
  });

  it('refuses to touch a value that is not a JSON list', () => {
    expect(appendAuditEntry('hand-written note', entry(1))).toEqual({ refused: `${AUDIT_ANNOTATION} holds a value the plugin did not write (not a JSON list); it is left as it is` });
    expect(appendAuditEntry('{"a":1}', entry(1))).toMatchObject({ refused: expect.any(String) });
  });

  it('bounds each field of an entry', () => {
    const [written] = parseAuditTrail(trailOf(entry(1, { reason: 'x'.repeat(100_000), image: 'i'.repeat(5_000) })));
    expect(written).toEqual({ ...entry(1), reason: `${'x'.repeat(AUDIT_FIELD_MAX - 1)}…`, image: `${'i'.repeat(AUDIT_FIELD_MAX - 1)}…`, prev: '' });
  });

  it('bounds the whole trail: the oldest own entries go past 64 KiB', () => {
    let value: string | undefined = JSON.stringify([{ foreign: 'y'.repeat(40_000) }]);
    for (let i = 0; i < 45; i++) value = append(value, entry(i, { reason: 'r'.repeat(AUDIT_FIELD_MAX * 4), user: 'u'.repeat(AUDIT_FIELD_MAX) }));
    expect(Buffer.byteLength(value)).toBeLessThanOrEqual(AUDIT_MAX_BYTES);
    const list = JSON.parse(value) as Array<{ container?: string; foreign?: string }>;
    expect(list[0]).toEqual({ foreign: 'y'.repeat(40_000) });
    expect(list.at(-1)!.container).toBe('debugger-shell-44');
    expect(list.length).toBeLessThan(45);
  });

  it('refuses when the pod\'s annotations would pass the API server\'s 256 KiB', () => {
    expect(appendAuditEntry(undefined, entry(1), ANNOTATIONS_MAX_BYTES - 100)).toEqual({
      refused: "the pod's annotations would pass the API server's 256 KiB (what others wrote is never dropped)",
    });
    expect(otherAnnotationBytes({ [AUDIT_ANNOTATION]: 'x'.repeat(1000), a: 'bc' })).toBe(3);
  });
});

describe('verifyAuditTrail (list -o wide)', () => {
  const [one, two, three] = [entry(1), entry(2, { reason: 'INC-2' }), entry(3, { preset: 'network', image: 'nicolaka/netshoot' })];
  const containers = [one, two, three].map(stampOf);
  const edit = (value: string, change: (list: any[]) => void) => {
    const list = JSON.parse(value) as any[];
    change(list);
    return JSON.stringify(list);
  };

  it('an untouched trail: every stamped container recorded, no problem', () => {
    expect(verifyAuditTrail(trailOf(one, two, three), containers)).toEqual({
      byContainer: new Map([['debugger-shell-1', 'recorded'], ['debugger-shell-2', 'recorded'], ['debugger-shell-3', 'recorded']]),
      problems: [],
    });
  });

  it('a reason rewritten in place: that entry disagrees with the stamp, the next link breaks', () => {
    const value = edit(trailOf(one, two, three), (l) => (l[1].reason = 'routine check'));
    expect(verifyAuditTrail(value, containers)).toEqual({
      byContainer: new Map([['debugger-shell-1', 'recorded'], ['debugger-shell-2', 'altered'], ['debugger-shell-3', 'altered']]),
      problems: [
        'the chain breaks before entry 3 (debugger-shell-3): an entry before it was changed, removed or inserted',
        "entry 2 (debugger-shell-2) disagrees with the container's env stamp",
      ],
    });
  });

  it('an entry removed from the middle: missing, and the chain names where', () => {
    const value = edit(trailOf(one, two, three), (l) => l.splice(1, 1));
    expect(verifyAuditTrail(value, containers)).toEqual({
      byContainer: new Map([['debugger-shell-1', 'altered'], ['debugger-shell-3', 'altered'], ['debugger-shell-2', 'missing']]),
      problems: ['the chain breaks before entry 2 (debugger-shell-3): an entry before it was changed, removed or inserted'],
    });
  });

  it('an entry for a container the pod does not have, and a trail replaced by something else', () => {
    const value = edit(trailOf(one), (l) => l.push({ ...entry(9), prev: auditDigest(l[0]) }));
    expect(verifyAuditTrail(value, [stampOf(one)]).problems).toEqual(['entry 2 names container "debugger-shell-9", which the pod does not have']);
    expect(verifyAuditTrail('[]', [stampOf(one)]).byContainer).toEqual(new Map([['debugger-shell-1', 'missing']]));
    expect(verifyAuditTrail('gone', [stampOf(one)])).toEqual({
      byContainer: new Map([['debugger-shell-1', 'unreadable']]),
      problems: [`${AUDIT_ANNOTATION} is not a JSON list: it was replaced or hand-edited`],
    });
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
