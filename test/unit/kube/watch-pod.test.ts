// The decisions of the one pod watch about time, on a fake clock: the deadline is a timeout and
// the user's signal a cancel, whatever an attempt was doing when either came; an API server that
// goes away (stream cut, connections refused, 410 Gone) is waited out with a backoff that never
// passes the deadline. The transport is played by a script shaped like KubeHttpClient's answers.
import type { V1Pod } from '@kubernetes/client-node';
import { ClusterApi } from '../../../src/kube/cluster-api';
import type { KubeHttpClient, KubeRequest, WatchEvent } from '../../../src/kube/http-client';
import { ApiError } from '../../../src/kube/api-error';
import { PluginError } from '../../../src/errors/plugin-error';
import { waitForContainer, requireStarted } from '../../../src/debug/wait-for-container';
import type { Connection } from '../../../src/context';
import { aPod } from '../../support/builders';
import { FakeClock } from '../../support/fake-clock';

/** What one watch request does: streams events, is refused, is answered 410, or hangs (connecting, or streaming silence). */
type Step =
  | { events: Array<WatchEvent<V1Pod>>; then?: 'end' | 'cut' }
  | { refused: true }
  | { status: number }
  | { hang: 'connecting' | 'streaming' };

// A pod on its node, as any pod a debug container is added to (one without a node waits Pending).
const podAt = (rv: string, state?: object): V1Pod => {
  const p = aPod('web').withNodeName('127.0.0.1').build() as V1Pod;
  p.metadata = { ...p.metadata, resourceVersion: rv };
  if (state) p.status = { ephemeralContainerStatuses: [{ name: 'dbg', image: 'busybox', imageID: '', ready: false, restartCount: 0, state }] };
  return p;
};
const modified = (rv: string, state?: object): WatchEvent<V1Pod> => ({ type: 'MODIFIED', object: podAt(rv, state) });
const refusedError = () => new PluginError('unreachable', 'cannot reach the API server https://127.0.0.1:6443 (ECONNREFUSED)');
// What KubeHttpClient turns an aborted request into: the conflation this suite guards against.
const abortedError = () => new PluginError('cancelled', 'cancelled');

/** A transport that plays one step per watch request (the last one again when the script runs out) and answers GETs with `pod`. */
function scriptedServer(steps: Step[], pod: V1Pod = podAt('50')) {
  const watches: string[] = [];
  const gets: number[] = [];
  let i = 0;
  const http = {
    async request(req: KubeRequest) {
      gets.push(watches.length);
      if (req.signal?.aborted) throw abortedError();
      return structuredClone(pod);
    },
    watch(req: KubeRequest, onEvent: (e: WatchEvent<V1Pod>) => boolean | void): Promise<boolean> {
      watches.push(String(req.query?.resourceVersion));
      const step = steps[Math.min(i++, steps.length - 1)]!;
      const signal = req.signal!;
      if ('refused' in step) return Promise.reject(refusedError());
      if ('status' in step) return Promise.reject(new ApiError(step.status, { message: `HTTP ${step.status}` }, 'GET', req.path));
      if ('hang' in step)
        return new Promise((resolve, reject) => {
          const onAbort = () => (step.hang === 'connecting' ? reject(abortedError()) : resolve(false));
          if (signal.aborted) onAbort();
          else signal.addEventListener('abort', onAbort, { once: true });
        });
      for (const e of step.events) if (onEvent(e) === true) return Promise.resolve(true);
      return step.then === 'cut' ? Promise.reject(refusedError()) : Promise.resolve(false);
    },
  };
  return { api: new ClusterApi(http as unknown as KubeHttpClient), watches, gets };
}

const runningCheck = (p: V1Pod) => (p.status?.ephemeralContainerStatuses?.[0]?.state?.running ? 'running' : undefined);

