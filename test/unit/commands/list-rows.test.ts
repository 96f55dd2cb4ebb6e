import type { V1Pod } from '@kubernetes/client-node';
import { debugContainerRows } from '../../../src/commands/list';
import { appendAuditEntry, AUDIT_ANNOTATION, trailHead } from '../../../src/plan/audit-trail';
import { aPod } from '../../support/builders';

const stamp = (preset: string, user: string, reason?: string, anchor?: string) => ({
  KUBECTL_EPHEMERAL_PRESET: preset,
  KUBECTL_EPHEMERAL_USER: user,
  ...(reason ? { KUBECTL_EPHEMERAL_REASON: reason } : {}),
  ...(anchor !== undefined ? { KUBECTL_EPHEMERAL_TRAIL: anchor } : {}),
});
const entryFor = (container: string, reason?: string) => ({ container, preset: 'shell', image: 'busybox:1.36', user: 'alice', time: '2026-11-30T09:00:00Z', ...(reason ? { reason } : {}) });
const trail = (...entries: ReturnType<typeof entryFor>[]) =>
  entries.reduce<string | undefined>((v, e) => (appendAuditEntry(v, e) as { value: string }).value, undefined)!;

describe('debugContainerRows: the audit column', () => {
  const podWith = (annotation: string | undefined) =>
    aPod('web')
      .inNamespace('shop')
      .withContainer('app')
      .withEphemeralContainer('debugger-shell-aaaaa', { env: stamp('shell', 'alice', 'INC-1', '') })
      .withEphemeralContainer('debugger-shell-bbbbb', { env: stamp('shell', 'alice', undefined, trailHead(trail(entryFor('debugger-shell-aaaaa', 'INC-1')))) })
      .withEphemeralContainer('kubectl-debug-x', {})
      .withAnnotations(annotation === undefined ? {} : { [AUDIT_ANNOTATION]: annotation })
      .build() as V1Pod;

  it('recorded sessions, a session without an entry, and a container the plugin did not start', () => {
    const { rows, auditProblems } = debugContainerRows(podWith(trail(entryFor('debugger-shell-aaaaa', 'INC-1'))));
    expect(rows.map((r) => [r.container, r.audit])).toEqual([
      ['debugger-shell-aaaaa', 'recorded'],
      ['debugger-shell-bbbbb', 'missing'],
      ['kubectl-debug-x', undefined],
    ]);
    expect(auditProblems).toEqual([]);
  });

  it('a reason rewritten in the annotation shows as altered, with the problem named', () => {
    const edited = trail(entryFor('debugger-shell-aaaaa', 'INC-1'), entryFor('debugger-shell-bbbbb')).replace('INC-1', 'nothing to see');
    const { rows, auditProblems } = debugContainerRows(podWith(edited));
    expect(rows.map((r) => r.audit)).toEqual(['altered', 'altered', undefined]);
    expect(auditProblems).toEqual([
      'the chain breaks before entry 2 (debugger-shell-bbbbb): an entry before it was changed, removed or inserted',
      'the trail as it was when "debugger-shell-bbbbb" was created is gone: an element before its entry was changed, removed or inserted since',
      "entry 1 (debugger-shell-aaaaa) disagrees with the container's env stamp",
    ]);
  });

  it('a hostile annotation (20 KB of nested brackets) makes that pod corrupt and throws nothing', () => {
    const hostile = `${'['.repeat(10_000)}${']'.repeat(10_000)},{"container":"x","prev":"y"}]`;
    const { rows, auditProblems } = debugContainerRows(podWith(`[${hostile}`));
    expect(rows.map((r) => r.audit)).toEqual(['corrupt', 'corrupt', undefined]);
    expect(auditProblems).toEqual(['kubectl-ephemeral.dev/audit nests deeper than 8 levels: it was replaced or hand-edited']);
    const big = debugContainerRows(podWith(`[${'['.repeat(128 * 1024)}`));
    expect(big.rows[0]!.audit).toBe('corrupt');
  });
});
