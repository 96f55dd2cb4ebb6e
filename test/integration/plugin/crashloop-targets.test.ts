// What crashloop debugs and where, against the API server (RBAC and Pod Security on): the failing
// container by default (an init container in Init:CrashLoopBackOff included), the copy of that init
// container, the scheduler's say over where a copy runs, a crash summary without pods/log or events
// permission, crashloop without a pod, reuse of the user's running debug container, and workload
// references. No kubelet runs these pods: the test writes every status (KubeletStandIn).
import { aPod } from '../../support/builders';
import { clusterEnv, COPY_RULES, createObject, createTestNamespace, deleteTestNamespace, getPod, grantInNamespace, kubectl, kubectlAsync, kubectlJsonAsync } from '../../support/cluster';
import { KubeletStandIn, markContainerCrashLooping, markEphemeralTerminated, markInitContainerCrashLooping, markPodRunning, writeContainerStatuses } from '../../support/kubelet';
import { expectExit, requireBuiltPlugin, runPlugin, startPlugin, stderrLines, theErrorLine } from '../../support/plugin';
import { eventually } from '../../support/wait';
import { inTerminal } from '../../support/terminal-session';

jest.setTimeout(90_000);

const COPY_LABEL = 'kubectl-ephemeral.dev/copy-of';
const fake = () => clusterEnv().fakeNode;

/** A pod whose init container "init-myservice" crash-loops, with a sidecar that has probes and a main container. */
function initPod(name: string) {
  const probe = { exec: { command: ['true'] }, periodSeconds: 5 };
  return aPod(name)
    .withInitContainer('init-myservice', {
      image: 'busybox:1.36',
      command: ['sh', '-c'],
      args: ['until nslookup myservice; do echo waiting for myservice; sleep 2; done'],
      env: { SERVICE: 'myservice' },
      volumeMounts: [{ name: 'work', mountPath: '/work' }],
    })
    .withInitContainer('proxy', { image: 'busybox:1.36', restartPolicy: 'Always', command: ['sleep', 'infinity'], startupProbe: probe, readinessProbe: probe })
    .withContainer('app', { image: 'busybox:1.36', command: ['httpd', '-f'], livenessProbe: probe })
    .withEmptyDir('work')
    .withSpec({ automountServiceAccountToken: false, terminationGracePeriodSeconds: 0 })
    .withNodeName(fake())
    .build();
}

function crashingMainPod(name: string, labels: Record<string, string> = {}) {
  return aPod(name)
    .withLabels(labels)
    .withContainer('app', { image: 'busybox:1.36', command: ['false'] })
    .withSpec({ automountServiceAccountToken: false, terminationGracePeriodSeconds: 0 })
    .withNodeName(fake())
    .build();
}

