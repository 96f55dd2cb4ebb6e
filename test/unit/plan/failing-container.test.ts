import type { V1Pod } from '@kubernetes/client-node';
import { describeFailing, failingContainers, podsWithFailingContainers, type FailingContainer } from '../../../src/plan/failing-container';
import { chooseTargetContainer } from '../../../src/plan/debug-container';
import { aPod } from '../../support/builders';

const at = '2026-11-30T09:00:00Z';
const running = (name: string, restarts = 0, lastExit?: number) => ({
  name,
  restartCount: restarts,
  state: { running: { startedAt: at } },
  ...(lastExit !== undefined ? { lastState: { terminated: { exitCode: lastExit, reason: lastExit ? 'Error' : 'Completed', finishedAt: at } } } : {}),
});
const backOff = (name: string, exitCode = 1, restarts = 4) => ({
  name,
  restartCount: restarts,
  state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 40s' } },
  lastState: { terminated: { exitCode, reason: 'Error', finishedAt: at } },
});
const exited = (name: string, exitCode: number, reason = exitCode ? 'Error' : 'Completed') => ({ name, restartCount: 0, state: { terminated: { exitCode, reason, finishedAt: at } } });
const waiting = (name: string, reason: string) => ({ name, restartCount: 0, state: { waiting: { reason } } });

// A pod with one classic init container, one sidecar (restartable init container) and two main containers.
const base = () =>
  aPod('web')
    .withInitContainer('init-myservice', { command: ['sh', '-c', 'until nslookup myservice; do sleep 2; done'] })
    .withInitContainer('proxy', { restartPolicy: 'Always' })
    .withContainer('app')
    .withContainer('logger');
const withStatus = (init: object[], main: object[]) => base().withStatus({ initContainerStatuses: init, containerStatuses: main }).build() as V1Pod;

describe('failingContainers (the container crashloop debugs by default)', () => {
  it.each<[string, V1Pod, FailingContainer[]]>([
    [
      'Init:CrashLoopBackOff: the init container, not the main one waiting in PodInitializing',
      withStatus([backOff('init-myservice', 1, 4), waiting('proxy', 'PodInitializing')], [waiting('app', 'PodInitializing'), waiting('logger', 'PodInitializing')]),
      [{ name: 'init-myservice', kind: 'init', status: 'Init:CrashLoopBackOff', restarts: 4, lastExit: { exitCode: 1, reason: 'Error' } }],
    ],
    [
      'Init:Error (restartPolicy Never): the init container that exited non-zero',
      withStatus([exited('init-myservice', 2)], [waiting('app', 'PodInitializing'), waiting('logger', 'PodInitializing')]),
      [{ name: 'init-myservice', kind: 'init', status: 'Init:Error', restarts: 0, lastExit: { exitCode: 2, reason: 'Error' } }],
    ],
    [
      'a crash-looping sidecar while the main containers run',
      withStatus([exited('init-myservice', 0), backOff('proxy', 137, 7)], [running('app'), running('logger')]),
      [{ name: 'proxy', kind: 'sidecar', status: 'Init:CrashLoopBackOff', restarts: 7, lastExit: { exitCode: 137, reason: 'Error' } }],
    ],
    [
      'the second main container, in back-off, before the first one running again after a failure',
      withStatus([exited('init-myservice', 0), running('proxy')], [running('app', 2, 1), backOff('logger', 3, 9)]),
      [
        { name: 'logger', kind: 'main', status: 'CrashLoopBackOff', restarts: 9, lastExit: { exitCode: 3, reason: 'Error' } },
        { name: 'app', kind: 'main', status: 'Running', restarts: 2, lastExit: { exitCode: 1, reason: 'Error' } },
      ],
    ],
    [
      'a main container that cannot be created (config error) fails without ever exiting',
      withStatus([exited('init-myservice', 0), running('proxy')], [waiting('app', 'CreateContainerConfigError'), running('logger')]),
      [{ name: 'app', kind: 'main', status: 'CreateContainerConfigError', restarts: 0 }],
    ],
    [
      'nothing: a completed init container, restarts after clean exits, containers starting',
      withStatus([exited('init-myservice', 0), running('proxy', 1, 0)], [running('app', 3, 0), waiting('logger', 'ContainerCreating')]),
      [],
    ],
    ['nothing: a pod without statuses yet', base().build() as V1Pod, []],
  ])('%s', (_what, pod, expected) => {
    expect(failingContainers(pod)).toEqual(expected);
  });

  it('describes a failing container in one phrase, for the notice and the pod picker', () => {
    expect(describeFailing({ name: 'init-myservice', kind: 'init', status: 'Init:CrashLoopBackOff', restarts: 4, lastExit: { exitCode: 1, reason: 'Error' } })).toBe(
      'init container "init-myservice": Init:CrashLoopBackOff, last exit 1 (Error), 4 restart(s)',
    );
    expect(describeFailing({ name: 'proxy', kind: 'sidecar', status: 'Init:CreateContainerError', restarts: 0 })).toBe('sidecar "proxy": Init:CreateContainerError, 0 restart(s)');
  });

  it('-c still names any container, an init container included (the article: --container=init-myservice)', () => {
    const pod = withStatus([backOff('init-myservice')], []);
    expect(chooseTargetContainer(pod, 'init-myservice').name).toBe('init-myservice');
  });
});

describe('podsWithFailingContainers (crashloop without a pod)', () => {
  it('lists the failing pods by name with the container to debug, leaving healthy and deleted pods out', () => {
    const healthy = aPod('api').withContainer('app').withStatus({ containerStatuses: [running('app')] }).build() as V1Pod;
    const worker = aPod('worker').withContainer('app').withStatus({ containerStatuses: [backOff('app', 137, 2)] }).build() as V1Pod;
    const web = withStatus([backOff('init-myservice', 1, 4)], []);
    const going = aPod('old').withContainer('app').withStatus({ containerStatuses: [backOff('app')] }).build() as V1Pod;
    going.metadata!.deletionTimestamp = at as unknown as Date;
    expect(podsWithFailingContainers([worker, healthy, going, web])).toEqual([
      { pod: web, failing: { name: 'init-myservice', kind: 'init', status: 'Init:CrashLoopBackOff', restarts: 4, lastExit: { exitCode: 1, reason: 'Error' } } },
      { pod: worker, failing: { name: 'app', kind: 'main', status: 'CrashLoopBackOff', restarts: 2, lastExit: { exitCode: 137, reason: 'Error' } } },
    ]);
  });
});
