// The API server restarts (SIGTERM, as in an upgrade) while the plugin waits for its container:
// the watch is cut, connections are refused for a while, and the run must still succeed, as
// `kubectl wait` does next to it; and one whose --timeout comes meanwhile must end at it, with the
// timeout's exit code. This restarts the API server of the cluster KE_STATE_DIR names (in CI the
// default one; jest runs the API suites one file at a time, --runInBand): run it sparingly, and
// against your own cluster when others use the shared one (scripts/cluster.sh up with KE_STATE_DIR
// and the KE_*_PORT variables set).
import { execFile, spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { aPod } from '../../support/builders';
import { clusterEnv, createTestNamespace, deleteTestNamespace, KUBECTL, kubectlJsonAsync } from '../../support/cluster';
import { createRunningPod, KubeletStandIn, markEphemeralRunning } from '../../support/kubelet';
import { expectExit, requireBuiltPlugin, startPlugin, stderrLines } from '../../support/plugin';
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

  it('a waiting run survives it and reports the container running (kubectl wait: same); one waiting past its --timeout ends at it: exit 75, the timeout line', async () => {
    const run = startPlugin(['shell', 'web', '-n', ns, '--context', 'admin', '--name', 'across-restart', '--no-attach', '--timeout', '4m'], { timeoutMs: 280_000 });
    // Its container never gets a status: the deadline decides, down or up as the server is then.
    const timed = startPlugin(['shell', 'web', '-n', ns, '--context', 'admin', '--name', 'timed-across', '--no-attach', '--timeout', '20s'], { timeoutMs: 280_000 });
    // Once the containers and the audit entries are written, only the waits are left.
    await eventually(async () => {
      const pod = await kubectlJsonAsync(['get', 'pod', 'web'], { namespace: ns });
      const names = (pod.spec.ephemeralContainers ?? []).map((c: any) => c.name);
      const audit = pod.metadata.annotations?.['kubectl-ephemeral.dev/audit'] ?? '';
      return names.includes('across-restart') && names.includes('timed-across') && audit.includes('across-restart') && audit.includes('timed-across');
    }, 60_000, 'the debug containers and their audit entries');
    // kubectl wait next to it, restarted under it only once its watch is open (-v=6 logs the request).
    const wait = spawn(KUBECTL, ['--kubeconfig', clusterEnv().kubeconfig, '--context', 'admin', '-n', ns, 'wait', 'pod/web', '--for=jsonpath={.status.ephemeralContainerStatuses[0].state.running}', '--timeout=4m', '-v=6'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let waitLog = '';
    wait.stderr!.on('data', (d) => (waitLog += d));
    const waiting = new Promise<number | null>((r) => wait.on('close', r));
    await eventually(async () => /watch=true/.test(waitLog), 30_000, 'kubectl wait to open its watch');
    const restartFrom = Date.now();
    await restartApiServer();
    markEphemeralRunning(ns, 'web', 'across-restart');
    const r = await run.done;
    expectExit(r, 0);
    expect(r.stdout).toBe('across-restart\n');
    expect(await waiting).toBe(0);
    // Ended by its deadline, whether the server was down or back by then: never "cancelled" (130)
    // nor "cannot reach" (69), and only after the restart began (its wait spanned it).
    const t = await timed.done;
    expectExit(t, 75);
    expect(t.exitedAt).toBeGreaterThan(restartFrom);
    expect(stderrLines(t)).toEqual([
      expect.stringMatching(/^added ephemeral container "timed-across"/),
      expect.stringMatching(/^error: container "timed-across" of pod "web" did not start within --timeout \(last state: no status yet\); check the node with kubectl describe pod web -n /),
    ]);
  });
});