describe('crashloop finds what crashes (API server; statuses written by the test acting as kubelet)', () => {
  let ns = '';
  const copiesOf = async (pod: string): Promise<any[]> => (await kubectlJsonAsync(['get', 'pods', '-l', `${COPY_LABEL}=${pod}`], { namespace: ns })).items;

  beforeAll(async () => {
    requireBuiltPlugin();
    ns = await createTestNamespace('plugin-crash-targets');
    grantInNamespace(ns, 'debugger', 'debug-copies', COPY_RULES);
    createObject(initPod('initpod'), { namespace: ns });
    markInitContainerCrashLooping(ns, 'initpod', 'init-myservice', 1, 'Error');
    createObject(aPod('healthy').withContainer('app').withSpec({ automountServiceAccountToken: false }).withNodeName(fake()).build(), { namespace: ns });
    markPodRunning(ns, 'healthy');
  });
  afterAll(() => deleteTestNamespace(ns));

  it('Init:CrashLoopBackOff: the summary and the debug container are for the init container, not the main one waiting in PodInitializing', async () => {
    const kubelet = new KubeletStandIn(ns, { pods: (p) => p.metadata.name === 'initpod' }).start();
    const r = await runPlugin(['crashloop', 'initpod', '-n', ns, '--context', 'debugger', '--name', 'dbg-init', '--no-attach']).finally(() => kubelet.stop());
    expectExit(r, 0);
    const lines = stderrLines(r);
    const at = lines.indexOf('== init container "init-myservice" of pod "initpod"');
    expect(at).toBeGreaterThanOrEqual(0);
    expect(lines[at + 1]).toMatch(/^last exit: code 1, reason Error, at \S+, 4 restart\(s\); now waiting \(CrashLoopBackOff\)$/);
    expect(r.stderr).not.toContain('PodInitializing');
    const c = (await kubectlJsonAsync(['get', 'pod', 'initpod'], { namespace: ns })).spec.ephemeralContainers.find((x: any) => x.name === 'dbg-init');
    // The init container's env and volumes, mirrored.
    expect(c.env).toEqual([
      { name: 'SERVICE', value: 'myservice' },
      { name: 'KUBECTL_EPHEMERAL_PRESET', value: 'crashloop' },
      { name: 'KUBECTL_EPHEMERAL_USER', value: 'debugger' },
      // The pod's audit trail as the plugin read it, pinned (none here yet).
      { name: 'KUBECTL_EPHEMERAL_TRAIL' },
    ]);
    expect(c.volumeMounts).toEqual([{ name: 'work', mountPath: '/work' }]);
  });

  it('Init:Error in a finished pod (restartPolicy Never): refused before anything is created, pointing to --copy, whose copy keeps that init container alive', async () => {
    createObject({ ...initPod('initfailed'), spec: { ...initPod('initfailed').spec, restartPolicy: 'Never' } }, { namespace: ns });
    const ts = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    writeContainerStatuses(ns, 'initfailed', {
      phase: 'Failed',
      initContainerStatuses: [
        { name: 'init-myservice', image: 'busybox:1.36', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode: 2, reason: 'Error', startedAt: ts, finishedAt: ts } } },
        { name: 'proxy', image: 'busybox:1.36', imageID: '', ready: false, restartCount: 0, state: { waiting: { reason: 'PodInitializing' } } },
      ],
      containerStatuses: [{ name: 'app', image: 'busybox:1.36', imageID: '', ready: false, restartCount: 0, state: { waiting: { reason: 'PodInitializing' } } }],
    });
    const r = await runPlugin(['crashloop', 'initfailed', '-n', ns, '--context', 'debugger']);
    expectExit(r, 64);
    expect(theErrorLine(r)).toBe('error: pod "initfailed" has finished (Failed): no container can start in it any more; debug a copy: kubectl ephemeral crashloop initfailed --copy');
    expect(getPod(ns, 'initfailed').spec.ephemeralContainers).toBeUndefined();

    const dry = await runPlugin(['crashloop', 'initfailed', '-n', ns, '--context', 'debugger', '--copy', '--dry-run', '-o', 'json']);
    expectExit(dry, 0);
    expect(JSON.parse(dry.stdout).spec.initContainers.map((c: any) => [c.name, c.command])).toEqual([
      ['init-myservice', ['sleep', 'infinity']],
      ['proxy', ['sleep', 'infinity']],
    ]);
  });

  it('a pod with nothing failing says so, prints no crash summary, and debugs the default container', async () => {
    const kubelet = new KubeletStandIn(ns, { pods: (p) => p.metadata.name === 'healthy' }).start();
    const r = await runPlugin(['crashloop', 'healthy', '-n', ns, '--context', 'debugger', '--no-attach']).finally(() => kubelet.stop());
    expectExit(r, 0);
    expect(stderrLines(r)).toContain('note: no container of pod "healthy" is failing (none waiting in a back-off, exited with an error or restarted after one); debugging "app"');
    expect(r.stderr).not.toContain('==');
  });

  it('--copy of the failing init container: THAT init container keeps alive, probes dropped, processes shared, pinned with --same-node; --no-attach keeps the copy and says how to delete it', async () => {
    const kubelet = new KubeletStandIn(ns, {
      pods: (p) => p.metadata.labels?.[COPY_LABEL] === 'initpod',
      startPods: true,
      initContainer: (_p, c) => (c.name === 'init-myservice' ? 'running' : 'completed'),
    }).start();
    const r = await runPlugin(['crashloop', 'initpod', '-n', ns, '--context', 'debugger', '--copy', '--same-node', '--share-processes', '--no-attach']).finally(() => kubelet.stop());
    expectExit(r, 0);
    const [copy] = await copiesOf('initpod');
    expect(copy).toBeDefined();
    const name = copy.metadata.name;
    const debugName = r.stdout.trim();
    expect(stderrLines(r)).toEqual(
      expect.arrayContaining([
        `note: init container "init-myservice" runs "sleep infinity" in the copy, so the copy's main containers do not start: debug the init container`,
        `created pod copy "${name}" of "initpod" with "init-myservice" running: sleep infinity`,
        `attach with: kubectl ephemeral attach ${name} ${debugName} -n ${ns} --context debugger`,
        `the copy stays (--no-attach): delete it when done with kubectl delete pod ${name} -n ${ns} --context debugger`,
      ]),
    );
    expect(r.stderr).not.toContain('deleted pod copy');
    const init = copy.spec.initContainers;
    expect(init.map((c: any) => [c.name, c.command, c.args, c.startupProbe, c.readinessProbe])).toEqual([
      ['init-myservice', ['sleep', 'infinity'], undefined, undefined, undefined],
      ['proxy', ['sleep', 'infinity'], undefined, undefined, undefined],
    ]);
    expect(copy.spec.containers[0].livenessProbe).toBeUndefined();
    expect(copy.spec.shareProcessNamespace).toBe(true);
    expect(copy.spec.nodeName).toBe(fake());
    expect(copy.spec.ephemeralContainers.map((c: any) => [c.name, c.targetContainerName])).toEqual([[debugName, 'init-myservice']]);
    // The user's delete command works as the user.
    kubectl(['delete', 'pod', name, '--grace-period=0', '--force'], { namespace: ns, context: 'debugger' });
  });

  it('--copy without --same-node leaves placement to the scheduler: the copy names no node, and when no node fits the progress line names FailedScheduling and its reason as kubectl describe and get events show them, --timeout says it was never scheduled and why (exit 75), and the copy is deleted', async () => {
    const dry = await runPlugin(['crashloop', 'initpod', '-n', ns, '--context', 'debugger', '--copy', '--dry-run', '-o', 'json']);
    expectExit(dry, 0);
    expect(JSON.parse(dry.stdout).spec.nodeName).toBeUndefined();

    // A node selector no node matches (the original is bound by name, which skips the selector):
    // the scheduler keeps the copy Unschedulable.
    const nowhere = initPod('nowhere');
    createObject({ ...nowhere, spec: { ...nowhere.spec, nodeSelector: { 'kubernetes.io/hostname': 'ke-no-such-node' } } }, { namespace: ns });
    markInitContainerCrashLooping(ns, 'nowhere', 'init-myservice', 1, 'Error');
    const run = startPlugin(['crashloop', 'nowhere', '-n', ns, '--context', 'debugger', '--copy', '--no-attach', '--timeout', '12s']);
    // While it waits: what a user running kubectl describe on the copy sees.
    const copy = await eventually(async () => {
      const found = (await copiesOf('nowhere'))[0];
      return found?.status?.conditions?.some((c: any) => c.type === 'PodScheduled' && c.reason === 'Unschedulable') ? found : undefined;
    }, 10_000, 'the copy marked Unschedulable by the scheduler');
    const copyName: string = copy.metadata.name;
    const described = await eventually(async () => {
      const text = await kubectlAsync(['describe', 'pod', copyName], { namespace: ns });
      return /Warning\s+FailedScheduling\s/.test(text) ? text : undefined;
    }, 10_000, 'kubectl describe showing FailedScheduling');
    const r = await run.done;
    expectExit(r, 75);
    // The scheduler's event (it outlives the copy) as kubectl get events and kubectl describe show it.
    const events = (await kubectlJsonAsync(['get', 'events', '--field-selector', `involvedObject.name=${copyName},reason=FailedScheduling`], { namespace: ns })).items;
    expect(events.map((e: any) => [e.type, e.reportingComponent || e.source?.component])).toContainEqual(['Warning', 'default-scheduler']);
    const message: string = events[0].message;
    expect(message).toMatch(/^0\/\d+ nodes are available: .*didn't match Pod's node affinity\/selector/);
    expect(described).toContain(message);
    // The progress (stderr is no terminal: a plain line per change): Pending, then the scheduler's word.
    const lines = stderrLines(r);
    const pending = lines.indexOf('waiting for container "init-myservice": Pending');
    const failed = lines.indexOf(`waiting for container "init-myservice": FailedScheduling: ${message}`);
    expect([pending >= 0, failed > pending]).toEqual([true, true]);
    expect(theErrorLine(r)).toBe(
      `error: pod copy "${copyName}" was never scheduled within --timeout: the scheduler found no node for it (Unschedulable: ${message}); pass --same-node to run it on node "${fake()}" like the original, or see kubectl describe pod ${copyName} -n ${ns}`,
    );
    expect(lines).toContain(`deleted pod copy "${copyName}"`);
    expect(await copiesOf('nowhere')).toEqual([]);
  });
});

