import type { V1Pod } from '@kubernetes/client-node';
import { buildPodCopy } from '../../../src/plan/pod-copy';
import { aPod } from '../../support/builders';

describe('buildPodCopy', () => {
  const probe = { httpGet: { path: '/healthz', port: 8080 } };
  const original = aPod('web-7d4b9')
    .inNamespace('shop')
    .withLabels({ app: 'web' })
    .withAnnotations({ team: 'a' })
    .withOwner('ReplicaSet', 'web-7d4b9')
    .withNodeName('node-1')
    .withContainer('app', { image: 'web:1', command: ['/web'], args: ['--port=8080'], livenessProbe: probe, readinessProbe: probe, startupProbe: probe })
    .withContainer('sidecar', { image: 'envoy:1', readinessProbe: probe })
    .withEphemeralContainer('debugger-old')
    .build() as V1Pod;
  original.metadata!.resourceVersion = '42';
  original.metadata!.uid = 'u-1';

  it('drops labels, probes, owner refs and ephemeral containers, and replaces the crashing command', () => {
    const { pod, notices } = buildPodCopy(original, { container: 'app', keepalive: ['sleep', 'infinity'], sameNode: true }, 'x7k2p');
    expect(pod).toEqual({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: 'web-7d4b9-debug-x7k2p',
        namespace: 'shop',
        labels: { 'kubectl-ephemeral.dev/copy-of': 'web-7d4b9', 'app.kubernetes.io/managed-by': 'kubectl-ephemeral' },
        annotations: { 'kubectl-ephemeral.dev/copy-of': 'web-7d4b9' },
      },
      spec: {
        nodeName: 'node-1',
        containers: [
          { name: 'app', image: 'web:1', command: ['sleep', 'infinity'] },
          { name: 'sidecar', image: 'envoy:1' },
        ],
      },
    });
    expect(notices).toEqual(['the copy leaves out 1 ephemeral container(s) of the original']);
  });

  it('kubectl debug\'s --copy-to, --set-image and --keep-* flags: labels, annotations and the probes asked for kept, the plugin\'s own label still there', () => {
    const withInit = { ...original, spec: { ...original.spec!, initContainers: [{ name: 'migrate', image: 'web:1' }] } };
    const { pod } = buildPodCopy(
      withInit,
      {
        container: 'app',
        keepalive: ['sleep', 'infinity'],
        sameNode: false,
        name: 'web-dbg',
        setImages: { sidecar: 'envoy:2', '*': 'web:debug' },
        keep: { labels: true, annotations: true, liveness: true, readiness: false, startup: true, initContainers: false },
      },
      'x7k2p',
    );
    expect(pod).toEqual({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: 'web-dbg',
        namespace: 'shop',
        labels: { app: 'web', 'kubectl-ephemeral.dev/copy-of': 'web-7d4b9', 'app.kubernetes.io/managed-by': 'kubectl-ephemeral' },
        annotations: { team: 'a', 'kubectl-ephemeral.dev/copy-of': 'web-7d4b9' },
      },
      spec: {
        containers: [
          { name: 'app', image: 'web:debug', command: ['sleep', 'infinity'], livenessProbe: probe, startupProbe: probe },
          { name: 'sidecar', image: 'envoy:2' },
        ],
      },
    });
  });

  it.each([
    ['--set-image naming no container', { setImages: { db: 'pg:16' } }, '--set-image names "db", not a container of pod "web-7d4b9"; choose from: app, sidecar'],
    ['--keep-init-containers=false dropping the container debugged', { container: 'migrate', keep: { initContainers: false } }, '--keep-init-containers=false drops init container "migrate", the one to debug; drop --keep-init-containers=false or pick another container with -c'],
  ])('refuses %s', (_what, over, message) => {
    const withInit = { ...original, spec: { ...original.spec!, initContainers: [{ name: 'migrate', image: 'web:1' }] } };
    expect(() => buildPodCopy(withInit, { container: 'app', keepalive: ['sleep', 'infinity'], sameNode: false, ...over }, 'x7k2p')).toThrow(message);
  });

  it('leaves scheduling to the scheduler when sameNode is off, and keeps a long name within 63 characters', () => {
    const long = { ...original, metadata: { ...original.metadata, name: 'x'.repeat(70) } };
    const { pod } = buildPodCopy(long, { container: 'app', keepalive: ['sleep', '3600'], sameNode: false }, 'abcde');
    expect(pod.spec?.nodeName).toBeUndefined();
    expect(pod.metadata?.name).toHaveLength(63);
    expect(pod.metadata?.name).toMatch(/-debug-abcde$/);
  });

  it('of an init container: replaces THAT init container (kubectl debug --copy-to --container=init-myservice), drops every probe, no node, shares processes when asked', () => {
    const pod = aPod('my-pod')
      .inNamespace('shop')
      .withNodeName('node-1')
      .withInitContainer('init-myservice', { image: 'busybox:1.36', command: ['sh', '-c'], args: ['until nslookup myservice; do sleep 2; done'] })
      .withInitContainer('proxy', { image: 'envoy:1', restartPolicy: 'Always', startupProbe: probe, livenessProbe: probe })
      .withContainer('app', { image: 'web:1', command: ['/web'], livenessProbe: probe })
      .build() as V1Pod;
    expect(buildPodCopy(pod, { container: 'init-myservice', keepalive: ['sleep', 'infinity'], sameNode: false, shareProcesses: true }, 'x7k2p')).toEqual({
      pod: {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: {
          name: 'my-pod-debug-x7k2p',
          namespace: 'shop',
          labels: { 'kubectl-ephemeral.dev/copy-of': 'my-pod', 'app.kubernetes.io/managed-by': 'kubectl-ephemeral' },
          annotations: { 'kubectl-ephemeral.dev/copy-of': 'my-pod' },
        },
        spec: {
          shareProcessNamespace: true,
          initContainers: [
            { name: 'init-myservice', image: 'busybox:1.36', command: ['sleep', 'infinity'] },
            { name: 'proxy', image: 'envoy:1', restartPolicy: 'Always' },
          ],
          containers: [{ name: 'app', image: 'web:1', command: ['/web'] }],
        },
      },
      notices: ['init container "init-myservice" runs "sleep infinity" in the copy, so the copy\'s main containers do not start: debug the init container'],
    });
  });

  it('of a sidecar: its command and probes replaced, the main containers kept; the original shareProcessNamespace kept', () => {
    const pod = aPod('web')
      .withShareProcessNamespace(false)
      .withInitContainer('proxy', { image: 'envoy:1', restartPolicy: 'Always', command: ['envoy'], args: ['-c', '/etc/envoy.yaml'], readinessProbe: probe })
      .withContainer('app', { image: 'web:1' })
      .build() as V1Pod;
    expect(buildPodCopy(pod, { container: 'proxy', keepalive: ['sleep', '3600'], sameNode: true }, 'abcde')).toEqual({
      pod: {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: {
          name: 'web-debug-abcde',
          labels: { 'kubectl-ephemeral.dev/copy-of': 'web', 'app.kubernetes.io/managed-by': 'kubectl-ephemeral' },
          annotations: { 'kubectl-ephemeral.dev/copy-of': 'web' },
        },
        spec: {
          shareProcessNamespace: false,
          initContainers: [{ name: 'proxy', image: 'envoy:1', restartPolicy: 'Always', command: ['sleep', '3600'] }],
          containers: [{ name: 'app', image: 'web:1' }],
        },
      },
      notices: [],
    });
  });

  it('does not change the original', () => {
    const before = JSON.stringify(original);
    buildPodCopy(original, { container: 'app', keepalive: ['sleep', 'infinity'], sameNode: true }, 'abcde');
    expect(JSON.stringify(original)).toBe(before);
  });
});
