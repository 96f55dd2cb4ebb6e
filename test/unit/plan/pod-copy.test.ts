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

  it('leaves scheduling to the scheduler when sameNode is off, and keeps a long name within 63 characters', () => {
    const long = { ...original, metadata: { ...original.metadata, name: 'x'.repeat(70) } };
    const { pod } = buildPodCopy(long, { container: 'app', keepalive: ['sleep', '3600'], sameNode: false }, 'abcde');
    expect(pod.spec?.nodeName).toBeUndefined();
    expect(pod.metadata?.name).toHaveLength(63);
    expect(pod.metadata?.name).toMatch(/-debug-abcde$/);
  });

  it('does not change the original', () => {
    const before = JSON.stringify(original);
    buildPodCopy(original, { container: 'app', keepalive: ['sleep', 'infinity'], sameNode: true }, 'abcde');
    expect(JSON.stringify(original)).toBe(before);
  });
});
