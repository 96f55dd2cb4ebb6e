// Smoke test of the real local node (scripts/node.sh): the scheduler places a pod on it, the pod
// runs on containerd with a bridge IP and the cluster's DNS in its resolv.conf, exec and attach
// stream through API server -> kubelet -> containerd, an ephemeral container targeting the app
// reaches running, and the `net` preset's shell resolves kubernetes.default (the demo's hint).
// Skips itself unless `scripts/cluster.sh up --node` has run.
import { spawn } from 'node:child_process';
import { aPod } from '../support/builders';
import { describeOnRealNode, inTerminal, SAMPLE_APP } from '../support/terminal-session';
import { addEphemeralContainer, clusterEnv, createObject, createTestNamespace, deleteTestNamespace, getPod, kubectl, KUBECTL, kubectlJson, waitForPodRunning } from '../support/cluster';
import { eventually } from '../support/wait';

jest.setTimeout(120_000);

const BUSYBOX = 'docker.io/library/busybox:1.36';
const NETSHOOT = 'docker.io/nicolaka/netshoot:v0.13';
const POD_SUBNET = /^10\.88\.\d+\.\d+$/;
/** The bridge's gateway (scripts/node.sh POD_GATEWAY): where CoreDNS answers pods, the kubelet's clusterDNS. */
const CLUSTER_DNS = '10.88.0.1';

const describeNode = describeOnRealNode('test/e2e/node.test.ts');

/**
 * `kubectl attach -i` with stdin held open until the command's output is back: closing stdin ends
 * a non-StdinOnce attach session at once (containerd), possibly before the output is streamed.
 */
function attachAndRun(namespace: string, pod: string, container: string, script: string): Promise<string> {
  const { kubeconfig } = clusterEnv();
  const child = spawn(KUBECTL, ['--kubeconfig', kubeconfig, '--context', 'admin', '-n', namespace, 'attach', '-i', pod, '-c', container]);
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error(`attach timed out; output so far: ${out}`));
    }, 60_000);
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', () => {
      clearTimeout(timer);
      resolve(out);
    });
    // The shell reads the line once attached; its exit ends the session from the container side.
    child.stdin.write(`${script}\n`);
  });
}

function containerState(pod: any, list: 'containerStatuses' | 'ephemeralContainerStatuses', name: string): any {
  return (pod.status?.[list] ?? []).find((s: any) => s.name === name)?.state ?? {};
}

