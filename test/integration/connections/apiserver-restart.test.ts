// The API server restarts (SIGTERM, as in an upgrade) while the plugin waits for its container:
// the watch is cut, connections are refused for a while, and the run must still succeed, as
// `kubectl wait` does next to it. This restarts the SHARED local API server: run it sparingly.
import { execFile, spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { aPod } from '../../support/builders';
import { clusterEnv, createTestNamespace, deleteTestNamespace, KUBECTL, kubectlJsonAsync } from '../../support/cluster';
import { createRunningPod, KubeletStandIn, markEphemeralRunning } from '../../support/kubelet';
import { expectExit, requireBuiltPlugin, startPlugin } from '../../support/plugin';
import { eventually } from '../../support/wait';

jest.setTimeout(300_000);

const REPO = resolve(__dirname, '..', '..', '..');

function restartApiServer(): Promise<void> {
  return new Promise((done, fail) =>
    execFile('bash', [join(REPO, 'scripts', 'cluster.sh'), 'restart-apiserver'], { env: { ...process.env, KE_STATE_DIR: clusterEnv().stateDir }, timeout: 180_000 }, (err, _out, stderr) =>
      err ? fail(new Error(`restart-apiserver failed: ${stderr}`)) : done(),
    ),
  );
}

describe('an API server restart while the plugin waits', () => {
  let ns = '';
  let kubelet: KubeletStandIn;

  beforeAll(async () => {
    requireBuiltPlugin();
    ns = await createTestNamespace('conn-restart');
    createRunningPod(ns, aPod('web').withContainer('app', { image: 'nginx:1.27' }).build());
    // Debug containers get no status until the test says so.
    kubelet = new KubeletStandIn(ns, { ephemeral: () => ({ state: 'ignore' }) }).start();
  });
  afterAll(async () => {
    await kubelet?.stop();
    deleteTestNamespace(ns);
  });

  it('the run survives it and reports the container running (kubectl wait: same)', async () => {
    const run = startPlugin(['shell', 'web', '-n', ns, '--context', 'admin', '--name', 'across-restart', '--no-attach', '--timeout', '4m'], { timeoutMs: 280_000 });
    // Once the container and the audit entry are written, only the wait is left.
    await eventually(async () => {
      const pod = await kubectlJsonAsync(['get', 'pod', 'web'], { namespace: ns });
      return pod.spec.ephemeralContainers?.some((c: any) => c.name === 'across-restart') && pod.metadata.annotations?.['kubectl-ephemeral.dev/audit'];
    }, 60_000, 'the debug container and its audit entry');
    // kubectl wait next to it, restarted under it only once its watch is open (-v=6 logs the request).
    const wait = spawn(KUBECTL, ['--kubeconfig', clusterEnv().kubeconfig, '--context', 'admin', '-n', ns, 'wait', 'pod/web', '--for=jsonpath={.status.ephemeralContainerStatuses[0].state.running}', '--timeout=4m', '-v=6'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let waitLog = '';
    wait.stderr!.on('data', (d) => (waitLog += d));
    const waiting = new Promise<number | null>((r) => wait.on('close', r));
    await eventually(async () => /watch=true/.test(waitLog), 30_000, 'kubectl wait to open its watch');
    await restartApiServer();
    markEphemeralRunning(ns, 'web', 'across-restart');
    const r = await run.done;
    expectExit(r, 0);
    expect(r.stdout).toBe('across-restart\n');
    expect(await waiting).toBe(0);
  });
});