describe('ClusterApi.watchPod: deadline, cancel and restarts on a fake clock', () => {
  it('a deadline that passes while an attempt is still connecting is a timeout (undefined), not a cancel', async () => {
    const clock = new FakeClock();
    const { api } = scriptedServer([{ hang: 'connecting' }]);
    const result = await clock.runUntilSettled(api.watchPod('shop', 'web', '1', { deadline: 1, now: clock.now, sleep: clock.sleep }, runningCheck));
    expect(result).toBeUndefined();
    expect(clock.now()).toBe(1);
  });

  it('a deadline already past sends nothing and times out', async () => {
    const clock = new FakeClock();
    const { api, watches, gets } = scriptedServer([{ hang: 'streaming' }]);
    await expect(clock.runUntilSettled(api.watchPod('shop', 'web', '1', { deadline: 0, now: clock.now, sleep: clock.sleep }, runningCheck))).resolves.toBeUndefined();
    expect([watches, gets]).toEqual([[], []]);
  });

  it("the user's signal ends a silent watch at once with cancelled, the clock not moved", async () => {
    const clock = new FakeClock();
    const { api } = scriptedServer([{ hang: 'streaming' }]);
    const user = new AbortController();
    const watching = api.watchPod('shop', 'web', '1', { deadline: 120_000, signal: user.signal, now: clock.now, sleep: clock.sleep }, runningCheck);
    setImmediate(() => user.abort());
    const err = await clock.runUntilSettled(watching).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PluginError);
    expect((err as PluginError).kind).toBe('cancelled');
    expect(clock.now()).toBe(0);
  });

  it("the user's signal during a backoff (server away) is a cancel too", async () => {
    const clock = new FakeClock();
    const { api } = scriptedServer([{ refused: true }]);
    const user = new AbortController();
    const watching = api.watchPod('shop', 'web', '1', { deadline: 120_000, signal: user.signal, now: clock.now, sleep: clock.sleep }, runningCheck);
    setImmediate(() => user.abort());
    await expect(clock.runUntilSettled(watching)).rejects.toMatchObject({ kind: 'cancelled' });
  });

  it('an API server restart (stream cut, connections refused, then back): watches again from the last version with a doubling backoff and ends at the status', async () => {
    const clock = new FakeClock();
    const { api, watches } = scriptedServer([
      { events: [modified('7', { waiting: { reason: 'ContainerCreating' } })], then: 'cut' },
      { refused: true },
      { refused: true },
      { refused: true },
      { refused: true },
      { events: [modified('9', { running: {} })] },
    ]);
    const result = await clock.runUntilSettled(api.watchPod('shop', 'web', '5', { deadline: 120_000, now: clock.now, sleep: clock.sleep }, runningCheck));
    expect(result).toBe('running');
    expect(watches).toEqual(['5', '7', '7', '7', '7', '7']);
    // Each attempt sleeps until the deadline (cancelled when it ends), then the backoff after a failure.
    const backoffs = clock.slept.filter((ms, i) => i % 2 === 1);
    expect(backoffs).toEqual([250, 500, 1000, 2000, 2000]);
    expect(clock.now()).toBe(5750);
  });

  it('a deadline that passes while the API server is still away is a timeout; no backoff runs past it', async () => {
    const clock = new FakeClock();
    const { api } = scriptedServer([{ refused: true }]);
    const result = await clock.runUntilSettled(api.watchPod('shop', 'web', '5', { deadline: 2_100, now: clock.now, sleep: clock.sleep }, runningCheck));
    expect(result).toBeUndefined();
    expect(clock.now()).toBe(2_100);
    // 250 + 500 + 1000 = 1750, then only the 350 left.
    expect(clock.slept.filter((ms, i) => i % 2 === 1)).toEqual([250, 500, 1000, 350]);
  });

  it('410 Gone (a version too old after the restart): the pod is read again and watched from its version', async () => {
    const clock = new FakeClock();
    const { api, watches, gets } = scriptedServer([{ status: 410 }, { events: [modified('60', { running: {} })] }], podAt('50', { waiting: { reason: 'ContainerCreating' } }));
    const result = await clock.runUntilSettled(api.watchPod('shop', 'web', '5', { deadline: 120_000, now: clock.now, sleep: clock.sleep }, runningCheck));
    expect(result).toBe('running');
    expect(watches).toEqual(['5', '50']);
    expect(gets).toEqual([1]);
  });

  it('an ERROR event (410 inside the stream) reads the pod again too', async () => {
    const clock = new FakeClock();
    const gone = { type: 'ERROR', object: { code: 410 } } as unknown as WatchEvent<V1Pod>;
    const { api, watches } = scriptedServer([{ events: [gone] }, { events: [modified('61', { running: {} })] }], podAt('51'));
    await expect(clock.runUntilSettled(api.watchPod('shop', 'web', '5', { deadline: 120_000, now: clock.now, sleep: clock.sleep }, runningCheck))).resolves.toBe('running');
    expect(watches).toEqual(['5', '51']);
  });

  it('a refusal that waiting will not change (403) fails at once', async () => {
    const clock = new FakeClock();
    const { api } = scriptedServer([{ status: 403 }]);
    await expect(clock.runUntilSettled(api.watchPod('shop', 'web', '5', { deadline: 120_000, now: clock.now, sleep: clock.sleep }, runningCheck))).rejects.toMatchObject({ kind: 'forbidden' });
    expect(clock.now()).toBe(0);
  });
});

