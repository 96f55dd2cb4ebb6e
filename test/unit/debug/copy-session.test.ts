// The timeout of a copy the scheduler never placed: the line names why (the PodScheduled condition,
// whose message is the FailedScheduling event's) and the fix. The same on the real scheduler:
// test/integration/plugin/crashloop.test.ts.
import type { V1Pod } from '@kubernetes/client-node';
import { unscheduledCopyError } from '../../../src/debug/copy-session';
import { aPod } from '../../support/builders';

const FAILED = "0/2 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, 1 node(s) had untolerated taint(s).";
const original = (node?: string) => (node ? aPod('web').withNodeName(node) : aPod('web')).build() as V1Pod;
const copy = (status?: Record<string, unknown>) => (status ? aPod('web-debug-abcde').withStatus(status) : aPod('web-debug-abcde')).build() as V1Pod;

describe('unscheduledCopyError', () => {
  it('a copy the scheduler found no node for: exit 75, its reason and message, --same-node named with the original\'s node', () => {
    const err = unscheduledCopyError(copy({ phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: FAILED }] }), original('127.0.0.1'), 'shop');
    expect(err).toMatchObject({ kind: 'timeout', exitCode: 75 });
    expect(err?.message).toBe(
      `pod copy "web-debug-abcde" was never scheduled within --timeout: the scheduler found no node for it (Unschedulable: ${FAILED}); pass --same-node to run it on node "127.0.0.1" like the original, or see kubectl describe pod web-debug-abcde -n shop`,
    );
  });

  it('no scheduler looked at it (no condition): says so; an original without a node gets no --same-node advice', () => {
    expect(unscheduledCopyError(copy({ phase: 'Pending' }), original(), 'shop')?.message).toBe(
      'pod copy "web-debug-abcde" was never scheduled within --timeout: no scheduler has looked at it (none runs?); see kubectl describe pod web-debug-abcde -n shop',
    );
  });

  it('the scheduler\'s message is cluster text: escaped and bounded', () => {
    const err = unscheduledCopyError(copy({ conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: `\x1b]0;pwned\x07${'x'.repeat(10_000)}` }] }), original(), 'shop');
    expect(err?.message).toContain('(Unschedulable: ^[]0;pwned^G');
    expect(err!.message.length).toBeLessThan(600);
  });

  it('a copy on a node is no scheduling matter: undefined', () => {
    expect(unscheduledCopyError(aPod('web-debug-abcde').withNodeName('127.0.0.1').build() as V1Pod, original(), 'shop')).toBeUndefined();
  });
});
