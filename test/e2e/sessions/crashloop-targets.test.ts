// On the real node: crashloop on a pod stuck in Init:CrashLoopBackOff (the init container is the
// target, also when picked from the namespace without a pod name), the copy of that init container
// (kubectl debug my-pod --copy-to=my-pod-debug --container=init-myservice, the article's example),
// two runs of one preset sharing one shell instead of piling up containers, and deploy/NAME picking
// the pod kubectl exec picks.
import { clusterEnv, COPY_RULES, createObject, createTestNamespace, deleteTestNamespace, getPod, grantInNamespace, kubectl, kubectlResult } from '../../support/cluster';
import { expectExit, runPlugin } from '../../support/plugin';
import { eventually } from '../../support/wait';
import { describeOnRealNode, inTerminal, sampleAppPod, Terminal } from '../../support/terminal-session';

jest.setTimeout(180_000);

const BUSYBOX = 'docker.io/library/busybox:1.36';

/** The article's pod: an init container that waits for a service that is not there, and fails. */
function initLoopPod(name: string): object {
  const pod = sampleAppPod(name) as any;
  pod.spec.initContainers = [
    {
      name: 'init-myservice',
      image: BUSYBOX,
      imagePullPolicy: 'IfNotPresent',
      command: ['sh', '-c', 'echo waiting for $SERVICE; exit 1'],
      env: [{ name: 'SERVICE', value: 'myservice' }],
    },
  ];
  return pod;
}

function initStatus(ns: string, pod: string): any {
  return (getPod(ns, pod).status?.initContainerStatuses ?? [])[0] ?? {};
}

