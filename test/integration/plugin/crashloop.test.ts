// The crashloop preset against the API server: the crash summary, a container that mirrors the
// app's volumes and env, and --copy (a copy of the pod that is deleted when the session ends,
// also on SIGINT and SIGTERM). No kubelet runs these pods: the test writes every status.
import { aPod } from '../../support/builders';
import { clusterEnv, COPY_RULES, createObject, createTestNamespace, deleteTestNamespace, getPod, grantInNamespace, kubectl, kubectlJsonAsync } from '../../support/cluster';
import { KubeletStandIn, markContainerCrashLooping, markPodRunning } from '../../support/kubelet';
import { expectExit, requireBuiltPlugin, runPlugin, serverContainer, startPlugin, stderrLines } from '../../support/plugin';
import { eventually } from '../../support/wait';

jest.setTimeout(60_000);

const COPY_LABEL = 'kubectl-ephemeral.dev/copy-of';

describe('crashloop against the API server', () => {
  let ns = '';
  let ownerUid = '';

  const copiesOf = async (pod: string): Promise<any[]> => (await kubectlJsonAsync(['get', 'pods', '-l', `${COPY_LABEL}=${pod}`], { namespace: ns })).items;

  beforeAll(async () => {
    requireBuiltPlugin();
    ns = await createTestNamespace('plugin-crashloop');
    grantInNamespace(ns, 'debugger', 'debug-copies', COPY_RULES);
    createObject({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'app-config' }, data: { 'app.yaml': 'port: 8080\n' } }, { namespace: ns });
    // A real owner object, so the garbage collector keeps the pod; the copy must drop the reference.
    ownerUid = createObject({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'owner' } }, { namespace: ns }).metadata.uid;
    const probe = { httpGet: { path: '/healthz', port: 8080 }, periodSeconds: 5 };
    const pod = aPod('web')
      .withLabels({ app: 'web', tier: 'front' })
      .withOwner('ConfigMap', 'owner', ownerUid, 'v1')
      .withContainer('app', {
        image: 'example.com/shop/web:1.4.2',
        command: ['/app/server'],
        args: ['--config', '/app/config/app.yaml'],
        env: { APP_MODE: 'production', DB_HOST: 'db.shop.svc' },
        volumeMounts: [{ name: 'config', mountPath: '/app/config', readOnly: true }],
        livenessProbe: probe,
        readinessProbe: probe,
      })
      .withContainer('sidecar', { image: 'busybox:1.36', readinessProbe: { exec: { command: ['true'] } } })
      .withVolume({ name: 'config', configMap: { name: 'app-config' } })
      .withSpec({ automountServiceAccountToken: false })
      .withNodeName(clusterEnv().fakeNode)
      .build();
    const created = createObject(pod, { namespace: ns });
    markPodRunning(ns, 'web');
    markContainerCrashLooping(ns, 'web', 'app', 1, 'Error');
    // Events as the kubelet would have recorded them (there is none to do it).
    const ts = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    const event = (name: string, type: string, reason: string, message: string, count: number) => ({
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name },
      involvedObject: { apiVersion: 'v1', kind: 'Pod', name: 'web', namespace: ns, uid: created.metadata.uid, fieldPath: 'spec.containers{app}' },
      type,
      reason,
      message,
      count,
      firstTimestamp: ts,
      lastTimestamp: ts,
      source: { component: 'kubelet', host: clusterEnv().fakeNode },
    });
    createObject(event('web.1', 'Normal', 'Pulled', 'Container image "example.com/shop/web:1.4.2" already present on machine', 6), { namespace: ns });
    createObject(event('web.2', 'Warning', 'BackOff', 'Back-off restarting failed container app in pod web_' + ns, 23), { namespace: ns });
  });
  afterAll(() => deleteTestNamespace(ns));

  it('prints the crash summary (exit code, reason, no previous logs on this node, events), then adds a container mirroring volumes and env (status written by the test acting as kubelet)', async () => {
    const kubelet = new KubeletStandIn(ns).start();
    const r = await runPlugin(['crashloop', 'web', '-n', ns, '--context', 'debugger', '--name', 'dbg-crash', '--no-attach']).finally(() => kubelet.stop());
    expectExit(r, 0);
    expect(r.stdout).toBe('dbg-crash\n');
    const lines = stderrLines(r);
    const at = (header: string) => lines.indexOf(header);
    expect(lines).toContain('== container "app" of pod "web"');
    expect(lines[at('== container "app" of pod "web"') + 1]).toMatch(/^last exit: code 1, reason Error, at \S+, 5 restart\(s\); now waiting \(CrashLoopBackOff\)$/);
    // No kubelet serves `logs --previous` for this node.
    expect(lines[at('== previous logs (last 20 lines)') + 1]).toMatch(/^\(none/);
    const events = lines.slice(at('== recent events') + 1, at('== recent events') + 3);
    expect(events).toEqual(
      expect.arrayContaining([
        'Normal Pulled: Container image "example.com/shop/web:1.4.2" already present on machine (x6)',
        `Warning BackOff: Back-off restarting failed container app in pod web_${ns} (x23)`,
      ]),
    );
    expect(lines.filter((l) => l.startsWith('error:'))).toEqual([]);

    const c = await serverContainer(ns, 'web', 'dbg-crash');
    expect(c.volumeMounts).toEqual([{ name: 'config', mountPath: '/app/config', readOnly: true }]);
    expect(c.env).toEqual([
      { name: 'APP_MODE', value: 'production' },
      { name: 'DB_HOST', value: 'db.shop.svc' },
      { name: 'KUBECTL_EPHEMERAL_PRESET', value: 'crashloop' },
      { name: 'KUBECTL_EPHEMERAL_USER', value: 'debugger' },
      // The pod's audit trail as the plugin read it, pinned (none here yet).
      { name: 'KUBECTL_EPHEMERAL_TRAIL' },
    ]);
    // It does not share the crashing container's processes (the runtime needs that one running).
    expect(c.targetContainerName).toBeUndefined();
  });

  it('--copy --same-node --no-attach: a copy without labels, probes and owner refs is made on the original node, debugged, and kept with the command that deletes it (statuses written by the test acting as kubelet)', async () => {
    const seen = new Map<string, any>();
    const kubelet = new KubeletStandIn(ns, { pods: (p) => p.metadata.labels?.[COPY_LABEL] === 'web', startPods: true, onPod: (p) => seen.set(p.metadata.name, p) }).start();
    const r = await runPlugin(['crashloop', 'web', '-n', ns, '--context', 'debugger', '--copy', '--same-node', '--no-attach']).finally(() => kubelet.stop());
    expectExit(r, 0);
    expect(seen.size).toBe(1);
    const [copyName, copy] = [...seen.entries()][0]!;
    expect(copyName).toMatch(/^web-debug-[a-z0-9]{5}$/);
    const debugName = r.stdout.trim();
    expect(debugName).toMatch(/^debugger-crashloop-[a-z0-9]{5}$/);
    // The test (as kubelet) started the copy, then the debug container in it, in that order.
    expect(kubelet.handled).toEqual([`${copyName}/${debugName}`]);
    expect(stderrLines(r)).toEqual(
      expect.arrayContaining([
        `created pod copy "${copyName}" of "web" with "app" running: sleep infinity`,
        `attach with: kubectl ephemeral attach ${copyName} ${debugName} -n ${ns} --context debugger`,
        `the copy stays (--no-attach): delete it when done with kubectl delete pod ${copyName} -n ${ns} --context debugger`,
      ]),
    );
    expect(r.stderr).not.toContain('deleted pod copy');

    // What the copy was while it lived.
    expect(copy.metadata.labels).toEqual({ [COPY_LABEL]: 'web', 'app.kubernetes.io/managed-by': 'kubectl-ephemeral' });
    expect(copy.metadata.ownerReferences).toBeUndefined();
    const app = copy.spec.containers.find((x: any) => x.name === 'app');
    expect(app.command).toEqual(['sleep', 'infinity']);
    expect(app.args).toBeUndefined();
    for (const x of copy.spec.containers) {
      expect(x.livenessProbe).toBeUndefined();
      expect(x.readinessProbe).toBeUndefined();
    }
    expect(copy.spec.nodeName).toBe(clusterEnv().fakeNode);
    expect(copy.spec.ephemeralContainers.map((x: any) => [x.name, x.targetContainerName])).toEqual([[debugName, 'app']]);

    // Nobody is attached yet: the copy stays for the attach command printed, until the user deletes it.
    expect((await copiesOf('web')).map((p) => p.metadata.name)).toEqual([copyName]);
    kubectl(['delete', 'pod', copyName, '--grace-period=0', '--force'], { namespace: ns, context: 'debugger' });
    // The original is untouched.
    const original = getPod(ns, 'web');
    expect(original.metadata.labels).toEqual({ app: 'web', tier: 'front' });
    expect(original.metadata.ownerReferences.map((o: any) => o.uid)).toEqual([ownerUid]);
    expect(original.spec.ephemeralContainers.map((x: any) => x.name)).toEqual(['dbg-crash']);
  });

  it('--copy --keep --no-attach: the copy stays, with its debug container running (statuses written by the test acting as kubelet)', async () => {
    const kubelet = new KubeletStandIn(ns, { pods: (p) => p.metadata.labels?.[COPY_LABEL] === 'web', startPods: true }).start();
    const r = await runPlugin(['crashloop', 'web', '-n', ns, '--context', 'debugger', '--copy', '--same-node', '--keep', '--no-attach', '--name', 'kept-dbg']).finally(() => kubelet.stop());
    expectExit(r, 0);
    const copies = await copiesOf('web');
    expect(copies).toHaveLength(1);
    const copy = copies[0];
    expect(stderrLines(r)).toContain(`the copy stays (--keep): delete it when done with kubectl delete pod ${copy.metadata.name} -n ${ns} --context debugger`);
    expect(r.stderr).not.toContain('deleted pod copy');
    expect(copy.status.containerStatuses.find((s: any) => s.name === 'app').state.running).toBeTruthy();
    expect(copy.status.ephemeralContainerStatuses.map((s: any) => [s.name, !!s.state.running])).toEqual([['kept-dbg', true]]);
    kubectl(['delete', 'pod', copy.metadata.name, '--grace-period=0', '--force'], { namespace: ns });
  });

  it('completes the copy flags from the pod on the API server: --set-image NAME= for its containers and *, --target its containers, --copy-to nothing', async () => {
    const complete = async (...words: string[]) => {
      const r = await runPlugin(['__complete', 'crashloop', 'web', '-n', ns, '--context', 'debugger', ...words]);
      expectExit(r, 0);
      return r.stdout.trim().split('\n');
    };
    const containers = getPod(ns, 'web').spec.containers.map((c: any) => c.name);
    expect(containers).toEqual(['app', 'sidecar']);
    expect(await complete('--copy', '--set-image', '')).toEqual(['app=', 'sidecar=', '*=', ':6']);
    expect(await complete('--set-image', 'app=busybox:1.36,')).toEqual(['app=busybox:1.36,sidecar=', 'app=busybox:1.36,*=', ':6']);
    expect(await complete('--target', '')).toEqual(['app', 'sidecar', ':4']);
    expect(await complete('--copy-to', '')).toEqual([':4']);
  });

  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)('%s while waiting for the copy to start deletes the copy and exits %d', async (signal, code) => {
    const run = startPlugin(['crashloop', 'web', '-n', ns, '--context', 'debugger', '--copy', '--same-node', '--no-attach', '--timeout', '30s']);
    // No stand-in, and on the node no kubelet runs (--same-node): the copy never starts, so the plugin waits for it.
    const copy = await eventually(async () => (await copiesOf('web'))[0], 15_000, 'the pod copy');
    const sentAt = Date.now();
    run.child.kill(signal);
    const r = await run.done;
    expect({ code: r.code, signal: r.signal }).toEqual({ code, signal: null });
    expect(r.exitedAt - sentAt).toBeLessThan(3_000);
    expect(stderrLines(r)).toContain(`deleted pod copy "${copy.metadata.name}"`);
    expect(r.stderr).not.toMatch(/^\s+at /m);
    expect(await copiesOf('web')).toEqual([]);
  });
});
