import type { V1Pod } from '@kubernetes/client-node';
import { describeSecurityContext, planForLevel } from '../../../src/plan/level-form';
import { evaluatePodSecurity } from '../../../src/plan/pod-security';
import { capturePreset } from '../../../src/presets/builtin';
import { LINUX_CAPABILITIES, type PodSecurityLevel } from '../../../src/presets/preset';
import { PresetRegistry } from '../../../src/presets/registry';
import { aPod, restrictedContainer } from '../../support/builders';

const presets = PresetRegistry.from();
const hardened = { allowPrivilegeEscalation: false, seccompProfile: { type: 'RuntimeDefault' } };
const stamp = (preset: string) => [{ name: 'KUBECTL_EPHEMERAL_PRESET', value: preset }];
const NETSHOOT = 'docker.io/nicolaka/netshoot:v0.13';
const BUSYBOX = 'docker.io/library/busybox:1.36';
/** Everything but these, as the drop list of a form that keeps them from the runtime's defaults. */
const dropAllBut = (...kept: string[]) => LINUX_CAPABILITIES.filter((c) => !kept.includes(c));

// A non-root app (uid 1000 in its spec), and a root app whose user only the node reports (status.user).
const nonRootPod = aPod('web').withRestrictedSecurity().withContainer('app', restrictedContainer({ securityContext: { runAsUser: 1000, runAsGroup: 3000 } })).build() as V1Pod;
const rootPod = aPod('web')
  .withContainer('app')
  .withStatus({ containerStatuses: [{ name: 'app', ready: true, restartCount: 0, image: 'busybox', imageID: '', user: { linux: { uid: 0, gid: 0 } }, state: { running: {} } }] })
  .build() as V1Pod;
const cappedRootPod = aPod('web')
  .withContainer('app', { securityContext: { runAsUser: 0, capabilities: { drop: ['ALL'], add: ['CHOWN', 'NET_BIND_SERVICE'] } } })
  .build() as V1Pod;