describeOnRealNode(__filename)('crashloop finds what crashes, reuse, workloads (real node)', () => {
  let ns = '';

  beforeAll(async () => {
    ns = await createTestNamespace('e2e-crash-targets');
    grantInNamespace(ns, 'debugger', 'debug-copies', COPY_RULES);
    // Reading a deployment's selector takes "get deployments" (kubectl ephemeral permissions lists it).
    grantInNamespace(ns, 'debugger', 'read-workloads', [{ apiGroups: ['apps'], resources: ['deployments'], verbs: ['get'] }]);
    createObject(initLoopPod('initloop'), { namespace: ns });
    createObject(sampleAppPod('web'), { namespace: ns });
    await eventually(async () => {
      const s = initStatus(ns, 'initloop');
      return (s.restartCount ?? 0) >= 1 && (s.state?.terminated ?? s.lastState?.terminated)?.exitCode === 1;
    }, 90_000, `init container of ${ns}/initloop to crash and restart`);
    await eventually(async () => getPod(ns, 'web').status?.containerStatuses?.[0]?.ready === true, 60_000, `${ns}/web to be ready`);
  });
  afterAll(() => {
    if (ns) deleteTestNamespace(ns);
  });

  it('Init:CrashLoopBackOff: the summary and the shell are for the init container (its exit code, its logs, its env)', () =>
    inTerminal({}, async (t) => {
      // The main container only waits: the failure is the init container's.
      expect(getPod(ns, 'initloop').status.containerStatuses[0].state.waiting.reason).toBe('PodInitializing');
      await t.runPlugin(['crashloop', 'initloop', '-n', ns, '--context', 'debugger']);
      const summary = await t.waitFor(/== init container "init-myservice" of pod "initloop"\n([\s\S]*?)== recent events/, { what: 'the crash summary' });
      expect(summary[1]).toMatch(/^last exit: code 1, reason Error, at \S+, \d+ restart\(s\); now (waiting \(CrashLoopBackOff\)|terminated \(exit 1\)|running)$/m);
      expect(summary[1]).toMatch(/== previous logs \(last 20 lines\)\nwaiting for myservice\n/);
      await t.waitForShell();
      expect((await t.command('echo "service=$SERVICE"')).trim()).toBe('service=myservice');
      expect(await t.endPlugin('exit')).toBe(0);
    }));

  it('crashloop without a pod on a terminal lists the one crash-looping pod, Enter picks it', () =>
    inTerminal({}, async (t) => {
      await t.runPlugin(['crashloop', '-n', ns, '--context', 'debugger']);
      await t.waitFor('pick a pod [1-1] (Enter: 1): ', { what: 'the question' });
      expect(t.screen).toMatch(/\n1\s+initloop\s+init-myservice\s+init\s+Init:(CrashLoopBackOff|Error)\s+\d+\s+1 Error\n/);
      expect(t.screen).not.toMatch(/^\d+\s+web\s/m);
      t.type('\r');
      await t.waitFor('== init container "init-myservice" of pod "initloop"');
      await t.waitForShell();
      expect(await t.endPlugin('exit 4')).toBe(4);
    }));

  it('--copy -c init-myservice --share-processes --same-node: that init container sleeps in the copy, the app waits behind it, the shell sees its processes; the copy is deleted at exit', () =>
    inTerminal({}, async (t) => {
      await t.runPlugin(['crashloop', 'initloop', '--copy', '-c', 'init-myservice', '--share-processes', '--same-node', '-n', ns, '--context', 'debugger']);
      const copy = (await t.waitFor(/created pod copy "([a-z0-9-]+)" of "initloop" with "init-myservice" running: sleep infinity/, { timeoutMs: 60_000 }))[1]!;
      await t.waitForShell();
      const pod = JSON.parse(kubectl(['get', 'pod', copy, '-o', 'json'], { namespace: ns }));
      expect(pod.spec.nodeName).toBe(clusterEnv().nodeName);
      expect(pod.spec.shareProcessNamespace).toBe(true);
      expect(pod.status.initContainerStatuses[0].state.running).toBeDefined();
      expect(pod.status.containerStatuses[0].state.waiting.reason).toBe('PodInitializing');
      // One process namespace: the pause process is PID 1, the kept-alive init container is there.
      const ps = await t.command('ps');
      expect(ps).toMatch(/^\s*1\s+\S+\s+.*\/pause/m);
      expect(ps).toMatch(/^\s*\d+\s+1000\s+.*sleep infinity/m);
      expect((await t.command('echo "service=$SERVICE"')).trim()).toBe('service=myservice');
      expect(await t.endPlugin('exit', 60_000)).toBe(0);
      expect(t.screen).toContain(`deleted pod copy "${copy}"`);
      await eventually(async () => !kubectlResult(['get', 'pod', copy], { namespace: ns }).ok, 30_000, `pod copy ${copy} to be gone`);
    }));

  it('two runs of the same preset share one shell instead of adding a second container; once it exits, a new one is added', async () => {
    const first = await Terminal.open();
    const second = await Terminal.open();
    try {
      await first.runPlugin(['process', 'web', '-n', ns, '--context', 'debugger']);
      await first.waitForShell();
      const name = (await first.waitFor(/attaching to "(debugger-process-[a-z0-9]+)"/))[1]!;
      await first.command('export MARK=set-in-the-first-run');
      // Reuse takes a container the pod status says is running; the first session attached at the
      // kubelet's Started event, which can come a second before that status.
      await eventually(async () => getPod(ns, 'web').status?.ephemeralContainerStatuses?.some((s: any) => s.name === name && s.state?.running), 30_000, `${name} running in the pod status`);

      await second.runPlugin(['process', 'web', '-n', ns, '--context', 'debugger']);
      await second.waitFor(`reusing your running debug container "${name}" (process, ${BUSYBOX}) in pod "web": ephemeral containers cannot be removed; --new adds another`);
      await second.waitFor(`attaching to "${name}"`);
      await second.waitForShell();
      // The same shell: what the first run set, the second one sees.
      expect((await second.command('echo "mark=$MARK"')).split('\n')).toContain('mark=set-in-the-first-run');
      expect(getPod(ns, 'web').spec.ephemeralContainers.map((c: any) => c.name)).toEqual([name]);

      // Ending the shared shell ends both sessions.
      expect(await second.endPlugin('exit 0', 60_000)).toBe(0);
      expect(await first.pluginExit(60_000)).toBe(0);
    } finally {
      await first.close();
      await second.close();
    }
    const third = await runPlugin(['process', 'web', '-n', ns, '--context', 'debugger', '--no-attach'], { timeoutMs: 90_000 });
    expectExit(third, 0);
    expect(third.stderr).not.toContain('reusing');
    expect(getPod(ns, 'web').spec.ephemeralContainers).toHaveLength(2);
  });

  it('deploy/NAME debugs the pod kubectl exec deploy/NAME picks (the ready one ready for longer) and says which', async () => {
    const template = sampleAppPod('x') as any;
    createObject(
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'webdep' },
        spec: { replicas: 1, selector: { matchLabels: { app: 'webdep' } }, template: { metadata: { labels: { app: 'webdep' } }, spec: template.spec } },
      },
      { namespace: ns },
    );
    const readyPods = () => JSON.parse(kubectl(['get', 'pods', '-l', 'app=webdep', '-o', 'json'], { namespace: ns })).items.filter((p: any) => p.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True'));
    await eventually(async () => readyPods().length === 1, 90_000, 'the first pod of deployment webdep to be ready');
    // A second pod, ready later: both tools must prefer the first.
    kubectl(['scale', 'deployment', 'webdep', '--replicas=2'], { namespace: ns });
    await eventually(async () => readyPods().length === 2, 90_000, 'both pods of deployment webdep to be ready');
    const kubectlsPick = kubectl(['exec', 'deploy/webdep', '--', 'hostname'], { namespace: ns }).trim();

    await inTerminal({}, async (t) => {
      await t.runPlugin(['process', 'deploy/webdep', '-n', ns, '--context', 'debugger']);
      await t.waitFor(`deployment/webdep: using pod "${kubectlsPick}" (running and ready; 2 pod(s) match app=webdep)`);
      await t.waitForShell();
      expect((await t.command('hostname')).trim()).toBe(kubectlsPick);
      expect(await t.command('ps')).toMatch(/httpd/);
      expect(await t.endPlugin('exit')).toBe(0);
    });
  });
});