describe('crash summary without pods/log or events permission (API server, RBAC)', () => {
  let ns = '';
  beforeAll(async () => {
    requireBuiltPlugin();
    ns = await createTestNamespace('plugin-crash-rbac');
    createObject(crashingMainPod('web'), { namespace: ns });
    markContainerCrashLooping(ns, 'web', 'app', 2, 'Error');
    // "nolog" may debug (pods, ephemeral containers, attach) but neither read logs nor list events.
    grantInNamespace(ns, 'nolog', 'debug-without-logs', [
      { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: [''], resources: ['pods/ephemeralcontainers'], verbs: ['patch'] },
      { apiGroups: [''], resources: ['pods/attach'], verbs: ['create'] },
    ]);
  });
  afterAll(() => deleteTestNamespace(ns));

  it('names each missing permission instead of "(none)", and -v shows both denials', async () => {
    const kubelet = new KubeletStandIn(ns).start();
    const r = await runPlugin(['crashloop', 'web', '-n', ns, '--context', 'admin', '--as', 'nolog', '--no-attach', '-v']).finally(() => kubelet.stop());
    expectExit(r, 0);
    const lines = stderrLines(r);
    expect(lines[lines.indexOf('== previous logs (last 20 lines)') + 1]).toBe(`(not shown: you may not get pods/log in namespace "${ns}"; ask for "get" on "pods/log", -v shows the denial)`);
    expect(lines[lines.indexOf('== recent events') + 1]).toBe(`(not shown: you may not list events in namespace "${ns}"; ask for "list" on "events", -v shows the denial)`);
    expect(lines).toContainEqual(expect.stringMatching(/^\[debug\] previous logs unavailable: cannot get pods\/log for pod "web" in namespace ".*": User "nolog" cannot get resource "pods\/log"/));
    expect(lines).toContainEqual(expect.stringMatching(/^\[debug\] events unavailable: cannot list events for namespace ".*": .*User "nolog" cannot list resource "events"/));
  });
});

