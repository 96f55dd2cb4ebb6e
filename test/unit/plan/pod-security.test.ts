import type { V1Pod } from '@kubernetes/client-node';
import { buildEphemeralContainer } from '../../../src/plan/debug-container';
import { enforcedLevel, evaluatePodSecurity } from '../../../src/plan/pod-security';
import { PresetRegistry } from '../../../src/presets/registry';
import { aPod, restrictedContainer } from '../../support/builders';

const presets = PresetRegistry.from();
const restrictedPod = aPod('web').withRestrictedSecurity().withContainer('app', restrictedContainer({ securityContext: { runAsUser: 1000 } })).build() as V1Pod;
const plainPod = aPod('web').withContainer('app').build() as V1Pod;
const container = (pod: V1Pod, preset: string, extra = {}) => buildEphemeralContainer(pod, { preset: presets.get(preset), ...extra }, 'abcde').container;

describe('evaluatePodSecurity', () => {
  it.each([
    ['network', 'baseline', ['capabilities']],
    ['network', 'restricted', ['capabilities', 'runAsNonRoot', 'runAsUser']],
    ['shell', 'restricted', []],
    ['forensics', 'restricted', []],
    ['process', 'restricted', []],
    ['crashloop', 'restricted', []],
    ['network', 'privileged', []],
  ] as const)('%s in a %s namespace violates %j', (preset, level, checks) => {
    const v = evaluatePodSecurity(restrictedPod, container(restrictedPod, preset), level);
    expect([...new Set(v.map((x) => x.check))].sort()).toEqual([...checks].sort());
    expect(v.every((x) => x.isNew)).toBe(true);
  });

  it('names the field of the new container', () => {
    const v = evaluatePodSecurity(restrictedPod, container(restrictedPod, 'net'), 'baseline');
    expect(v).toEqual([
      {
        check: 'capabilities',
        field: 'spec.ephemeralContainers[0].securityContext.capabilities.add',
        container: 'debugger-network-abcde',
        isNew: true,
        message: 'container "debugger-network-abcde" adds NET_ADMIN, NET_RAW',
      },
    ]);
  });

  it('--privileged breaks baseline', () => {
    expect(evaluatePodSecurity(plainPod, container(plainPod, 'shell', { privileged: true }), 'baseline').map((x) => x.check)).toEqual(['privileged']);
  });

  it('an earlier non-compliant debug container is reported as not new (the whole-pod trap)', () => {
    const trapped = aPod('web')
      .withRestrictedSecurity()
      .withContainer('app', restrictedContainer())
      .withEphemeralContainer('debugger-old', { securityContext: { privileged: true } })
      .build() as V1Pod;
    const v = evaluatePodSecurity(trapped, container(trapped, 'shell'), 'baseline');
    expect(v).toEqual([expect.objectContaining({ check: 'privileged', container: 'debugger-old', isNew: false, field: 'spec.ephemeralContainers[0].securityContext.privileged' })]);
  });

  it('pod-level host namespaces and hostPath volumes break baseline', () => {
    const host = aPod('web').withSpec({ hostNetwork: true }).withVolume({ name: 'root', hostPath: { path: '/' } }).withContainer('app').build() as V1Pod;
    expect(evaluatePodSecurity(host, undefined, 'baseline').map((x) => x.check)).toEqual(['hostNamespaces', 'hostPathVolumes']);
  });

  it('reads the enforce label', () => {
    expect(enforcedLevel({ 'pod-security.kubernetes.io/enforce': 'restricted' })).toBe('restricted');
    expect(enforcedLevel({ 'pod-security.kubernetes.io/warn': 'restricted' })).toBe('privileged');
    expect(enforcedLevel(undefined)).toBe('privileged');
  });
});