describe('planForLevel: the strongest form of a preset the level admits', () => {
  it.each([
    [
      'network, privileged: root with NET_ADMIN, NET_RAW, SETGID',
      'network',
      nonRootPod,
      'privileged',
      undefined,
      {
        formLevel: 'privileged',
        container: {
          securityContext: { ...hardened, capabilities: { drop: ['ALL'], add: ['NET_ADMIN', 'NET_RAW', 'SETGID'] }, runAsUser: 0, runAsGroup: 0, runAsNonRoot: false },
        },
        choice: undefined,
      },
    ],
    [
      "network, baseline: root keeping the runtime's NET_RAW and SETGID, dropping every other capability",
      'network',
      nonRootPod,
      'baseline',
      undefined,
      {
        formLevel: 'baseline',
        container: { securityContext: { ...hardened, capabilities: { drop: dropAllBut('NET_RAW', 'SETGID') }, runAsUser: 0, runAsGroup: 0, runAsNonRoot: false } },
        choice:
          'Pod Security "baseline": the debug container runs as root keeping only NET_RAW, SETGID of the runtime\'s default capabilities; it cannot change links and routes (ip link set, ip route add): needs NET_ADMIN (privileged only); it can capture packets (tcpdump -Z root), ping, reach the app, list sockets and addresses (curl, ss, ip addr)',
      },
    ],
    [
      'network, restricted: nobody without capabilities, working directory /',
      'network',
      nonRootPod,
      'restricted',
      undefined,
      {
        formLevel: 'restricted',
        container: { workingDir: '/', securityContext: { ...hardened, capabilities: { drop: ['ALL'] }, runAsUser: 65534, runAsGroup: 65534, runAsNonRoot: true } },
        choice:
          'Pod Security "restricted": the debug container runs as uid 65534 without capabilities; it cannot capture packets (tcpdump -Z root) or ping: needs NET_RAW as root; change links and routes (ip link set, ip route add): needs NET_ADMIN (privileged only); it can reach the app, list sockets and addresses (curl, ss, ip addr)',
      },
    ],
    [
      'network, --level restricted in a privileged namespace: the restricted form, said so',
      'network',
      nonRootPod,
      'privileged',
      'restricted',
      {
        formLevel: 'restricted',
        container: { workingDir: '/', securityContext: { ...hardened, capabilities: { drop: ['ALL'] }, runAsUser: 65534, runAsGroup: 65534, runAsNonRoot: true } },
        choice:
          '--level restricted: the debug container runs as uid 65534 without capabilities; it cannot capture packets (tcpdump -Z root) or ping: needs NET_RAW as root; change links and routes (ip link set, ip route add): needs NET_ADMIN (privileged only); it can reach the app, list sockets and addresses (curl, ss, ip addr)',
      },
    ],
    [
      "forensics on a root target, baseline: root with the target's own (default) capabilities",
      'forensics',
      rootPod,
      'baseline',
      undefined,
      { formLevel: 'privileged', container: { securityContext: { ...hardened, readOnlyRootFilesystem: true, runAsUser: 0, runAsGroup: 0, runAsNonRoot: false } }, choice: undefined },
    ],
    [
      "process on a root target that drops ALL and adds CHOWN, NET_BIND_SERVICE: exactly those",
      'process',
      cappedRootPod,
      'baseline',
      undefined,
      {
        formLevel: 'privileged',
        container: { securityContext: { ...hardened, capabilities: { drop: ['ALL'], add: ['CHOWN', 'NET_BIND_SERVICE'] }, runAsUser: 0, runAsNonRoot: false } },
        choice: undefined,
      },
    ],
    [
      'process on a non-root target, restricted: its uid and gid, no capabilities',
      'process',
      nonRootPod,
      'restricted',
      undefined,
      { formLevel: 'privileged', container: { securityContext: { ...hardened, capabilities: { drop: ['ALL'] }, runAsUser: 1000, runAsGroup: 3000, runAsNonRoot: true } }, choice: undefined },
    ],
    [
      'shell, restricted: its own form already complies',
      'shell',
      nonRootPod,
      'restricted',
      undefined,
      { formLevel: 'privileged', container: { securityContext: { ...hardened, capabilities: { drop: ['ALL'] }, runAsUser: 65534, runAsGroup: 65534, runAsNonRoot: true } }, choice: undefined },
    ],
  ] as const)('%s', (_title, name, pod, level, forced, expected) => {
    const preset = presets.get(name);
    const plan = planForLevel(pod, { preset }, level, 'abcde', forced);
    const image = preset.image === NETSHOOT ? NETSHOOT : BUSYBOX;
    expect({ formLevel: plan.formLevel, container: plan.container, choice: plan.choice }).toEqual({
      formLevel: expected.formLevel,
      choice: expected.choice,
      container: {
        name: `debugger-${name}-abcde`,
        image,
        command: preset.command,
        stdin: true,
        tty: true,
        terminationMessagePolicy: 'File',
        ...(preset.targetProcesses ? { targetContainerName: 'app' } : {}),
        env: stamp(name),
        ...expected.container,
      },
    });
    expect(evaluatePodSecurity(pod, plan.container, level).filter((v) => v.isNew)).toEqual([]);
  });

  it.each([
    ['--level', undefined],
    ['--profile', '--profile'],
  ])('a form forced with %s stricter-named by the namespace: the line names the form asked for, as typed', (flag, forcedBy) => {
    const plan = planForLevel(rootPod, { preset: presets.get('network') }, 'restricted', 'abcde', 'baseline', forcedBy);
    expect(plan.formLevel).toBe('baseline');
    expect(plan.choice).toMatch(new RegExp(`^${flag} baseline: the debug container runs as root keeping only NET_RAW, SETGID`));
  });

  it('forensics forced to restricted on a root target runs as nobody and says in one note what it cannot read', () => {
    const plan = planForLevel(rootPod, { preset: presets.get('forensics') }, 'privileged', 'abcde', 'restricted');
    expect(plan.container.securityContext).toEqual({ ...hardened, capabilities: { drop: ['ALL'] }, readOnlyRootFilesystem: true, runAsUser: 65534, runAsGroup: 65534, runAsNonRoot: true });
    expect(plan.notices).toEqual([
      'container "app" runs as root and Pod Security "restricted" forbids root: the debug shell runs as uid 65534, so /proc/1/root and root\'s files are unreadable (ps works); debug where baseline applies',
    ]);
  });

  it.each([
    ['--run-as root', { runAs: { kind: 'root' as const } }, ['runAsNonRoot', 'runAsUser']],
    ['--privileged', { privileged: true }, ['privileged', 'allowPrivilegeEscalation', 'runAsNonRoot', 'runAsUser', 'capabilities']],
  ])('%s is kept in every form, so restricted still refuses it', (_t, extra, checks) => {
    const plan = planForLevel(nonRootPod, { preset: presets.get('shell'), ...extra }, 'restricted', 'abcde');
    expect([...new Set(evaluatePodSecurity(nonRootPod, plan.container, 'restricted').map((v) => v.check))].sort()).toEqual([...checks].sort());
  });

  it.each([
    ['privileged', { drop: ['ALL'], add: ['NET_RAW', 'SETGID'] }, 0],
    ['baseline', { drop: dropAllBut('NET_RAW', 'SETGID') }, 0],
  ] as const)('capture at %s: root with only what tcpdump -Z root needs', (level, capabilities, violations) => {
    const plan = planForLevel(nonRootPod, { preset: capturePreset(presets.get('network')) }, level as PodSecurityLevel, 'abcde');
    expect(plan.container.securityContext).toEqual({ ...hardened, capabilities, runAsUser: 0, runAsGroup: 0, runAsNonRoot: false });
    expect(plan.container.targetContainerName).toBeUndefined();
    expect(evaluatePodSecurity(nonRootPod, plan.container, level as PodSecurityLevel)).toHaveLength(violations);
  });

  it('capture has no restricted form: the last one tried still violates, for the gate to name', () => {
    const plan = planForLevel(nonRootPod, { preset: capturePreset(presets.get('network')) }, 'restricted', 'abcde');
    expect([...new Set(evaluatePodSecurity(nonRootPod, plan.container, 'restricted').map((v) => v.check))].sort()).toEqual(['capabilities', 'runAsNonRoot', 'runAsUser']);
  });

  it.each([
    [{ runAsUser: 0, capabilities: { drop: ['ALL'], add: ['NET_RAW'] } }, 'root with only NET_RAW'],
    [{ runAsUser: 1000, capabilities: { drop: ['ALL'] } }, 'uid 1000 without capabilities'],
    [{ runAsUser: 0 }, "root with the runtime's default capabilities"],
    [{ runAsUser: 0, capabilities: { drop: ['KILL'] } }, "root keeping only CHOWN, DAC_OVERRIDE, FSETID, FOWNER, MKNOD, NET_RAW, SETGID, SETUID, SETFCAP, SETPCAP, NET_BIND_SERVICE, SYS_CHROOT, AUDIT_WRITE of the runtime's default capabilities"],
    [{ privileged: true }, 'privileged root'],
  ])('describeSecurityContext(%j) = %s', (sc, text) => {
    expect(describeSecurityContext(sc)).toBe(text);
  });
});