describe('crashloop without a pod (API server)', () => {
  let ns = '';
  let quiet = '';
  beforeAll(async () => {
    requireBuiltPlugin();
    ns = await createTestNamespace('plugin-crash-pick');
    quiet = await createTestNamespace('plugin-crash-none');
    createObject(initPod('initpod'), { namespace: ns });
    markInitContainerCrashLooping(ns, 'initpod', 'init-myservice', 1, 'Error');
    createObject(crashingMainPod('web'), { namespace: ns });
    markContainerCrashLooping(ns, 'web', 'app', 137, 'OOMKilled');
    createObject(aPod('healthy').withContainer('app').withNodeName(fake()).build(), { namespace: ns });
    markPodRunning(ns, 'healthy');
  });
  afterAll(() => {
    deleteTestNamespace(ns);
    deleteTestNamespace(quiet);
  });

  it('without a terminal: fails with one line naming the crash-looping pods (exit 64), creating nothing', async () => {
    const r = await runPlugin(['crashloop', '-n', ns, '--context', 'debugger']);
    expectExit(r, 64);
    expect(theErrorLine(r)).toBe(
      `error: name the pod to debug (no terminal to pick on): 2 pod(s) with a failing container in namespace "${ns}": ` +
        `initpod (init container "init-myservice": Init:CrashLoopBackOff, last exit 1 (Error), 4 restart(s)); ` +
        `web (container "app": CrashLoopBackOff, last exit 137 (OOMKilled), 5 restart(s)); run kubectl ephemeral crashloop POD -n ${ns}`,
    );
    expect(getPod(ns, 'web').spec.ephemeralContainers).toBeUndefined();
    expect(getPod(ns, 'initpod').spec.ephemeralContainers).toBeUndefined();
  });

  it('in a namespace where nothing fails: says so (exit 66)', async () => {
    const r = await runPlugin(['crashloop', '-n', quiet, '--context', 'debugger']);
    expectExit(r, 66);
    expect(theErrorLine(r)).toBe(`error: no pod in namespace "${quiet}" has a failing container; name the pod to debug: kubectl ephemeral crashloop POD -n ${quiet}`);
  });

  it('on a terminal: Ctrl-C at the question ends the run (exit 130), a wrong answer is a usage error (64); nothing is created', () =>
    inTerminal({}, async (t) => {
      await t.runPlugin(['crashloop', '-n', ns, '--context', 'debugger']);
      await t.waitFor('pick a pod [1-2]: ', { what: 'the question' });
      t.type('\x03');
      expect(await t.pluginExit()).toBe(130);
      const since = t.mark();
      await t.runPlugin(['crashloop', '-n', ns, '--context', 'debugger']);
      await t.waitFor('pick a pod [1-2]: ', { since, what: 'the question again' });
      t.type('7\r');
      expect(await t.pluginExit()).toBe(64);
      expect(t.text(since)).toContain(`error: "7" is not one of the listed pods; run again and answer 1 to 2, or name the pod: kubectl ephemeral crashloop POD -n ${ns}`);
      await t.expectCookedMode();
      expect(getPod(ns, 'web').spec.ephemeralContainers).toBeUndefined();
    }));

  it('on a terminal: lists them (restarts, last exit, init or main) and debugs the one picked', async () => {
    const kubelet = new KubeletStandIn(ns, { pods: (p) => p.metadata.name === 'web' }).start();
    try {
      await inTerminal({}, async (t) => {
        await t.runPlugin(['crashloop', '-n', ns, '--context', 'debugger', '--no-attach', '--name', 'picked']);
        await t.waitFor('pick a pod [1-2]: ', { what: 'the question' });
        expect(t.screen).toMatch(/#\s+POD\s+CONTAINER\s+KIND\s+STATUS\s+RESTARTS\s+LAST EXIT\n1\s+initpod\s+init-myservice\s+init\s+Init:CrashLoopBackOff\s+4\s+1 Error\n2\s+web\s+app\s+main\s+CrashLoopBackOff\s+5\s+137 OOMKilled\n/);
        t.type('2\r');
        expect(await t.pluginExit()).toBe(0);
        expect(t.screen).toContain('using pod "web" (container "app": CrashLoopBackOff, last exit 137 (OOMKilled), 5 restart(s))');
        expect(t.screen).toContain('== container "app" of pod "web"');
      });
    } finally {
      await kubelet.stop();
    }
    expect(getPod(ns, 'web').spec.ephemeralContainers.map((c: any) => c.name)).toEqual(['picked']);
  });
});

describe('reuse instead of piling up (API server)', () => {
  let ns = '';
  beforeAll(async () => {
    requireBuiltPlugin();
    ns = await createTestNamespace('plugin-reuse');
    createObject(aPod('web').withContainer('app', { securityContext: { runAsUser: 1000 } }).withSpec({ automountServiceAccountToken: false }).withNodeName(fake()).build(), { namespace: ns });
    markPodRunning(ns, 'web');
  });
  afterAll(() => deleteTestNamespace(ns));
  const names = () => (getPod(ns, 'web').spec.ephemeralContainers ?? []).map((c: any) => c.name);

  it('a second run of the same preset attaches to your running container; --new, another user, another preset or an exited container add one', async () => {
    const kubelet = new KubeletStandIn(ns).start();
    const run = (...extra: string[]) => runPlugin(['process', 'web', '-n', ns, '--no-attach', ...extra]);
    try {
      const first = await run('--context', 'debugger');
      expectExit(first, 0);
      const mine = first.stdout.trim();

      const second = await run('--context', 'debugger');
      expectExit(second, 0);
      expect(second.stdout.trim()).toBe(mine);
      expect(stderrLines(second)).toContain(`reusing your running debug container "${mine}" (process, docker.io/library/busybox:1.36) in pod "web": ephemeral containers cannot be removed; --new adds another`);
      expect(names()).toEqual([mine]);

      const forced = await run('--context', 'debugger', '--new');
      expectExit(forced, 0);
      expect(forced.stdout.trim()).not.toBe(mine);
      const other = await run('--context', 'admin');
      expectExit(other, 0);
      const shell = await runPlugin(['shell', 'web', '-n', ns, '--no-attach', '--context', 'debugger']);
      expectExit(shell, 0);
      expect(names().sort()).toEqual([mine, forced.stdout.trim(), other.stdout.trim(), shell.stdout.trim()].sort());

      // Both of debugger's process containers exit: the next run adds a new one.
      await kubelet.stop();
      markEphemeralTerminated(ns, 'web', mine);
      markEphemeralTerminated(ns, 'web', forced.stdout.trim());
      const restarted = new KubeletStandIn(ns).start();
      const after = await run('--context', 'debugger').finally(() => restarted.stop());
      expectExit(after, 0);
      expect(after.stderr).not.toContain('reusing');
      expect(names()).toHaveLength(5);
    } finally {
      await kubelet.stop();
    }
  });
});

describe('workload references (API server)', () => {
  let ns = '';
  let pods: string[] = [];
  beforeAll(async () => {
    requireBuiltPlugin();
    ns = await createTestNamespace('plugin-workloads');
    // Reading a workload's selector takes "get" on it: a namespace role grants it to debugger.
    grantInNamespace(ns, 'debugger', 'read-workloads', [
      { apiGroups: ['apps'], resources: ['deployments', 'replicasets', 'daemonsets'], verbs: ['get'] },
      { apiGroups: ['batch'], resources: ['jobs'], verbs: ['get'] },
    ]);
    const template = aPod('x').withLabels({ app: 'webdep' }).withContainer('app', { image: 'busybox:1.36', command: ['httpd', '-f'] }).withSpec({ automountServiceAccountToken: false, terminationGracePeriodSeconds: 0 }).withNodeName(fake()).build();
    createObject(
      { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' }, spec: { replicas: 2, selector: { matchLabels: { app: 'webdep' } }, template: { metadata: template.metadata, spec: template.spec } } },
      { namespace: ns },
    );
    // The controller manager makes the ReplicaSet and its two pods.
    pods = await eventually(async () => {
      const names: string[] = (await kubectlJsonAsync(['get', 'pods', '-l', 'app=webdep'], { namespace: ns })).items.map((p: any) => p.metadata.name).sort();
      return names.length >= 2 && names;
    }, 60_000, 'the deployment to make its 2 pods', 200);
    markPodRunning(ns, pods[0]!);
    markContainerCrashLooping(ns, pods[1]!, 'app', 1, 'Error');
  });
  afterAll(() => deleteTestNamespace(ns));

  it.each([
    ['shell', 'deploy/web', 'ready', 0, 'running and ready'],
    ['shell', 'deployments.apps/web', 'ready', 0, 'running and ready'],
    ['crashloop', 'deployment/web', 'crash-looping', 1, 'container "app": CrashLoopBackOff, last exit 1 (Error), 5 restart(s)'],
  ])('%s %s picks the %s pod and says which', async (preset, ref, _which, index, why) => {
    const kubelet = new KubeletStandIn(ns).start();
    const r = await runPlugin([preset, ref, '-n', ns, '--context', 'debugger', '--no-attach', '--new']).finally(() => kubelet.stop());
    expectExit(r, 0);
    const pod = pods[index]!;
    expect(stderrLines(r)).toContain(`deployment/web: using pod "${pod}" (${why}; 2 pod(s) match app=webdep)`);
    expect(getPod(ns, pod).spec.ephemeralContainers.map((c: any) => c.name)).toContain(r.stdout.trim());
  });

  it('rs/NAME resolves through the ReplicaSet the deployment made', async () => {
    const rs = (await kubectlJsonAsync(['get', 'rs'], { namespace: ns })).items[0].metadata.name;
    const r = await runPlugin(['shell', `rs/${rs}`, '-n', ns, '--context', 'debugger', '--dry-run']);
    expectExit(r, 0);
    expect(stderrLines(r)[0]).toMatch(new RegExp(`^replicaset/${rs}: using pod "${pods[0]}" \\(running and ready; 2 pod\\(s\\) match app=webdep,pod-template-hash=\\w+\\)$`));
  });

  it.each([
    ['deploy/nope', 'debugger', 66, () => `error: deployment "nope" not found in namespace "${ns}"; list them with kubectl get deployments -n ${ns}`],
    // reader may read pods but not deployments.
    ['deploy/web', 'reader', 77, () => `error: cannot get deployments.apps for deployment "web" in namespace "${ns}": User "reader" cannot get resource "deployments" in API group "apps" in the namespace "${ns}"; ask for the ClusterRole kubectl-ephemeral-debugger (listed by kubectl ephemeral permissions)`],
    ['svc/web', 'debugger', 64, () => 'error: cannot debug "svc/web": use a pod name or pod/, deploy/, sts/, ds/, rs/ or job/ followed by a name'],
  ])('%s as %s fails in one line (exit %d)', async (ref, context, code, line) => {
    const r = await runPlugin(['shell', ref, '-n', ns, '--context', context]);
    expectExit(r, code);
    expect(theErrorLine(r)).toBe(line());
  });
});
