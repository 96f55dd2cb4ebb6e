// `kubectl ephemeral <preset> node/NAME` on the real node: the shell reads a file the test plants on
// the host under /host, the network preset sees the host's interfaces (the CNI bridge), forensics
// sees the host's processes through a read-only /host and records a session that names the node;
// and the node debug pod is gone after exit, Ctrl-C, SIGTERM and a lost attach connection.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { clusterEnv, createTestNamespace, deleteTestNamespace, kubectlJson, kubectlResult } from '../../support/cluster';
import { grantNodeSessions } from '../../support/node-identity';
import { describeOnRealNode, inTerminal, type Terminal } from '../../support/terminal-session';

jest.setTimeout(120_000);

const LABEL = 'kubectl-ephemeral.dev/node-debug';
const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const USER = `node-e2e-${randomBytes(3).toString('hex')}`;

describeOnRealNode(__filename)('<preset> node/NAME on the real node', () => {
  const { nodeName, fakeNode } = clusterEnv();
  let ns = '';
  let ungrant = () => undefined as void;
  let hostDir = '';
  const token = `planted-${randomBytes(4).toString('hex')}`;

  const nodePods = (): any[] => kubectlJson(['get', 'pods', '-l', LABEL], { namespace: ns }).items;
  const args = (preset: string, node = nodeName, ...more: string[]) => [preset, `node/${node}`, '-n', ns, '--context', 'admin', '--as', USER, ...more];
  /** The pid of a process whose command line holds every one of `words` (the plugin, or its kubectl attach). */
  const pidOf = (...words: string[]): number => {
    const ps = execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' });
    const line = ps.split('\n').find((l) => words.every((w) => l.includes(w)) && !l.includes(' ps -eo'));
    if (!line) throw new Error(`no process with ${words.join(' ')}:\n${ps}`);
    return Number(line.trim().split(/\s+/)[0]);
  };
  /** Waits for the shell, and returns the node debug pod as the API server has it while attached. */
  const attached = async (t: Terminal): Promise<any> => {
    const name = (await t.waitFor(/created pod "(node-debugger-[^"]+)" on node/, { timeoutMs: 30_000 }))[1]!;
    await t.waitForShell();
    return kubectlJson(['get', 'pod', name], { namespace: ns });
  };

  beforeAll(async () => {
    ns = await createTestNamespace('e2e-node', { 'pod-security.kubernetes.io/enforce': 'privileged' });
    ungrant = grantNodeSessions(USER, [ns]);
    // The test runs on the node's own host: a world-readable file under /tmp is the node's file.
    hostDir = mkdtempSync('/tmp/ke-node-e2e-');
    chmodSync(hostDir, 0o755);
    writeFileSync(join(hostDir, 'planted.txt'), `${token}\n`, { mode: 0o644 });
  });
  afterAll(() => {
    if (ns) deleteTestNamespace(ns);
    ungrant();
    if (hostDir) rmSync(hostDir, { recursive: true, force: true });
  });

  it('shell: reads the planted host file under /host as uid 65534; Ctrl-C stops a program, not the session; exit 3 passes through; the pod is gone; an event on the node names it', () =>
    inTerminal({}, async (t) => {
      await t.runPlugin(args('shell'));
      const pod = await attached(t);
      expect(pod.spec).toMatchObject({ nodeName, tolerations: [{ operator: 'Exists' }], volumes: [{ name: 'host-root', hostPath: { path: '/' } }] });
      expect(pod.spec.hostNetwork).toBeUndefined();
      expect(pod.metadata.annotations['kubectl-ephemeral.dev/owner']).toBe(USER);
      expect(t.screen).toContain(`attaching to "${pod.spec.containers[0].name}" of pod "${pod.metadata.name}" (exit the shell to end the session and delete pod "${pod.metadata.name}")`);
      expect(await t.command(`cat /host${hostDir}/planted.txt; id -u`)).toMatch(new RegExp(`^${token}\\n65534\\n`));
      // Ctrl-C inside the session belongs to the shell's program: the session and its pod go on.
      const since = t.mark();
      t.type('echo sleep-$((1+1))-starting; sleep 100\r');
      await t.waitFor(/^sleep-2-starting\r?$/m, { since, timeoutMs: 30_000, what: 'the marker printed before sleep 100' });
      t.type('\x03');
      await t.waitFor(/\^C\n[\s\S]*[#$] /, { since, timeoutMs: 10_000, what: 'the prompt after Ctrl-C' });
      expect(t.pluginRunning()).toBe(true);
      expect(nodePods().map((p) => p.metadata.name)).toEqual([pod.metadata.name]);
      expect(await t.endPlugin('exit 3')).toBe(3);
      expect(t.screen).toContain(`deleted node debug pod "${pod.metadata.name}"`);
      await t.expectCookedMode();
      expect(nodePods()).toEqual([]);

      const events = kubectlJson(['get', 'events', '--field-selector', `involvedObject.kind=Node,involvedObject.name=${nodeName},reason=DebugSession`], { namespace: 'default' }).items;
      const mine = events.filter((e: any) => e.message.includes(pod.metadata.name));
      expect(mine.map((e: any) => [e.involvedObject.uid, e.message])).toEqual([
        [kubectlJson(['get', 'node', nodeName]).metadata.uid, `user "${USER}" started a shell session in pod ${ns}/${pod.metadata.name} (image docker.io/library/busybox:1.36)`],
      ]);
    }));

  it('-- COMMAND: its output and exit code come back, and the pod is gone', () =>
    inTerminal({}, async (t) => {
      await t.runPlugin(args('shell', nodeName, '--', 'sh', '-c', `cat /host${hostDir}/planted.txt; exit 4`));
      const name = (await t.waitFor(/created pod "(node-debugger-[^"]+)" on node/, { timeoutMs: 30_000 }))[1]!;
      expect(await t.pluginExit(60_000)).toBe(4);
      expect(t.text()).toMatch(new RegExp(`^${token}$`, 'm'));
      expect(t.screen).toContain(`deleted node debug pod "${name}"`);
      expect(nodePods()).toEqual([]);
    }));

  it("network: the host's network namespace, with the node's CNI bridge ke-cni0", () =>
    inTerminal({}, async (t) => {
      await t.runPlugin(args('network'));
      const pod = await attached(t);
      expect(pod.spec.hostNetwork).toBe(true);
      expect(await t.command('ip -o link show ke-cni0 | cut -d: -f2; id -u')).toMatch(/^ ke-cni0\n0\n/);
      expect(await t.endPlugin('exit')).toBe(0);
      expect(nodePods()).toEqual([]);
    }));

  it('forensics: the host processes, /host read-only, a recording whose header names the node', () =>
    inTerminal({}, async (t) => {
      await t.runPlugin(args('forensics'));
      await attached(t);
      expect(await t.command('ps -o comm | grep -x kubelet')).toMatch(/^kubelet\n/);
      expect(await t.command(`touch /host${hostDir}/new 2>&1`)).toMatch(/Read-only file system/);
      expect(await t.endPlugin('exit')).toBe(0);
      expect(nodePods()).toEqual([]);
      const dir = join(t.home, '.local', 'state', 'kubectl-ephemeral', 'sessions');
      const [cast] = readdirSync(dir);
      const header = JSON.parse(readFileSync(join(dir, cast!), 'utf8').split('\n')[0]!);
      expect(header.kubectl_ephemeral).toMatchObject({ namespace: ns, node: nodeName, preset: 'forensics', user: USER });
      expect(header.title).toMatch(new RegExp(`^${ns}/node-debugger-${esc(nodeName.replace(/\./g, '-'))}-[a-z0-9]{5} debugger-forensics-[a-z0-9]{5} \\(node ${esc(nodeName)}\\)$`));
    }));

  it('SIGTERM to the plugin during the session deletes the pod and exits 143', () =>
    inTerminal({}, async (t) => {
      await t.runPlugin(args('shell'));
      const pod = await attached(t);
      process.kill(pidOf('kubectl-ephemeral.cjs', 'shell', ns), 'SIGTERM');
      expect(await t.pluginExit()).toBe(143);
      expect(t.screen).toContain(`deleted node debug pod "${pod.metadata.name}"`);
      await t.expectCookedMode();
      expect(nodePods()).toEqual([]);
    }));

  it('a lost attach connection (kubectl attach killed) ends the session and deletes the pod', () =>
    inTerminal({}, async (t) => {
      await t.runPlugin(args('shell'));
      const pod = await attached(t);
      process.kill(pidOf('attach', pod.metadata.name), 'SIGKILL');
      expect(await t.pluginExit()).toBe(137);
      expect(t.screen).toContain(`deleted node debug pod "${pod.metadata.name}"`);
      await t.expectCookedMode();
      expect(nodePods()).toEqual([]);
    }));

  it('a plugin killed outright (SIGKILL) leaves its pod running, which cleanup node/NAME then deletes', () =>
    inTerminal({}, async (t) => {
      await t.runPlugin(args('shell'));
      const pod = await attached(t);
      const name = pod.metadata.name;
      process.kill(pidOf('kubectl-ephemeral.cjs', 'shell', ns), 'SIGKILL');
      expect(await t.pluginExit()).toBe(137);
      // Nothing was left to delete it: the shell still runs on the node.
      const left = nodePods();
      expect(left.map((p) => [p.metadata.name, !!p.status.containerStatuses[0].state.running])).toEqual([[name, true]]);
      await t.runPlugin(['cleanup', `node/${nodeName}`, '-n', ns, '--context', 'admin', '--as', USER]);
      expect(await t.pluginExit()).toBe(0);
      expect(t.screen).toContain(`deleted node debug pod ${ns}/${name}`);
      expect(nodePods()).toEqual([]);
    }));

  it('an image the node cannot pull: the kubelet reason is the error (exit 76) and the pod is deleted', () =>
    inTerminal({}, async (t) => {
      await t.runPlugin(args('shell', nodeName, '--image', 'localhost/kubectl-ephemeral/no-such-image:1'));
      const name = (await t.waitFor(/created pod "(node-debugger-[^"]+)" on node/, { timeoutMs: 30_000 }))[1]!;
      expect(await t.pluginExit(60_000)).toBe(76);
      expect(t.screen).toContain(`error: container "debugger-shell-${name.slice(-5)}" of pod "${name}" cannot start: `);
      expect(t.screen).toMatch(/cannot start: (ErrImagePull|ImagePullBackOff) for image "localhost\/kubectl-ephemeral\/no-such-image:1": /);
      expect(t.screen).toContain(`deleted node debug pod "${name}"`);
      expect(nodePods()).toEqual([]);
    }));

  it('Ctrl-C typed while the pod starts (on the fake node, where it never does) deletes it and exits 130', () =>
    inTerminal({}, async (t) => {
      await t.runPlugin(args('shell', fakeNode));
      const name = (await t.waitFor(/created pod "(node-debugger-[^"]+)" on node/, { timeoutMs: 30_000 }))[1]!;
      t.type('\x03');
      expect(await t.pluginExit()).toBe(130);
      expect(t.screen).toContain(`deleted node debug pod "${name}"`);
      expect(kubectlResult(['get', 'pod', name], { namespace: ns }).stderr).toMatch(/NotFound|not found/);
      expect(nodePods()).toEqual([]);
    }));
});
