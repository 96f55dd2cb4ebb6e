import type { V1Pod } from '@kubernetes/client-node';
import { buildEphemeralContainer } from '../../../src/plan/debug-container';
import { chooseReusable } from '../../../src/plan/reuse-choice';
import { PresetRegistry } from '../../../src/presets/registry';
import { aPod } from '../../support/builders';

const presets = PresetRegistry.from();
const at = '2026-11-30T09:00:00Z';
type Existing = { name: string; state: 'running' | 'terminated' | 'waiting'; preset?: string; user?: string; image?: string; reason?: string; target?: string; startedAt?: string };

/** What the API server returns after the plugin added these containers: its own fields, plus the defaults it sets. */
function podWith(existing: Existing[]): V1Pod {
  const base = aPod('web').withContainer('app', { securityContext: { runAsUser: 1000 } }).withContainer('sidecar').build() as V1Pod;
  const planned = (e: Existing) =>
    buildEphemeralContainer(base, { preset: presets.get(e.preset ?? 'process'), image: e.image, container: e.target, name: e.name, stamp: { user: e.user ?? 'alice', reason: e.reason } }, 'x').container;
  const containers = existing.map(planned);
  base.spec!.ephemeralContainers = containers.map((c) => ({ ...c, imagePullPolicy: 'IfNotPresent', terminationMessagePath: '/dev/termination-log' }));
  base.status = {
    ephemeralContainerStatuses: existing.map((e, i) => ({
      name: e.name,
      image: containers[i]!.image!,
      imageID: '',
      ready: false,
      restartCount: 0,
      state: e.state === 'running' ? { running: { startedAt: (e.startedAt ?? at) as unknown as Date } } : e.state === 'waiting' ? { waiting: { reason: 'ContainerCreating' } } : { terminated: { exitCode: 0, reason: 'Completed' } },
    })),
  };
  return base;
}
const wanted = (pod: V1Pod, over: { preset?: string; user?: string; reason?: string; image?: string; container?: string; command?: string[] } = {}) =>
  buildEphemeralContainer(pod, { preset: presets.get(over.preset ?? 'process'), image: over.image, container: over.container, command: over.command, stamp: { user: over.user ?? 'alice', reason: over.reason } }, 'new').container;
const chosen = (pod: V1Pod, over: Parameters<typeof wanted>[1] = {}) => {
  const c = chooseReusable(pod, wanted(pod, over));
  return c.reuse ? c.reuse.name : `none: ${c.why}`;
};

describe('chooseReusable (attach to your running debug container instead of piling up another)', () => {
  it.each<[string, Existing[], Parameters<typeof wanted>[1], string]>([
    ['the running one of the same user, preset and image, server defaults and a new --reason notwithstanding', [{ name: 'd1', state: 'running', reason: 'INC-1' }], { reason: 'INC-2' }, 'd1'],
    // The API server lists a new container first: the start time decides, not the order.
    ['the one started last of two running matches', [{ name: 'd2', state: 'running', startedAt: '2026-11-30T09:05:00Z' }, { name: 'd1', state: 'running' }], {}, 'd2'],
    ['the one started last, listed last', [{ name: 'd1', state: 'running' }, { name: 'd2', state: 'running', startedAt: '2026-11-30T09:05:00Z' }], {}, 'd2'],
    ['never an exited one', [{ name: 'd1', state: 'terminated' }], {}, 'none: your earlier one has exited'],
    ['never one still starting', [{ name: 'd1', state: 'waiting' }, { name: 'd2', state: 'terminated' }], {}, 'none: your earlier 2 have exited'],
    ['not another user\'s', [{ name: 'd1', state: 'running', user: 'bob' }], {}, 'none: no debug container of yours with this preset and image'],
    ['not another preset\'s', [{ name: 'd1', state: 'running', preset: 'shell' }], {}, 'none: no debug container of yours with this preset and image'],
    ['not another image', [{ name: 'd1', state: 'running', image: 'mirror.local/busybox:1.36' }], {}, 'none: no debug container of yours with this preset and image'],
    ['not one targeting another container', [{ name: 'd1', state: 'running', target: 'sidecar' }], {}, 'none: no debug container of yours with this preset and image'],
    ['not one running the preset command when a command is asked for', [{ name: 'd1', state: 'running' }], { command: ['top'] }, 'none: no debug container of yours with this preset and image'],
  ])('%s', (_what, existing, over, expected) => {
    expect(chosen(podWith(existing), over)).toBe(expected);
  });

  it('reuses nothing when the API server did not say who the user is', () => {
    const pod = podWith([{ name: 'd1', state: 'running' }]);
    const anonymous = buildEphemeralContainer(pod, { preset: presets.get('process') }, 'new').container;
    expect(chooseReusable(pod, anonymous)).toEqual({ reuse: undefined, why: 'the API server did not say who you are, so no container can be proven yours' });
  });
});