describe('waitForContainer ending as the exit code table says', () => {
  const ref = { pod: 'web', container: 'dbg', ephemeral: true };
  const conn = (api: ClusterApi) => ({ api, target: { namespace: 'shop' } }) as unknown as Connection;

  it('--timeout 1ms with the watch still connecting: the timeout error, exit 75, naming the container and the fix', async () => {
    const clock = new FakeClock();
    const { api } = scriptedServer([{ hang: 'connecting' }]);
    const result = await clock.runUntilSettled(waitForContainer(conn(api), ref, { until: 'started', timeoutMs: 1, now: clock.now, sleep: clock.sleep, signal: new AbortController().signal }));
    expect(result).toEqual({ state: undefined, lastReason: '', pod: undefined });
    let err: unknown;
    try {
      requireStarted(result, ref, 'shop', 'busybox');
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ kind: 'timeout', exitCode: 75 });
    expect((err as Error).message).toBe('container "dbg" of pod "web" did not start within --timeout (last state: no status yet); check the node with kubectl describe pod web -n shop, or raise --timeout');
  });

  it('a wait that spans an API server restart and is still waiting at its deadline: the timeout, with the last state seen before the restart', async () => {
    const clock = new FakeClock();
    const { api } = scriptedServer([{ events: [modified('7', { waiting: { reason: 'ContainerCreating' } })], then: 'cut' }, { refused: true }, { refused: true }, { hang: 'streaming' }]);
    const result = await clock.runUntilSettled(waitForContainer(conn(api), ref, { until: 'started', timeoutMs: 120_000, now: clock.now, sleep: clock.sleep, signal: new AbortController().signal }));
    expect(result).toMatchObject({ state: undefined, lastReason: 'ContainerCreating' });
    expect(clock.now()).toBe(120_000);
  });

  it("Ctrl-C: cancelled, exit 130, naming the container", async () => {
    const clock = new FakeClock();
    const { api } = scriptedServer([{ hang: 'streaming' }]);
    const user = new AbortController();
    const waiting = waitForContainer(conn(api), ref, { until: 'started', timeoutMs: 120_000, now: clock.now, sleep: clock.sleep, signal: user.signal });
    setImmediate(() => user.abort());
    const err = await clock.runUntilSettled(waiting).catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'cancelled', exitCode: 130, message: 'cancelled while waiting for container "dbg" of pod "web"' });
  });
});
