// Issue 29 on the real node: a write that fails (a full disk, a reader that went away, /dev/full)
// ends capture and collect with one line and exit 74, removes the partial file, and stops the debug
// container; and capture writes its audit entry. The full disk is a 64 KB tmpfs mounted in a
// private mount namespace (unshare -m), so nothing outside the test sees it.
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { aPod } from '../../support/builders';
import { clusterEnv, createObject, createTestNamespace, deleteTestNamespace, getPod, kubectlResult, waitForPodRunning } from '../../support/cluster';
import { pluginPath, requireBuiltPlugin, runPlugin, tempDir } from '../../support/plugin';
import { eventually } from '../../support/wait';
import { describeOnRealNode } from '../../support/terminal-session';

jest.setTimeout(240_000);

const BUSYBOX = 'docker.io/library/busybox:1.36';
const PINNED_NODE = resolve(__dirname, '../../../node_modules/node/bin/node');
const describeNode = describeOnRealNode('test/e2e/features/write-errors.test.ts');

/** A bash script's run: its exit code (the plugin's, passed on), stdout and stderr. */
interface ScriptRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

describeNode('write errors end capture and collect cleanly', () => {
  let ns = '';
  let podIP = '';
  const home = tempDir('ke-e2e-write-errors-');
  const env = () => ({ PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home.dir, KUBECONFIG: clusterEnv().kubeconfig, KUBECTL_EPHEMERAL_NODE: PINNED_NODE });

  /**
   * Runs `script` under bash with $P the plugin, under a 4 GB address-space limit and a timeout;
   * while it runs, requests are made to the pod so that tcpdump has packets to write.
   */
  const runScript = (script: string, traffic: boolean): Promise<ScriptRun> =>
    new Promise((done) => {
      const child = spawn('bash', ['-c', `ulimit -v 4000000; P="$0"; ${script}`, pluginPath()], { env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      const timer = setTimeout(() => child.kill('SIGKILL'), 180_000);
      let running = true;
      const load = async () => {
        while (running && traffic) {
          // Each request is a few packets both ways; the pod answers on 8080 (busybox httpd).
          await new Promise((r) => spawn('curl', ['-s', '-o', '/dev/null', '-m', '2', `http://${podIP}:8080/`]).on('close', r));
        }
      };
      void load();
      child.on('close', (code) => {
        running = false;
        clearTimeout(timer);
        done({ code, stdout, stderr });
      });
    });
  const errorLines = (r: ScriptRun) => r.stderr.split('\n').filter((l) => l.startsWith('error: '));
  const noStack = (r: ScriptRun) => expect(r.stderr).not.toMatch(/^\s+at |Error: |\[debug\]/m);
  const containerIn = (r: ScriptRun) => /ephemeral container "([^"]+)"/.exec(r.stderr)?.[1];
  const stateOf = (name: string) => getPod(ns, 'web').status.ephemeralContainerStatuses?.find((s: any) => s.name === name)?.state;

  beforeAll(async () => {
    requireBuiltPlugin();
    ns = await createTestNamespace('e2e-write-errors', { 'pod-security.kubernetes.io/enforce': 'baseline' });
    createObject(
      aPod('web')
        .withContainer('app', { image: BUSYBOX, imagePullPolicy: 'IfNotPresent', command: ['sh', '-c', 'mkdir -p /www && head -c 20000 /dev/urandom | od -x > /www/index.html && exec httpd -f -p 8080 -h /www'] })
        .withNodeName(clusterEnv().nodeName)
        .withTerminationGracePeriod(1)
        .build(),
      { namespace: ns },
    );
    await waitForPodRunning(ns, 'web', 90_000);
    podIP = getPod(ns, 'web').status.podIP;
    await eventually(async () => kubectlResult(['exec', 'web', '--', 'wget', '-qO/dev/null', 'http://127.0.0.1:8080/'], { namespace: ns }).ok, 30_000, 'httpd to answer');
  });
  afterAll(() => {
    deleteTestNamespace(ns);
    home.remove();
  });

  it('capture onto a full disk (64 KB tmpfs): exit 74, one line, the partial pcap removed, the container stopped; other pods still list', async () => {
    const disk = join(home.dir, 'full');
    mkdirSync(disk);
    const r = await runScript(
      `unshare -m bash -c 'mount -t tmpfs -o size=64k tmpfs "$1" && "$0" capture web -n "$2" --context debugger -w "$1/web.pcap"; c=$?; ls -A "$1"; exit $c' "$P" ${disk} ${ns}`,
      true,
    );
    expect(r.code).toBe(74);
    noStack(r);
    const name = containerIn(r)!;
    expect(errorLines(r)).toEqual([`error: cannot write ${disk}/web.pcap: no space left on the device (ENOSPC); the partial file was removed; the capture container "${name}" stopped`]);
    // What the private tmpfs held when the plugin exited: nothing.
    expect(r.stdout).toBe('');
    expect(stateOf(name).terminated).toBeDefined();
    // Its audit entry was written as it started (capture writes one, as every session does).
    const trail = JSON.parse(getPod(ns, 'web').metadata.annotations['kubectl-ephemeral.dev/audit']);
    expect(trail).toContainEqual(expect.objectContaining({ container: name, preset: 'network', user: 'debugger' }));
    const list = await runPlugin(['list', '-A', '--context', 'admin', '-o', 'wide'], { timeoutMs: 60_000 });
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(new RegExp(`^${ns}\\s+web\\s+${name}\\s`, 'm'));
  });

  it('capture -w - into a pipe whose reader goes away (| head -c 1000): exit 74 naming EPIPE, the container stopped', async () => {
    const r = await runScript(`"$P" capture web -n ${ns} --context debugger -w - | head -c 1000 >/dev/null; exit \${PIPESTATUS[0]}`, true);
    expect(r.code).toBe(74);
    noStack(r);
    const name = containerIn(r)!;
    expect(errorLines(r)).toEqual([`error: cannot write stdout: the reader closed the pipe (EPIPE); the capture container "${name}" stopped`]);
    expect(stateOf(name).terminated).toBeDefined();
  });

  it('capture -w - > /dev/full: exit 74 naming ENOSPC', async () => {
    const r = await runScript(`"$P" capture web -n ${ns} --context debugger -w - >/dev/full`, true);
    expect(r.code).toBe(74);
    noStack(r);
    expect(errorLines(r)).toEqual([`error: cannot write stdout: no space left on the device (ENOSPC); the capture container "${containerIn(r)}" stopped`]);
  });

  it('collect onto a full disk: exit 74, one line, the partial archive removed, the collector stopped', async () => {
    const disk = join(home.dir, 'full-collect');
    mkdirSync(disk);
    const r = await runScript(
      `unshare -m bash -c 'mount -t tmpfs -o size=64k tmpfs "$1" && "$0" collect web -n "$2" --context debugger --path /bin -w "$1/web.tar"; c=$?; ls -A "$1"; exit $c' "$P" ${disk} ${ns}`,
      false,
    );
    expect(r.code).toBe(74);
    noStack(r);
    const name = containerIn(r)!;
    expect(errorLines(r)).toEqual([`error: cannot write ${disk}/web.tar: no space left on the device (ENOSPC); the partial archive was removed; the collect container "${name}" stopped`]);
    expect(r.stdout).toBe('');
    expect(stateOf(name).terminated).toBeDefined();
  });

  it('collect -w - | head -c 1000: exit 74 naming EPIPE', async () => {
    const r = await runScript(`"$P" collect web -n ${ns} --context debugger --path /bin -w - | head -c 1000 >/dev/null; exit \${PIPESTATUS[0]}`, false);
    expect(r.code).toBe(74);
    noStack(r);
    const name = containerIn(r)!;
    expect(errorLines(r)).toEqual([`error: cannot write stdout: the reader closed the pipe (EPIPE); the collect container "${name}" stopped`]);
    expect(stateOf(name).terminated).toBeDefined();
  });
});
