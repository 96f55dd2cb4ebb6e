import type { CoreV1Event, V1Pod } from '@kubernetes/client-node';
import type { Connection } from '../../../src/context';
import { waitForContainer, type ContainerEvent } from '../../../src/debug/wait-for-container';
import { aPod } from '../../support/builders';
import { PluginError } from '../../../src/errors/plugin-error';
import { FakeClock } from '../../support/fake-clock';

const event = (uid: string, fieldPath: string, reason: string, message: string, count = 1, type = 'Normal'): CoreV1Event =>
  ({ metadata: { uid }, involvedObject: { fieldPath }, reason, message, count, type }) as CoreV1Event;

describe('waitForContainer with onEvent', () => {
  it('passes on the kubelet events about this container only, each once, and again when its count grows', async () => {
    const batches: CoreV1Event[][] = [
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
    let release: () => void = () => {};
    const allSent = new Promise<void>((r) => (release = r));
    const running = aPod('web').build() as V1Pod;
    running.status = { ephemeralContainerStatuses: [{ name: 'dbg', image: 'busybox', imageID: '', ready: false, restartCount: 0, state: { running: {} } }] };
    const conn = {
      target: { namespace: 'shop' },
      api: {
        // The list first, then what the watch brings, one batch at a time; then silence until aborted.
        followPodEvents: async (_ns: string, _pod: string, onEvents: (e: CoreV1Event[]) => void, signal: AbortSignal) => {
          for (const batch of batches) {
            onEvents(batch);
            await new Promise((r) => setImmediate(r));
          }
          release();
          await new Promise((r) => signal.addEventListener('abort', r));
        },
        // The container runs once every batch was handed on: the wait ends then.
        watchPod: async (_ns: string, _pod: string, _rv: unknown, _deadline: number, check: (p: V1Pod) => unknown) => {
          await allSent;
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

describe('waitForContainer with startedEarly', () => {
  const podWith = (state: object) => {
    const p = aPod('web').build() as V1Pod;
    p.status = { ephemeralContainerStatuses: [{ name: 'dbg', image: 'busybox', imageID: '', ready: false, restartCount: 0, state }] };
    return p;
  };

  function fakeConn(events: CoreV1Event[]) {
    let check: ((p: V1Pod) => unknown) | undefined;
    let settle: (v: unknown) => void = () => {};
    const conn = {
      target: { namespace: 'shop' },
      api: {
        // The events come a turn later, as from a server: the status the test pushes first is seen first.
        followPodEvents: async (_ns: string, _pod: string, onEvents: (e: CoreV1Event[]) => void, signal: AbortSignal) => {
          await new Promise((r) => setImmediate(r));
          onEvents(events);
          await new Promise((r) => signal.addEventListener('abort', r));
        },
        // A watch that hears nothing until the test pushes a pod update.
        watchPod: (_ns: string, _pod: string, _rv: unknown, _deadline: number, c: (p: V1Pod) => unknown) => {
          check = c;
          return new Promise((resolve) => (settle = resolve));
        },
      },
    } as unknown as Connection;
    const push = (p: V1Pod) => {
      const r = check!(p);
      if (r !== undefined) settle(r);
      return r;
    };
    return { conn, push };
  }

  it('ends at the kubelet\'s Started event while the status still says ContainerCreating; the watch ends at its next update', async () => {
    const { conn, push } = fakeConn([
      event('1', 'spec.ephemeralContainers{dbg}', 'Pulled', 'Container image "busybox" already present on machine'),
      event('2', 'spec.ephemeralContainers{dbg}', 'Created', 'Container created'),
      event('3', 'spec.ephemeralContainers{dbg}', 'Started', 'Container started'),
    ]);
    const reasons: string[] = [];
    const waiting = waitForContainer(conn, { pod: 'web', container: 'dbg', ephemeral: true }, { until: 'started', timeoutMs: 60_000, now: Date.now, startedEarly: {}, onEvent: (e) => reasons.push(e.reason), onWaiting: (s) => reasons.push(s.reason) });
    // Until the relist the status says ContainerCreating: that alone does not end the wait.
    expect(push(podWith({ waiting: { reason: 'ContainerCreating' } }))).toBeUndefined();
    await expect(waiting).resolves.toEqual({ state: { phase: 'running' }, lastReason: 'ContainerCreating', early: 'event' });
    expect(reasons).toEqual(['ContainerCreating', 'Pulled', 'Created', 'Started']);
    // The abandoned watch stops at the next pod update, whatever it says.
    expect(push(podWith({ waiting: { reason: 'ContainerCreating' } }))).toBeDefined();
  });

  it('still ends at once on a fatal status (no Started event comes)', async () => {
    const { conn, push } = fakeConn([event('1', 'spec.ephemeralContainers{dbg}', 'Pulling', 'Pulling image "nope"')]);
    const waiting = waitForContainer(conn, { pod: 'web', container: 'dbg', ephemeral: true }, { until: 'started', timeoutMs: 60_000, now: Date.now, startedEarly: {} });
    push(podWith({ waiting: { reason: 'ErrImagePull', message: 'not found' } }));
    await expect(waiting).resolves.toMatchObject({ state: { phase: 'waiting', reason: 'ErrImagePull', message: 'not found' } });
  });

  it('lists the events a second at a time when watching them is refused, and still ends at Started', async () => {
    const { conn, push } = fakeConn([]);
    const api = conn.api as unknown as Record<string, unknown>;
    api.followPodEvents = async () => {
      throw Object.assign(new Error('events is forbidden'), { status: 403 });
    };
    let lists = 0;
    api.podEvents = async () => (++lists === 1 ? [event('1', 'spec.ephemeralContainers{dbg}', 'Started', 'Container started')] : []);
    const waiting = waitForContainer(conn, { pod: 'web', container: 'dbg', ephemeral: true }, { until: 'started', timeoutMs: 60_000, now: Date.now, startedEarly: {} });
    await expect(waiting).resolves.toEqual({ state: { phase: 'running' }, lastReason: '', early: 'event' });
    expect(lists).toBe(1);
    expect(push(podWith({ running: {} }))).toBeDefined();
  });

  it('ends at the first attach probe that finds the container, while the status still says ContainerCreating', async () => {
    const { conn, push } = fakeConn([]);
    let probes = 0;
    const waiting = waitForContainer(conn, { pod: 'web', container: 'dbg', ephemeral: true }, { until: 'started', timeoutMs: 60_000, now: Date.now, startedEarly: { attachable: async () => ++probes >= 3 } });
    expect(push(podWith({ waiting: { reason: 'ContainerCreating' } }))).toBeUndefined();
    await expect(waiting).resolves.toEqual({ state: { phase: 'running' }, lastReason: 'ContainerCreating', early: 'probe' });
    expect(probes).toBe(3);
  });

  it('stops probing when a probe is refused, and the status ends the wait (fake timers: 10 s pass without another probe)', async () => {
    jest.useFakeTimers({ doNotFake: ['setImmediate', 'queueMicrotask', 'nextTick'] });
    try {
      const { conn, push } = fakeConn([]);
      let probes = 0;
      const waiting = waitForContainer(conn, { pod: 'web', container: 'dbg', ephemeral: true }, { until: 'started', timeoutMs: 60_000, now: Date.now, startedEarly: { attachable: async () => {
        probes++;
        throw new Error('pods/attach is forbidden');
      } } });
      await jest.advanceTimersByTimeAsync(10_000);
      expect(probes).toBe(1);
      push(podWith({ running: {} }));
      await expect(waiting).resolves.toMatchObject({ state: { phase: 'running' } });
      expect(probes).toBe(1);
    } finally {
      jest.useRealTimers();
    }
  });

  it('does not probe while the kubelet pulls the image, and probes again once it is pulled', async () => {
    let send: (e: CoreV1Event[]) => void = () => {};
    const { conn } = fakeConn([]);
    (conn.api as unknown as Record<string, unknown>).followPodEvents = async (_ns: string, _pod: string, onEvents: (e: CoreV1Event[]) => void, signal: AbortSignal) => {
      send = onEvents;
      onEvents([event('1', 'spec.ephemeralContainers{dbg}', 'Pulling', 'Pulling image "busybox"')]);
      await new Promise((r) => signal.addEventListener('abort', r));
    };
    jest.useFakeTimers({ doNotFake: ['setImmediate', 'queueMicrotask', 'nextTick'] });
    try {
      let probes = 0;
      const waiting = waitForContainer(conn, { pod: 'web', container: 'dbg', ephemeral: true }, { until: 'started', timeoutMs: 60_000, now: Date.now, startedEarly: { attachable: async () => (++probes, true) } });
      // 10 s of pulling (fake timers): the probe's clock runs, no probe goes out.
      await jest.advanceTimersByTimeAsync(10_000);
      expect(probes).toBe(0);
      send([event('2', 'spec.ephemeralContainers{dbg}', 'Pulled', 'Successfully pulled image "busybox"')]);
      await jest.advanceTimersByTimeAsync(5_000);
      await expect(waiting).resolves.toEqual({ state: { phase: 'running' }, lastReason: '', early: 'probe' });
      expect(probes).toBe(1);
    } finally {
      jest.useRealTimers();
    }
  });

  it('an API server restart cuts the event watch: the events are listed again each second until it answers, and its Started event still ends the wait (fake timers)', async () => {
    jest.useFakeTimers({ doNotFake: ['setImmediate', 'queueMicrotask', 'nextTick'] });
    try {
      const { conn } = fakeConn([]);
      const api = conn.api as unknown as Record<string, unknown>;
      api.followPodEvents = async () => {
        throw new PluginError('unreachable', 'cannot reach the API server (ECONNRESET)');
      };
      let lists = 0;
      api.podEvents = async () => {
        if (++lists <= 3) throw new PluginError('unreachable', 'cannot reach the API server (ECONNREFUSED)');
        return [event('1', 'spec.ephemeralContainers{dbg}', 'Started', 'Container started')];
      };
      const waiting = waitForContainer(conn, { pod: 'web', container: 'dbg', ephemeral: true }, { until: 'started', timeoutMs: 60_000, now: Date.now, startedEarly: {} });
      await jest.advanceTimersByTimeAsync(3_000);
      await expect(waiting).resolves.toEqual({ state: { phase: 'running' }, lastReason: '', early: 'event' });
      expect(lists).toBe(4);
    } finally {
      jest.useRealTimers();
    }
  });

  it('events the identity may not list: the list is not tried again (fake timers)', async () => {
    jest.useFakeTimers({ doNotFake: ['setImmediate', 'queueMicrotask', 'nextTick'] });
    try {
      const { conn, push } = fakeConn([]);
      const api = conn.api as unknown as Record<string, unknown>;
      api.followPodEvents = async () => {
        throw new PluginError('forbidden', 'cannot watch events');
      };
      let lists = 0;
      api.podEvents = async () => {
        lists++;
        throw new PluginError('forbidden', 'cannot list events');
      };
      const waiting = waitForContainer(conn, { pod: 'web', container: 'dbg', ephemeral: true }, { until: 'started', timeoutMs: 60_000, now: Date.now, startedEarly: {} });
      await jest.advanceTimersByTimeAsync(5_000);
      push(podWith({ running: {} }));
      await expect(waiting).resolves.toMatchObject({ state: { phase: 'running' } });
      expect(lists).toBe(1);
    } finally {
      jest.useRealTimers();
    }
  });
});

describe('waitForContainer while the pod has no node (the scheduler\'s events)', () => {
  const FAILED = '0/2 nodes are available: 1 node(s) didn\'t match Pod\'s node affinity/selector, 1 node(s) had untolerated taint(s).';
  // As the scheduler records it through events.k8s.io: no fieldPath, a series instead of a count.
  const failedScheduling = (uid: string, count?: number): CoreV1Event =>
    ({ metadata: { uid }, involvedObject: { kind: 'Pod', name: 'web-debug-abcde' }, reason: 'FailedScheduling', message: FAILED, type: 'Warning', ...(count ? { series: { count } } : {}) }) as CoreV1Event;
  const unscheduled = () =>
    aPod('web-debug-abcde').withStatus({ phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: FAILED }] }).build() as V1Pod;
  const onNode = (state?: object) => {
    const p = aPod('web').withNodeName('127.0.0.1').build() as V1Pod;
    if (state) p.status = { ephemeralContainerStatuses: [{ name: 'dbg', image: 'busybox', imageID: '', ready: false, restartCount: 0, state }] };
    return p;
  };

  /** Events in batches (the first before the watch shows the pod), pod updates after each batch; the watch then hears nothing until its deadline on the fake clock. */
  function scripted(steps: Array<{ events?: CoreV1Event[]; pod?: V1Pod }>) {
    let next: () => void = () => {};
    const conn = {
      target: { namespace: 'shop' },
      api: {
        followPodEvents: async (_ns: string, _pod: string, onEvents: (e: CoreV1Event[]) => void, signal: AbortSignal) => {
          for (const step of steps) {
            if (step.events) onEvents(step.events);
            await new Promise<void>((r) => (next = r));
          }
          await new Promise((r) => signal.addEventListener('abort', r));
        },
        watchPod: async (_ns: string, _pod: string, _rv: unknown, limits: { deadline: number; now: () => number; sleep: (ms: number) => Promise<void> }, check: (p: V1Pod) => unknown) => {
          for (const step of steps) {
            await new Promise((r) => setImmediate(r));
            const r = step.pod && check(step.pod);
            if (r !== undefined) return r;
            next();
          }
          await limits.sleep(limits.deadline - limits.now());
          return undefined;
        },
      },
    } as unknown as Connection;
    return conn;
  }

  /** A 30 s wait for `ref` to start on the fake clock: what it reported (waiting reasons, events as `format` puts them) and its result. */
  async function waitSeeing(clock: FakeClock, conn: Connection, ref: Parameters<typeof waitForContainer>[1], format: (e: Parameters<NonNullable<Parameters<typeof waitForContainer>[2]['onEvent']>>[0]) => string) {
    const seen: string[] = [];
    const waiting = waitForContainer(conn, ref, {
      until: 'started',
      timeoutMs: 30_000,
      now: clock.now,
      sleep: clock.sleep,
      onWaiting: (s) => seen.push(`waiting ${s.reason}`),
      onEvent: (e) => seen.push(format(e)),
    });
    return { seen, result: await clock.runUntilSettled(waiting) };
  }

  it('passes on FailedScheduling (held until the pod shows it has no node) and reports the container Pending; the deadline then ends the wait', async () => {
    const clock = new FakeClock();
    const conn = scripted([
      { events: [failedScheduling('1')] },
      { pod: unscheduled() },
      { events: [failedScheduling('1', 2)], pod: unscheduled() },
    ]);
    const { seen, result } = await waitSeeing(clock, conn, { pod: 'web-debug-abcde', container: 'app', ephemeral: false }, (e) => `${e.about ?? 'container'} ${e.type} ${e.reason} x${e.count}: ${e.message}`);
    expect(result).toEqual({ state: undefined, lastReason: 'Pending', pod: undefined });
    expect(clock.now()).toBe(30_000);
    expect(seen).toEqual(['waiting Pending', `pod Warning FailedScheduling x1: ${FAILED}`, `pod Warning FailedScheduling x2: ${FAILED}`]);
  });

  it('drops the FailedScheduling of a pod that has its node since (an hour of history), even when it comes before the pod does; the container\'s own events pass', async () => {
    const clock = new FakeClock();
    const conn = scripted([
      { events: [failedScheduling('1'), event('2', 'spec.ephemeralContainers{dbg}', 'Pulling', 'Pulling image "busybox"')] },
      { pod: onNode({ waiting: { reason: 'ContainerCreating' } }) },
      { events: [failedScheduling('3')], pod: onNode({ running: {} }) },
    ]);
    const { seen, result } = await waitSeeing(clock, conn, { pod: 'web', container: 'dbg', ephemeral: true }, (e) => `${e.about ?? 'container'} ${e.reason}`);
    expect(result.state).toEqual({ phase: 'running', startedAt: undefined });
    expect(seen).toEqual(['container Pulling', 'waiting ContainerCreating']);
  });
});
