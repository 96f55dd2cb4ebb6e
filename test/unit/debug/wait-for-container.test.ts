import type { CoreV1Event, V1Pod } from '@kubernetes/client-node';
import type { Connection } from '../../../src/context';
import { waitForContainer, type ContainerEvent } from '../../../src/debug/wait-for-container';
import { aPod } from '../../support/builders';

const event = (uid: string, fieldPath: string, reason: string, message: string, count = 1, type = 'Normal'): CoreV1Event =>
  ({ metadata: { uid }, involvedObject: { fieldPath }, reason, message, count, type }) as CoreV1Event;

describe('waitForContainer with onEvent', () => {
  it('passes on the kubelet events about this container only, each once, and again when its count grows', async () => {
    const lists: CoreV1Event[][] = [
      [
        event('1', 'spec.ephemeralContainers{dbg}', 'Pulling', 'Pulling image "busybox"'),
        event('2', 'spec.containers{app}', 'Started', 'Started container app'),
        event('3', 'spec.ephemeralContainers{other}', 'Pulling', 'Pulling image "x"'),
      ],
      [
        event('1', 'spec.ephemeralContainers{dbg}', 'Pulling', 'Pulling image "busybox"'),
        event('4', 'spec.ephemeralContainers{dbg}', 'BackOff', 'Back-off pulling image "busybox"', 2, 'Warning'),
      ],
      [event('4', 'spec.ephemeralContainers{dbg}', 'BackOff', 'Back-off pulling image "busybox"', 3, 'Warning')],
    ];
    const seen: ContainerEvent[] = [];
    let listsRead = 0;
    let release: () => void = () => {};
    const thirdListDone = new Promise<void>((r) => (release = r));
    const running = aPod('web').build() as V1Pod;
    running.status = { ephemeralContainerStatuses: [{ name: 'dbg', image: 'busybox', imageID: '', ready: false, restartCount: 0, state: { running: {} } }] };
    const conn = {
      target: { namespace: 'shop' },
      api: {
        podEvents: async () => {
          const list = lists[Math.min(listsRead, lists.length - 1)]!;
          listsRead++;
          // Told once this list has been handed on (the waiter reads it before the next poll).
          if (listsRead === 3) setImmediate(release);
          return list;
        },
        // The container runs once the third list is read: the wait ends then.
        watchPod: async (_ns: string, _pod: string, _rv: unknown, _deadline: number, check: (p: V1Pod) => unknown) => {
          await thirdListDone;
          return check(running);
        },
      },
    } as unknown as Connection;
    const result = await waitForContainer(conn, { pod: 'web', container: 'dbg', ephemeral: true }, { until: 'started', timeoutMs: 60_000, now: Date.now, onEvent: (e) => seen.push(e) });
    expect(result.state).toEqual({ phase: 'running', startedAt: undefined });
    expect(seen).toEqual([
      { reason: 'Pulling', message: 'Pulling image "busybox"', type: 'Normal', count: 1 },
      { reason: 'BackOff', message: 'Back-off pulling image "busybox"', type: 'Warning', count: 2 },
      { reason: 'BackOff', message: 'Back-off pulling image "busybox"', type: 'Warning', count: 3 },
    ]);
  });
});
