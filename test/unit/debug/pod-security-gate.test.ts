import type { V1Pod } from '@kubernetes/client-node';
import { checkPodSecurity, presetLevelFix } from '../../../src/debug/pod-security-gate';
import { planForLevel } from '../../../src/plan/level-form';
import { PresetRegistry } from '../../../src/presets/registry';
import { parseUserPresets } from '../../../src/presets/user-presets';
import { aPod, restrictedContainer } from '../../support/builders';

const presets = PresetRegistry.from();
const compliant = aPod('web').withRestrictedSecurity().withContainer('app', restrictedContainer()).build() as V1Pod;
const rootApp = aPod('web').withContainer('app', { securityContext: { runAsUser: 0 } }).build() as V1Pod;

describe('the Pod Security gate', () => {
  it.each([
    [
      'network forced to its privileged form in a restricted namespace',
      compliant,
      'network',
      { level: 'privileged' as const },
      'namespace "shop" enforces Pod Security "restricted": the debug container violates capabilities (spec.ephemeralContainers[0].securityContext.capabilities.add: container "debugger-network-abcde" adds NET_ADMIN, NET_RAW); drop --level to let the plugin choose the form "restricted" allows',
    ],
    [
      'shell --run-as root in a restricted namespace',
      compliant,
      'shell',
      { runAs: true },
      'namespace "shop" enforces Pod Security "restricted": the debug container violates runAsNonRoot (spec.ephemeralContainers[0].securityContext.runAsNonRoot: container "debugger-shell-abcde" must set runAsNonRoot=true); drop --run-as or choose a user "restricted" allows (non-root)',
    ],
    [
      'any preset on a root pod that predates the restricted label',
      rootApp,
      'process',
      {},
      'namespace "shop" enforces Pod Security "restricted": pod "web" violates allowPrivilegeEscalation (spec.containers[0].securityContext.allowPrivilegeEscalation: container "app" must set allowPrivilegeEscalation=false); Pod Security checks the whole pod, so no debug container can be added until the pod complies or the namespace admits it',
    ],
  ])('%s: one line naming the level, the field and the fix', (_t, pod, preset, explicit, message) => {
    const plan = planForLevel(pod, { preset: presets.get(preset), ...('runAs' in explicit ? { runAs: { kind: 'root' as const } } : {}) }, 'restricted', 'abcde', 'level' in explicit ? explicit.level : undefined);
    expect(() => checkPodSecurity(pod, plan.container, 'restricted', 'shop', presetLevelFix('restricted', { runAs: 'runAs' in explicit, level: 'level' in explicit ? '--level' : undefined }))).toThrow(message);
  });

  it('a user preset with no form the level admits says so and where to look', async () => {
    const registry = PresetRegistry.from(await parseUserPresets('/p.yaml', 'presets:\n  sniff:\n    image: a\n    runAs: root\n    capabilities: [NET_ADMIN]\n'));
    const plan = planForLevel(compliant, { preset: registry.get('sniff') }, 'baseline', 'abcde');
    expect(() => checkPodSecurity(compliant, plan.container, 'baseline', 'shop', presetLevelFix('baseline', {}))).toThrow(
      'namespace "shop" enforces Pod Security "baseline": the debug container violates capabilities (spec.ephemeralContainers[0].securityContext.capabilities.add: container "debugger-sniff-abcde" adds NET_ADMIN); this preset has no form that "baseline" allows; use one that does (kubectl ephemeral presets -o wide) or debug in a namespace with a laxer level',
    );
  });

  it('lets through what the level admits', () => {
    const plan = planForLevel(compliant, { preset: presets.get('network') }, 'restricted', 'abcde');
    expect(() => checkPodSecurity(compliant, plan.container, 'restricted', 'shop', 'unused')).not.toThrow();
  });
});
