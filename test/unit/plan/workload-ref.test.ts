import type { V1Pod } from '@kubernetes/client-node';
import { PluginError } from '../../../src/errors/plugin-error';
import { choosePod, parsePodRef, selectorQuery, type PodRef } from '../../../src/plan/workload-ref';
import { aPod } from '../../support/builders';

describe('parsePodRef (POD arguments as kubectl exec and logs take them)', () => {
  it.each<[string, PodRef]>([
    ['web-7d4b9', { kind: 'pod', name: 'web-7d4b9' }],
    ['pod/web-7d4b9', { kind: 'pod', name: 'web-7d4b9' }],
    ['po/web-7d4b9', { kind: 'pod', name: 'web-7d4b9' }],
    ['pods/web-7d4b9', { kind: 'pod', name: 'web-7d4b9' }],
    ['deploy/web', { kind: 'deployment', name: 'web' }],
    ['deployment/web', { kind: 'deployment', name: 'web' }],
    ['deployments/web', { kind: 'deployment', name: 'web' }],
    ['deployments.apps/web', { kind: 'deployment', name: 'web' }],
    ['deployment.v1.apps/web', { kind: 'deployment', name: 'web' }],
    ['Deployment/web', { kind: 'deployment', name: 'web' }],
    ['sts/db', { kind: 'statefulset', name: 'db' }],
    ['statefulsets.apps/db', { kind: 'statefulset', name: 'db' }],
    ['ds/agent', { kind: 'daemonset', name: 'agent' }],
    ['daemonset/agent', { kind: 'daemonset', name: 'agent' }],
    ['rs/web-7d4b9', { kind: 'replicaset', name: 'web-7d4b9' }],
    ['replicasets/web-7d4b9', { kind: 'replicaset', name: 'web-7d4b9' }],
    ['job/migrate', { kind: 'job', name: 'migrate' }],
    ['jobs.batch/migrate', { kind: 'job', name: 'migrate' }],
  ])('%s', (text, expected) => {
    expect(parsePodRef(text)).toEqual(expected);
  });

  it.each([
    ['svc/web', 'cannot debug "svc/web": use a pod name or pod/, deploy/, sts/, ds/, rs/ or job/ followed by a name'],
    ['deployments.batch/web', 'cannot debug "deployments.batch/web": use a pod name or pod/, deploy/, sts/, ds/, rs/ or job/ followed by a name'],
    ['deploy/', '"deploy/" names no deployment; use deploy/NAME'],
    ['deploy/a/b', '"deploy/a/b" names no deployment; use deploy/NAME'],
  ])('refuses %s in one line (exit 64)', (text, message) => {
    let caught: unknown;
    try {
      parsePodRef(text);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(PluginError);
    expect({ kind: (caught as PluginError).kind, message: (caught as PluginError).message }).toEqual({ kind: 'usage', message });
  });
});

describe('selectorQuery', () => {
  it.each([
    [{ matchLabels: { app: 'web' } }, 'app=web'],
    [
      {
        matchLabels: { app: 'web', tier: 'front' },
        matchExpressions: [
          { key: 'track', operator: 'In', values: ['stable', 'canary'] },
          { key: 'env', operator: 'NotIn', values: ['dev'] },
          { key: 'owner', operator: 'Exists' },
          { key: 'legacy', operator: 'DoesNotExist' },
        ],
      },
      'app=web,tier=front,track in (stable,canary),env notin (dev),owner,!legacy',
    ],
    [{}, undefined],
    [undefined, undefined],
  ])('%j', (selector, expected) => {
    expect(selectorQuery(selector)).toBe(expected);
  });
});

describe('choosePod (which pod of a workload)', () => {
  const cond = (ready: boolean) => [{ type: 'Ready', status: ready ? 'True' : 'False' }];
  const pod = (name: string, created: string, status: Record<string, unknown>) => {
    const p = aPod(name).withContainer('app').withStatus(status).build() as V1Pod;
    p.metadata!.creationTimestamp = created as unknown as Date;
    return p;
  };
  const readyOld = pod('web-a', '2026-11-30T08:00:00Z', { phase: 'Running', conditions: cond(true), containerStatuses: [{ name: 'app', restartCount: 0, state: { running: {} } }] });
  const readyNew = pod('web-b', '2026-11-30T09:00:00Z', { phase: 'Running', conditions: cond(true), containerStatuses: [{ name: 'app', restartCount: 0, state: { running: {} } }] });
  const notReady = pod('web-c', '2026-11-30T07:00:00Z', { phase: 'Running', conditions: cond(false), containerStatuses: [{ name: 'app', restartCount: 0, state: { running: {} } }] });
  const crashing = pod('web-d', '2026-11-30T09:30:00Z', {
    phase: 'Running',
    conditions: cond(false),
    containerStatuses: [{ name: 'app', restartCount: 3, state: { waiting: { reason: 'CrashLoopBackOff' } }, lastState: { terminated: { exitCode: 1 } } }],
  });
  const initCrashing = pod('web-e', '2026-11-30T06:00:00Z', {
    phase: 'Pending',
    initContainerStatuses: [{ name: 'init', restartCount: 2, state: { waiting: { reason: 'CrashLoopBackOff' } }, lastState: { terminated: { exitCode: 1 } } }],
  });
  initCrashing.spec!.initContainers = [{ name: 'init', image: 'busybox:1.36' }];
  const readySooner = pod('web-i', '2026-11-30T08:30:00Z', { phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: '2026-11-30T08:31:00Z' }] });
  const restartedReady = pod('web-j', '2026-11-30T08:00:00Z', {
    phase: 'Running',
    conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: '2026-11-30T08:31:00Z' }],
    containerStatuses: [{ name: 'app', restartCount: 2, state: { running: {} } }],
  });
  readyOld.status!.conditions = [{ type: 'Ready', status: 'True', lastTransitionTime: '2026-11-30T09:10:00Z' as unknown as Date }];
  const done = pod('web-f', '2026-11-30T05:00:00Z', { phase: 'Succeeded' });
  const failed = pod('web-g', '2026-11-30T05:00:00Z', { phase: 'Failed' });
  const deleting = pod('web-h', '2026-11-30T05:00:00Z', { phase: 'Running', conditions: cond(true) });
  deleting.metadata!.deletionTimestamp = '2026-11-30T09:40:00Z' as unknown as Date;

  it.each<[string, V1Pod[], { preferFailing?: boolean }, string | undefined]>([
    ['a ready pod before a running unready one; ready for longer first (no time: last)', [notReady, readyNew, readyOld, crashing], {}, 'web-a'],
    ['a running unready pod before a pending one', [initCrashing, notReady], {}, 'web-c'],
    ['of two ready pods, the one ready for longer, however old', [readyOld, readySooner], {}, 'web-i'],
    ['of two ready at the same time, the one with fewer restarts', [restartedReady, readySooner], {}, 'web-i'],
    ['crashloop: a pod with a failing container first, the one with more restarts first', [readyOld, initCrashing, crashing], { preferFailing: true }, 'web-d'],
    ['crashloop: a pod stuck in an init container counts as failing', [readyOld, initCrashing], { preferFailing: true }, 'web-e'],
    ['crashloop with nothing failing: the ready pod', [notReady, readyOld], { preferFailing: true }, 'web-a'],
    ['never a finished or terminating pod', [done, failed, deleting], {}, undefined],
  ])('%s', (_what, pods, opts, expected) => {
    expect(choosePod(pods, opts)?.metadata?.name).toBe(expected);
  });
});
