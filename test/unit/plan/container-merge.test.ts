import type { V1Container } from '@kubernetes/client-node';
import { mergeContainer, type PartialContainer } from '../../../src/plan/container-merge';

const base: V1Container = {
  name: 'dbg',
  image: 'busybox:1',
  command: ['sh'],
  env: [{ name: 'A', value: '1' }, { name: 'B', value: '2' }],
  volumeMounts: [{ name: 'data', mountPath: '/data' }],
  securityContext: { runAsUser: 1000, capabilities: { drop: ['ALL'], add: ['NET_RAW'] } },
};

describe('mergeContainer: kubectl --custom\'s strategic merge over a container', () => {
  it.each<[string, PartialContainer[], V1Container]>([
    ['nothing', [], base],
    ['env merged by name: replaced in place, new ones appended', [{ env: [{ name: 'B', value: 'x' }, { name: 'C', value: '3' }] }], { ...base, env: [{ name: 'A', value: '1' }, { name: 'B', value: 'x' }, { name: 'C', value: '3' }] }],
    ['objects merged field by field; plain lists replaced', [{ securityContext: { runAsUser: 0, capabilities: { add: ['SYS_PTRACE'] } } }], { ...base, securityContext: { runAsUser: 0, capabilities: { drop: ['ALL'], add: ['SYS_PTRACE'] } } }],
    ['null removes a field', [{ securityContext: { capabilities: null }, workingDir: '/tmp' }], { ...base, securityContext: { runAsUser: 1000 }, workingDir: '/tmp' }],
    ['volumeMounts merged by mountPath', [{ volumeMounts: [{ mountPath: '/data', readOnly: true }, { name: 'tmp', mountPath: '/tmp' }] }], { ...base, volumeMounts: [{ name: 'data', mountPath: '/data', readOnly: true }, { name: 'tmp', mountPath: '/tmp' }] }],
    ['in order: a later partial wins', [{ imagePullPolicy: 'Never' }, { imagePullPolicy: 'Always' }], { ...base, imagePullPolicy: 'Always' }],
  ])('%s', (_what, partials, want) => {
    const before = structuredClone(base);
    expect(mergeContainer(base, partials)).toEqual(want);
    expect(base).toEqual(before);
  });
});
