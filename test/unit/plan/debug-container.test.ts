import type { V1Pod } from '@kubernetes/client-node';
import { ephemeralContainerPatch } from '../../../src/kube/ephemeral-patch';
import { buildEphemeralContainer, chooseTargetContainer } from '../../../src/plan/debug-container';
import { PresetRegistry } from '../../../src/presets/registry';
import { aPod } from '../../support/builders';

const presets = PresetRegistry.from();
const pod = (b = aPod('web').inNamespace('shop')) => b.build() as V1Pod;
const hardened = { allowPrivilegeEscalation: false, seccompProfile: { type: 'RuntimeDefault' } };
const stamp = (preset: string, extra: Array<{ name: string; value: string }> = []) => [{ name: 'KUBECTL_EPHEMERAL_PRESET', value: preset }, ...extra];

describe('buildEphemeralContainer', () => {
  const appPod = pod(
    aPod('web')
      .withContainer('app', { image: 'shop/web:1', securityContext: { runAsUser: 1000, runAsGroup: 3000 } })
      .withContainer('sidecar', { image: 'envoy:1' }),
  );

  it.each([
    [
      'network targets the default container as root with NET_ADMIN, NET_RAW and SETGID only',
      'network',
      {},
      {
        name: 'debugger-network-abcde',
        image: 'docker.io/nicolaka/netshoot:v0.13',
        command: ['bash'],
        stdin: true,
        tty: true,
        terminationMessagePolicy: 'File',
        targetContainerName: 'app',
        env: stamp('network'),
        securityContext: { ...hardened, capabilities: { drop: ['ALL'], add: ['NET_ADMIN', 'NET_RAW', 'SETGID'] }, runAsUser: 0, runAsGroup: 0, runAsNonRoot: false },
      },
    ],
    [
      'forensics runs as the non-root target user with no capability, its own root filesystem read-only',
      'forensics',
      {},
      {
        name: 'debugger-forensics-abcde',
        image: 'docker.io/library/busybox:1.36',
        command: ['sh'],
        stdin: true,
        tty: true,
        terminationMessagePolicy: 'File',
        targetContainerName: 'app',
        env: stamp('forensics'),
        securityContext: { ...hardened, capabilities: { drop: ['ALL'] }, readOnlyRootFilesystem: true, runAsUser: 1000, runAsGroup: 3000, runAsNonRoot: true },
      },
    ],
    [
      'process targets -c, image and command overridden, reason and user stamped',
      'process',
      { container: 'sidecar', image: 'mirror.local/busybox:1.36', command: ['top'], stamp: { user: 'alice', reason: 'INC-42' } },
      {
        name: 'debugger-process-abcde',
        image: 'mirror.local/busybox:1.36',
        command: ['top'],
        stdin: true,
        tty: true,
        terminationMessagePolicy: 'File',
        targetContainerName: 'sidecar',
        env: stamp('process', [{ name: 'KUBECTL_EPHEMERAL_USER', value: 'alice' }, { name: 'KUBECTL_EPHEMERAL_REASON', value: 'INC-42' }]),
        // The sidecar names no user: the image's default, root, with the sidecar's own capabilities (none set).
        securityContext: { ...hardened, runAsUser: 0, runAsGroup: 0, runAsNonRoot: false },
      },
    ],
    [
      'shell runs as nobody without targeting, --name honoured',
      'shell',
      { name: 'mine' },
      {
        name: 'mine',
        image: 'docker.io/library/busybox:1.36',
        command: ['sh'],
        stdin: true,
        tty: true,
        terminationMessagePolicy: 'File',
        env: stamp('shell'),
        securityContext: { ...hardened, capabilities: { drop: ['ALL'] }, runAsUser: 65534, runAsGroup: 65534, runAsNonRoot: true },
      },
    ],
    [
      '--privileged is the only way to a privileged container',
      'shell',
      { privileged: true },
      {
        name: 'debugger-shell-abcde',
        image: 'docker.io/library/busybox:1.36',
        command: ['sh'],
        stdin: true,
        tty: true,
        terminationMessagePolicy: 'File',
        env: stamp('shell'),
        securityContext: { privileged: true, runAsUser: 0, runAsNonRoot: false },
      },
    ],
    [
      "--run-as root on process keeps exactly the target's capabilities (none set: the runtime's defaults), what reading a root /proc/1/root needs",
      'process',
      { runAs: { kind: 'root' as const } },
      {
        name: 'debugger-process-abcde',
        image: 'docker.io/library/busybox:1.36',
        command: ['sh'],
        stdin: true,
        tty: true,
        terminationMessagePolicy: 'File',
        targetContainerName: 'app',
        env: stamp('process'),
        securityContext: { ...hardened, runAsUser: 0, runAsGroup: 0, runAsNonRoot: false },
      },
    ],
  ])('%s', (_title, presetName, extra, expected) => {
    const plan = buildEphemeralContainer(appPod, { preset: presets.get(presetName), ...extra }, 'abcde');
    expect(plan.container).toEqual(expected);
  });

  it('the default-container annotation picks the target', () => {
    const p = pod(aPod('web').withAnnotations({ 'kubectl.kubernetes.io/default-container': 'b' }).withContainer('a').withContainer('b'));
    expect(buildEphemeralContainer(p, { preset: presets.get('net') }, 'x2345').container.targetContainerName).toBe('b');
  });

  it('a pod-level runAsUser is used by target presets, and a root preset overrides it at container level', () => {
    const p = pod(aPod('web').withPodSecurityContext({ runAsUser: 2000, runAsNonRoot: true }).withContainer('app'));
    expect(buildEphemeralContainer(p, { preset: presets.get('forensics') }, 'abcde').container.securityContext).toMatchObject({ runAsUser: 2000, runAsNonRoot: true });
    expect(buildEphemeralContainer(p, { preset: presets.get('net') }, 'abcde').container.securityContext).toMatchObject({ runAsUser: 0, runAsNonRoot: false });
  });

  it("a target that names no user is taken as the image's default, root, and the note says so", () => {
    const plan = buildEphemeralContainer(pod(aPod('web').withContainer('app')), { preset: presets.get('forensics') }, 'abcde');
    expect(plan.container.securityContext).toEqual({ ...hardened, readOnlyRootFilesystem: true, runAsUser: 0, runAsGroup: 0, runAsNonRoot: false });
    expect(plan.notices).toEqual([`container "app" names no user: the debug shell runs as root, the image's default; if the app runs as another user, pass --run-as=UID[:GID]`]);
  });

  it('a target that must not be root but names no uid falls back to nobody and says why', () => {
    const plan = buildEphemeralContainer(pod(aPod('web').withPodSecurityContext({ runAsNonRoot: true }).withContainer('app')), { preset: presets.get('process') }, 'abcde');
    expect(plan.container.securityContext).toEqual({ ...hardened, capabilities: { drop: ['ALL'] }, runAsUser: 65534, runAsGroup: 65534, runAsNonRoot: true });
    expect(plan.notices).toEqual([
      `container "app" runs as a non-root user its pod spec does not name (runAsNonRoot without runAsUser): the debug shell runs as uid 65534, which cannot read another user's /proc/1/root; pass --run-as=UID[:GID] with the app's user`,
    ]);
  });

  it('crashloop mirrors volume mounts without subPath, and env, and does not target', () => {
    const p = pod(
      aPod('web')
        .withVolume({ name: 'config', configMap: { name: 'web-config' } })
        .withVolume({ name: 'data', emptyDir: {} })
        .withContainer('app', {
          env: { MODE: 'prod' },
          envFrom: [{ configMapRef: { name: 'web-env' } }],
          volumeMounts: [
            { name: 'config', mountPath: '/app/config', readOnly: true },
            { name: 'data', mountPath: '/app/data/one.db', subPath: 'one.db' } as never,
          ],
        }),
    );
    const plan = buildEphemeralContainer(p, { preset: presets.get('crashloop') }, 'abcde');
    expect(plan.container).toEqual({
      name: 'debugger-crashloop-abcde',
      image: 'docker.io/library/busybox:1.36',
      command: ['sh'],
      stdin: true,
      tty: true,
      terminationMessagePolicy: 'File',
      volumeMounts: [{ name: 'config', mountPath: '/app/config', readOnly: true }],
      envFrom: [{ configMapRef: { name: 'web-env' } }],
      env: [{ name: 'MODE', value: 'prod' }, ...stamp('crashloop')],
      securityContext: { ...hardened, capabilities: { drop: ['ALL'] }, runAsUser: 0, runAsGroup: 0, runAsNonRoot: false },
    });
    expect(plan.notices).toEqual([
      `container "app" names no user: the debug shell runs as root, the image's default; if the app runs as another user, pass --run-as=UID[:GID]`,
      'volume "data" at /app/data/one.db uses subPath, which ephemeral containers cannot mount; skipped',
    ]);
  });

  // A pipe (-i, no TTY) gets stdinOnce: containerd then keeps the output attached until the
  // program ends, instead of detaching it when the input ends.
  it.each([
    ['a terminal: stdin and a TTY', { stdin: true, tty: true }, { stdin: true, tty: true }],
    ['a pipe: stdin once, no TTY', { stdin: true, tty: false }, { stdin: true, tty: false, stdinOnce: true }],
    ['-i=false: neither', { stdin: false, tty: false }, { stdin: false, tty: false }],
  ])('%s', (_what, streams, expected) => {
    const { container } = buildEphemeralContainer(appPod, { preset: presets.get('shell'), ...streams }, 'abcde');
    expect(container).toEqual({
      name: 'debugger-shell-abcde',
      image: 'docker.io/library/busybox:1.36',
      command: ['sh'],
      ...expected,
      terminationMessagePolicy: 'File',
      env: stamp('shell'),
      securityContext: { ...hardened, capabilities: { drop: ['ALL'] }, runAsUser: 65534, runAsGroup: 65534, runAsNonRoot: true },
    });
  });

  it.each([
    ['unknown -c', { container: 'nope' }, /container "nope" not found in pod "web"; choose one of: app, sidecar/],
    ['--name taken', { name: 'sidecar' }, /container name "sidecar" is already used/],
    ['--name not a DNS label', { name: 'Bad_Name' }, /not a DNS-1123 label/],
  ])('refuses %s', (_t, extra, message) => {
    expect(() => buildEphemeralContainer(appPod, { preset: presets.get('shell'), ...extra }, 'abcde')).toThrow(message);
  });

  it('wraps the container in a strategic merge patch that adds exactly it', () => {
    const { container } = buildEphemeralContainer(appPod, { preset: presets.get('shell') }, 'abcde');
    expect(ephemeralContainerPatch(container)).toEqual({ spec: { ephemeralContainers: [container] } });
  });

  it('chooseTargetContainer falls back to the first container when the annotation names none', () => {
    const p = pod(aPod('web').withAnnotations({ 'kubectl.kubernetes.io/default-container': 'gone' }).withContainer('a'));
    expect(chooseTargetContainer(p).name).toBe('a');
  });
});