describeNode('real node', () => {
  let ns = '';
  const pod = 'sample';

  beforeAll(async () => {
    ns = await createTestNamespace('node-e2e');
    createObject(
      aPod(pod)
        .inNamespace(ns)
        .withContainer('app', { image: SAMPLE_APP, imagePullPolicy: 'Never' })
        .withTerminationGracePeriod(1)
        .build(),
      { namespace: ns },
    );
    await waitForPodRunning(ns, pod);
  });
  afterAll(() => {
    if (ns) deleteTestNamespace(ns);
  });

  it('runs the sample app, placed by the scheduler, with an IP from the bridge', () => {
    const p = getPod(ns, pod);
    expect(p.spec.nodeName).toBe(clusterEnv().nodeName);
    expect(p.status.conditions.find((c: any) => c.type === 'PodScheduled').status).toBe('True');
    expect(p.status.phase).toBe('Running');
    expect(p.status.podIP).toMatch(POD_SUBNET);
    expect(containerState(p, 'containerStatuses', 'app').running).toBeDefined();
    expect(p.status.containerStatuses[0].containerID).toMatch(/^containerd:\/\//);
  });

  it("gives the pod the cluster's DNS (no MissingClusterDNS warning): its nameserver and search domains", () => {
    const conf = kubectl(['exec', pod, '-c', 'app', '--', 'cat', '/etc/resolv.conf'], { namespace: ns });
    expect(conf).toMatch(new RegExp(`^nameserver ${CLUSTER_DNS.replace(/\./g, '\\.')}$`, 'm'));
    expect(conf).toMatch(new RegExp(`^search ${ns}\\.svc\\.cluster\\.local svc\\.cluster\\.local cluster\\.local\\b`, 'm'));
    expect(conf).toMatch(/^options ndots:5$/m);
    const warnings = kubectlJson(['get', 'events', '--field-selector', `involvedObject.name=${pod},reason=MissingClusterDNS`], { namespace: ns }).items;
    expect(warnings).toEqual([]);
  });

  it('execs into the app, which serves /app on port 8080', () => {
    const out = kubectl(['exec', pod, '-c', 'app', '--', 'sh', '-c', 'cat /app/VERSION; wget -qO- http://127.0.0.1:8080/'], {
      namespace: ns,
    });
    expect(out).toMatch(/^1\n/);
    expect(out).toContain('<h1>sample-app</h1>');
  });

  it('runs an ephemeral container in the target PID namespace and attaches to it', async () => {
    addEphemeralContainer(ns, pod, {
      name: 'debugger',
      image: BUSYBOX,
      imagePullPolicy: 'Never',
      targetContainerName: 'app',
      stdin: true,
      command: ['sh'],
    });
    await eventually(async () => !!containerState(getPod(ns, pod), 'ephemeralContainerStatuses', 'debugger').running, 60_000, 'debugger running');

    // Attach goes API server -> kubelet (127.0.0.1:10250) -> containerd's stream server.
    const out = await attachAndRun(ns, pod, 'debugger', 'echo attached-$((6*7)); ps -o pid,args; exit 3');
    expect(out).toContain('attached-42');
    expect(out).toMatch(/^\s*1 \/bin\/httpd -f/m); // the target's PID 1: namespaces are shared
    await eventually(async () => !!containerState(getPod(ns, pod), 'ephemeralContainerStatuses', 'debugger').terminated, 30_000, 'debugger exit');
    expect(containerState(getPod(ns, pod), 'ephemeralContainerStatuses', 'debugger').terminated.exitCode).toBe(3);
  });

  it('runs the netshoot image as an ephemeral container that sees the pod network', async () => {
    addEphemeralContainer(ns, pod, {
      name: 'netshoot',
      image: NETSHOOT,
      imagePullPolicy: 'Never',
      targetContainerName: 'app',
      command: ['bash', '-c', 'ip -4 -o addr show eth0; curl -s http://127.0.0.1:8080/VERSION; tcpdump --version'],
    });
    await eventually(async () => !!containerState(getPod(ns, pod), 'ephemeralContainerStatuses', 'netshoot').terminated, 60_000, 'netshoot exit');
    const logs = kubectl(['logs', pod, '-c', 'netshoot'], { namespace: ns });
    expect(logs).toMatch(/eth0\s+inet 10\.88\./);
    expect(logs).toMatch(/^1$/m);
    expect(logs).toMatch(/tcpdump version/);
  });

  it("the net preset's shell (the demo's) answers nslookup kubernetes.default from the cluster DNS", () =>
    inTerminal({}, async (t) => {
      const kubernetesIP: string = kubectlJson(['get', 'service', 'kubernetes'], { namespace: 'default' }).spec.clusterIP;
      await t.runPlugin(['net', pod, '-n', ns, '--context', 'debugger']);
      await t.waitForShell();
      const out = await t.command('nslookup kubernetes.default');
      expect(out).toMatch(new RegExp(`^Server:\\s+${CLUSTER_DNS.replace(/\./g, '\\.')}$`, 'm'));
      expect(out).toMatch(new RegExp(`^Name:\\s+kubernetes\\.default\\.svc\\.cluster\\.local\\nAddress:\\s+${kubernetesIP.replace(/\./g, '\\.')}$`, 'm'));
      expect(await t.endPlugin('exit')).toBe(0);
    }));
});