describeOnRealNode(__filename)('crashloop without a pod, two crash-looping pods (real node)', () => {
  let ns = '';
  beforeAll(async () => {
    ns = await createTestNamespace('e2e-crash-pick');
    createObject(initLoopPod('initloop'), { namespace: ns });
    createObject(sampleAppPod('crashy', { command: ['sh', '-c', 'echo crashy booting; exit 3'] }), { namespace: ns });
    createObject(sampleAppPod('web'), { namespace: ns });
    await eventually(async () => (initStatus(ns, 'initloop').restartCount ?? 0) >= 1, 90_000, `init container of ${ns}/initloop to restart`);
    await eventually(async () => (getPod(ns, 'crashy').status?.containerStatuses?.[0]?.restartCount ?? 0) >= 1, 90_000, `${ns}/crashy to restart`);
  });
  afterAll(() => {
    if (ns) deleteTestNamespace(ns);
  });

  it('without a terminal: one line naming both (exit 64)', async () => {
    const r = await runPlugin(['crashloop', '-n', ns, '--context', 'debugger'], { timeoutMs: 60_000 });
    expectExit(r, 64);
    expect(r.stderr).toMatch(
      new RegExp(`^error: name the pod to debug \\(no terminal to pick on\\): 2 pod\\(s\\) with a failing container in namespace "${ns}": crashy \\(container "app": \\S+, last exit 3 \\(Error\\), \\d+ restart\\(s\\)\\); initloop \\(init container "init-myservice": Init:\\S+, last exit 1 \\(Error\\), \\d+ restart\\(s\\)\\); run kubectl ephemeral crashloop POD -n ${ns}\\n$`),
    );
  });

  it('on a terminal: lists both, the second picked by its number is debugged', () =>
    inTerminal({}, async (t) => {
      await t.runPlugin(['crashloop', '-n', ns, '--context', 'debugger']);
      await t.waitFor('pick a pod [1-2]: ', { what: 'the question' });
      expect(t.screen).toMatch(/\n1\s+crashy\s+app\s+main\s+\S+\s+\d+\s+3 Error\n2\s+initloop\s+init-myservice\s+init\s+Init:\S+\s+\d+\s+1 Error\n/);
      t.type('2\r');
      await t.waitFor('using pod "initloop" (init container "init-myservice"');
      await t.waitFor(/== previous logs \(last 20 lines\)\nwaiting for myservice\n/);
      await t.waitForShell();
      expect((await t.command('echo "service=$SERVICE"')).trim()).toBe('service=myservice');
      expect(await t.endPlugin('exit')).toBe(0);
    }));
});
