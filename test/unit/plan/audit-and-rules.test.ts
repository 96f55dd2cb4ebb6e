import { rulesAllow } from '../../../src/kube/access-rules';
import {
  ANNOTATIONS_MAX_BYTES,
  appendAuditEntry,
  AUDIT_ANNOTATION,
  AUDIT_FIELD_MAX,
  AUDIT_MAX_BYTES,
  AUDIT_MAX_ENTRIES,
  AUDIT_MAX_DEPTH,
  auditDigest,
  otherAnnotationBytes,
  readAuditList,
  trailHead,
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

  it('drops elements that are not entries, with a warning, and goes on writing', () => {
    const value = JSON.stringify([{ note: 'written by the SRE bot' }, 42, { container: 7 }, { ...entry(1), prev: '' }, { ...entry(2), extra: 'x' }]);
    const next = appendAuditEntry(value, entry(3));
    expect(next).toEqual({ value: expect.any(String), warnings: [`dropped 4 element(s) of ${AUDIT_ANNOTATION} that are not audit entries`] });
    const list = JSON.parse((next as { value: string }).value);
    expect(list.map((e: AuditEntry) => e.container)).toEqual(['debugger-shell-1', 'debugger-shell-3']);
    expect(list[1].prev).toBe(auditDigest(list[0]));
  });

  it('a trail stuffed with non-entries to its bound is still written to (the stuffing goes)', () => {
    const stuffed = JSON.stringify(Array.from({ length: 6000 }, (_, i) => ({ junk: i })));
    expect(Buffer.byteLength(stuffed)).toBeGreaterThan(AUDIT_MAX_BYTES);
    const list = JSON.parse(append(stuffed, entry(1)));
    expect(list).toEqual([{ ...entry(1), prev: '' }]);
  });

  it('keeps the cap: the oldest entries go past AUDIT_MAX_ENTRIES', () => {
    let value: string | undefined;
    for (let i = 0; i < AUDIT_MAX_ENTRIES + 3; i++) value = append(value, entry(i));
    expect(parseAuditTrail(value)).toHaveLength(AUDIT_MAX_ENTRIES);
    expect(parseAuditTrail(value)[0]!.container).toBe('debugger-shell-3');
  });

  it('replaces a value that is not a trail, chaining to its digest, with a warning', () => {
    const next = appendAuditEntry('hand-written note', entry(1));
    expect(next).toEqual({
      value: JSON.stringify([{ ...entry(1), prev: auditDigest('hand-written note') }]),
      warnings: [`${AUDIT_ANNOTATION} is not JSON: it was replaced or hand-edited; replaced by a new trail (its first entry's prev is the old value's digest ${auditDigest('hand-written note')})`],
    });
    expect(appendAuditEntry('{"a":1}', entry(1))).toMatchObject({ warnings: [expect.stringContaining('is not a JSON list')] });
    expect(trailHead('hand-written note')).toBe(auditDigest('hand-written note'));
  });

  it('bounds each field of an entry', () => {
    const [written] = parseAuditTrail(trailOf(entry(1, { reason: 'x'.repeat(100_000), image: 'i'.repeat(5_000) })));
    expect(written).toEqual({ ...entry(1), reason: `${'x'.repeat(AUDIT_FIELD_MAX - 1)}…`, image: `${'i'.repeat(AUDIT_FIELD_MAX - 1)}…`, prev: '' });
  });

  it('bounds the whole trail: the oldest own entries go past 64 KiB', () => {
    let value: string | undefined;
    const big = (c: string) => c.repeat(AUDIT_FIELD_MAX);
    for (let i = 0; i < 45; i++) value = append(value, entry(i, { reason: big('r'), user: big('u'), image: big('i'), preset: big('p'), copy: big('c'), node: big('n') }));
    expect(Buffer.byteLength(value!)).toBeLessThanOrEqual(AUDIT_MAX_BYTES);
    const list = JSON.parse(value!) as Array<{ container?: string }>;
    expect(list.at(-1)!.container).toBe('debugger-shell-44');
    expect(list.length).toBeLessThan(45);
  });

  it('reads what the cluster gives back with bounds: deep nesting is corrupt, never a stack overflow', () => {
    // 20 KB of nested brackets: JSON.stringify of it overflowed the stack and failed list -A for everyone.
    const hostile = `${'['.repeat(10_000)}${']'.repeat(10_000)},{"container":"x","prev":"y"}]`;
    expect(readAuditList(`[${hostile}`)).toEqual({ corrupt: `${AUDIT_ANNOTATION} nests deeper than ${AUDIT_MAX_DEPTH} levels: it was replaced or hand-edited` });
    expect(verifyAuditTrail(`[${hostile}`, [stampOf(entry(1))]).byContainer).toEqual(new Map([['debugger-shell-1', 'corrupt']]));
    expect(appendAuditEntry(`[${hostile}`, entry(1))).toMatchObject({ value: expect.any(String), warnings: [expect.stringContaining('nests deeper than')] });
    // Brackets inside strings are text, not nesting.
    expect(readAuditList(JSON.stringify([{ ...entry(1), reason: '['.repeat(200) }]))).toMatchObject({ list: [expect.any(Object)] });
    expect(readAuditList('x'.repeat(ANNOTATIONS_MAX_BYTES + 1))).toEqual({ corrupt: `${AUDIT_ANNOTATION} is larger than the API server's 256 KiB` });
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
  /** Sessions as the plugin runs them: each container pins the trail it read, then appends its entry. */
  const sessions = (...entries: AuditEntry[]) => {
    let value: string | undefined;
    const containers: StampedContainer[] = [];
    for (const e of entries) {
      containers.push({ ...stampOf(e), anchor: trailHead(value) });
      value = append(value, e);
    }
    return { value: value!, containers };
  };
  const edit = (value: string, change: (list: any[]) => void) => {
    const list = JSON.parse(value) as any[];
    change(list);
    return JSON.stringify(list);
  };
  const states = (...s: Array<[number, string]>) => new Map(s.map(([n, v]) => [`debugger-shell-${n}`, v]));

  it('an untouched trail: each entry a later container pins is recorded, the newest unanchored, no problem', () => {
    const { value, containers } = sessions(one, two, three);
    expect(verifyAuditTrail(value, containers)).toEqual({ byContainer: states([1, 'recorded'], [2, 'recorded'], [3, 'unanchored']), problems: [] });
    expect(verifyAuditTrail(value, [...containers].reverse()).problems).toEqual([]);
  });

  it('containers from before trails were pinned: unanchored, never recorded', () => {
    const { value } = sessions(one, two);
    expect(verifyAuditTrail(value, [one, two].map(stampOf)).byContainer).toEqual(states([1, 'unanchored'], [2, 'unanchored']));
  });

  it('a reason rewritten in place: that entry disagrees with the stamp, the next link breaks', () => {
    const { value, containers } = sessions(one, two, three);
    expect(verifyAuditTrail(edit(value, (l) => (l[1].reason = 'routine check')), containers)).toEqual({
      byContainer: states([1, 'recorded'], [2, 'altered'], [3, 'altered']),
      problems: [
        'the chain breaks before entry 3 (debugger-shell-3): an entry before it was changed, removed or inserted',
        'the trail as it was when "debugger-shell-3" was created is gone: an element before its entry was changed, removed or inserted since',
        "entry 2 (debugger-shell-2) disagrees with the container's env stamp",
      ],
    });
  });

  it('the chain rewritten consistently (an unstamped field, every link after it recomputed): the anchors still tell', () => {
    const { value, containers } = sessions(one, two, three);
    const rewritten = edit(value, (l) => {
      l[0].time = '2020-01-01T00:00:00Z';
      for (let i = 1; i < l.length; i++) l[i].prev = auditDigest(l[i - 1]);
    });
    expect(verifyAuditTrail(rewritten, containers).byContainer).toEqual(states([1, 'altered'], [2, 'altered'], [3, 'unanchored']));
  });

  it('the newest entry changed or removed: visibly unverifiable (unanchored) or missing, never recorded', () => {
    const { value, containers } = sessions(one, two, entry(3, { sha256: 'a'.repeat(64) }));
    const zeroed = edit(value, (l) => (l[2].sha256 = '0'.repeat(64)));
    expect(verifyAuditTrail(zeroed, containers).byContainer.get('debugger-shell-3')).toBe('unanchored');
    expect(verifyAuditTrail(edit(value, (l) => l.pop()), containers)).toEqual({ byContainer: states([1, 'recorded'], [2, 'recorded'], [3, 'missing']), problems: [] });
  });

  it('the newest entry removed and an unstamped field of the one before rewritten: the lost anchor of the missing one still tells', () => {
    const { value, containers } = sessions(one, two);
    const edited = edit(value, (l) => {
      l.pop();
      l[0].time = '2000-01-01T00:00:00Z';
    });
    const expected = {
      byContainer: states([1, 'altered'], [2, 'missing']),
      problems: ['the trail as it was when "debugger-shell-2" was created is gone: an element before its entry was changed, removed or inserted since'],
    };
    expect(verifyAuditTrail(edited, containers)).toEqual(expected);
    // The API server lists ephemeral containers newest first (a strategic merge patch prepends): no matter.
    expect(verifyAuditTrail(edited, [...containers].reverse())).toEqual(expected);
  });

  it('an entry removed from the middle: missing, and the chain and the anchors name where', () => {
    const { value, containers } = sessions(one, two, three);
    expect(verifyAuditTrail(edit(value, (l) => l.splice(1, 1)), containers)).toEqual({
      byContainer: states([1, 'altered'], [3, 'altered'], [2, 'missing']),
      problems: [
        'the chain breaks before entry 2 (debugger-shell-3): an entry before it was changed, removed or inserted',
        'the trail as it was when "debugger-shell-3" was created is gone: an element before its entry was changed, removed or inserted since',
      ],
    });
  });

  it('an element that is not an entry, an entry for a container the pod does not have, and a trail replaced by something else', () => {
    const { value, containers } = sessions(one);
    expect(verifyAuditTrail(edit(value, (l) => l.push({ ...entry(9), prev: auditDigest(l[0]) })), containers).problems).toEqual([
      'entry 2 names container "debugger-shell-9", which the pod does not have',
    ]);
    expect(verifyAuditTrail(edit(value, (l) => l.unshift({ note: 1 })), containers)).toEqual({
      byContainer: states([1, 'altered']),
      problems: [
        'element 1 is not an audit entry: someone else wrote it',
        'the chain breaks before entry 2 (debugger-shell-1): an entry before it was changed, removed or inserted',
        'the trail as it was when "debugger-shell-1" was created is gone: an element before its entry was changed, removed or inserted since',
      ],
    });
    expect(verifyAuditTrail('[]', [stampOf(one)]).byContainer).toEqual(states([1, 'missing']));
    expect(verifyAuditTrail('gone', [stampOf(one)])).toEqual({
      byContainer: states([1, 'corrupt']),
      problems: [`${AUDIT_ANNOTATION} is not JSON: it was replaced or hand-edited`],
    });
  });

  it('at the cap, the anchors of sessions dropped past it are lost by design: no alarm', () => {
    const entries = Array.from({ length: AUDIT_MAX_ENTRIES + 5 }, (_, i) => entry(i + 1));
    const { value, containers } = sessions(...entries);
    const verdict = verifyAuditTrail(value, containers);
    expect(verdict.problems).toEqual([]);
    expect([...verdict.byContainer.values()].filter((v) => v === 'altered')).toEqual([]);
    expect(verdict.byContainer.get('debugger-shell-1')).toBe('missing');
    expect(verdict.byContainer.get(`debugger-shell-${AUDIT_MAX_ENTRIES + 5}`)).toBe('unanchored');
  });

  it('a trail replaced and started anew: the new first entry chains to the old value, its container pinned that digest', () => {
    const containers = [{ ...stampOf(one), anchor: trailHead('junk') }];
    expect(verifyAuditTrail(append('junk', one), containers)).toEqual({ byContainer: states([1, 'unanchored']), problems: [] });
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
