// Promises kept on the real node: the README's own example runs as written, and cleanup either ends
// what it says or fails naming what is left and why (a shell that ignores INT, TERM and HUP; a user
// without pods/exec), touching only the caller's own sessions.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { applyManifest, clusterEnv, createObject, createTestNamespace, deleteTestNamespace, getPod, waitForPodRunning } from '../../support/cluster';
import { expectExit, pluginPath, requireBuiltPlugin, runPlugin, stderrLines, theErrorLine } from '../../support/plugin';
import { describeOnRealNode, sampleAppPod } from '../../support/terminal-session';

jest.setTimeout(180_000);

const REPO = join(__dirname, '..', '..', '..');
const describeNode = describeOnRealNode('test/e2e/features/hardening.test.ts');

/** A debug command whose main process (PID 1 of its container) ignores INT, TERM and HUP and reads no input. */
const STUBBORN = ['sh', '-c', 'trap "" INT TERM HUP; while :; do sleep 1; done'];

describeNode('promises kept on the real node', () => {
  let ns = '';
  // The built-in presets as they ship (capture's tcpdump -Z root works with the local Debian image).
  const env = {};
  const running = (pod: string, name: string) => getPod(ns, pod).status?.ephemeralContainerStatuses?.find((s: any) => s.name === name)?.state?.running !== undefined;

  beforeAll(async () => {
    requireBuiltPlugin();
    applyManifest(readFileSync(join(REPO, 'scripts', 'cluster', 'rbac.yaml'), 'utf8'));
    ns = await createTestNamespace('e2e-hardening');
    for (const name of ['web', 'stubborn', 'noexec']) createObject(sampleAppPod(name), { namespace: ns });
    for (const name of ['web', 'stubborn', 'noexec']) await waitForPodRunning(ns, name, 90_000);
  });
  afterAll(() => deleteTestNamespace(ns));

  it("the README's run-one-command example works against the sample app, as written", async () => {
    const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
    const line = readme.split('\n').find((l) => /^kubectl ephemeral shell web-7d4b9 -- /.test(l));
    expect(line).toBeDefined();
    const words = line!.replace(/^kubectl ephemeral /, '').split(' ').map((w) => (w === 'web-7d4b9' ? 'web' : w));
    const dashdash = words.indexOf('--');
    const r = await runPlugin([...words.slice(0, dashdash), '-n', ns, '--context', 'debugger', ...words.slice(dashdash)], { env, timeoutMs: 120_000 });
    expectExit(r, 0);
    expect(r.stdout).toContain('<h1>sample-app</h1>');
  });

  it('cleanup of a shell that ignores INT, TERM and HUP: exit 74 naming what is left and why', async () => {
    const started = await runPlugin(['shell', 'stubborn', '-n', ns, '--context', 'debugger', '--no-attach', '--', ...STUBBORN], { env, timeoutMs: 120_000 });
    expectExit(started, 0);
    const name = started.stdout.trim();
    const r = await runPlugin(['cleanup', 'stubborn', '-n', ns, '--context', 'debugger'], { env, timeoutMs: 120_000 });
    expectExit(r, 74);
    expect(stderrLines(r)).toEqual([
      `left: debug container ${name} of ${ns}/stubborn: still running: its main process ignores INT, TERM and HUP, and as PID 1 of its container it cannot be killed from inside; it ends when the pod is replaced`,
      `error: cleanup left 1 of 1: debug container ${name} of ${ns}/stubborn (why: above)`,
    ]);
    expect(running('stubborn', name)).toBe(true);
  });

  it('cleanup as a user without pods/exec (the core role only): exit 77 naming pods/exec and the cleanup role; another user\'s cleanup leaves the session alone', async () => {
    const asCoreOnly = ['--context', 'admin', '--as', 'core-only'];
    const started = await runPlugin(['shell', 'noexec', '-n', ns, ...asCoreOnly, '--no-attach', '--', ...STUBBORN], { env, timeoutMs: 120_000 });
    expectExit(started, 0);
    const name = started.stdout.trim();

    const other = await runPlugin(['cleanup', 'noexec', '-n', ns, '--context', 'debugger'], { env, timeoutMs: 60_000 });
    expectExit(other, 0);
    expect(stderrLines(other)).toContain('note: left alone: 1 session(s) or copies of other users (core-only); --all-users ends them too');
    expect(running('noexec', name)).toBe(true);

    const r = await runPlugin(['cleanup', 'noexec', '-n', ns, ...asCoreOnly], { env, timeoutMs: 120_000 });
    expectExit(r, 77);
    expect(stderrLines(r)).toEqual([
      `left: debug container ${name} of ${ns}/noexec: still running: it ignored Ctrl-C and exit, and you may not create pods/exec to signal it; ask for the ClusterRole kubectl-ephemeral-cleanup`,
      `error: cleanup left 1 of 1: debug container ${name} of ${ns}/noexec (why: above)`,
    ]);
  });

  it('a capture whose tcpdump fails exits 71 (tool-failed) with tcpdump\'s own message, and removes the file it created', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ke-e2e-capture-'));
    try {
      const out = join(dir, 'bad.pcap');
      const r = await runPlugin(['capture', 'web', '-n', ns, '--context', 'debugger', '-f', 'port ((( nonsense', '-w', out], { env, timeoutMs: 120_000 });
      expectExit(r, 71);
      expect(r.stderr).toMatch(/syntax error/);
      expect(theErrorLine(r)).toMatch(/^error: tcpdump in "debugger-network-\w+" failed \(exit 1\); its message is above/);
      expect(readdirSync(dir)).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('capture -w - streams the pcap to stdout and creates no file', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'ke-e2e-stdout-'));
    // kubectl keeps its discovery cache under HOME: not in the directory whose emptiness is checked.
    const home = mkdtempSync(join(tmpdir(), 'ke-e2e-home-'));
    try {
      const r = spawnSync(pluginPath(), ['capture', 'web', '-n', ns, '--context', 'debugger', '--duration', '3s', '-w', '-'], {
        cwd,
        env: { PATH: process.env.PATH, HOME: home, KUBECONFIG: clusterEnv().kubeconfig, KUBECTL_EPHEMERAL_NODE: join(REPO, 'node_modules', 'node', 'bin', 'node') },
        timeout: 120_000,
      });
      expect({ status: r.status, stderr: r.stderr.toString().split('\n').filter((l) => l.startsWith('error')) }).toEqual({ status: 0, stderr: [] });
      expect(['d4c3b2a1', 'a1b2c3d4']).toContain(r.stdout.subarray(0, 4).toString('hex'));
      expect(r.stdout.length).toBeGreaterThanOrEqual(24);
      expect(readdirSync(cwd)).toEqual([]);
    } finally {
      rmSync(cwd, { recursive: true, force: true });
      rmSync(home, { recursive: true, force: true });
    }
  });

  it('cleanup without POD covers the running debug containers of the namespace', async () => {
    const started = await runPlugin(['shell', 'web', '-n', ns, '--context', 'debugger', '--no-attach'], { env, timeoutMs: 120_000 });
    expectExit(started, 0);
    const name = started.stdout.trim();
    const dry = await runPlugin(['cleanup', '-n', ns, '--context', 'debugger', '--dry-run'], { env });
    expectExit(dry, 0);
    expect(dry.stdout).toMatch(new RegExp(`stop debug container\\s+${ns}\\s+web\\s+${name}\\s+debugger`));
    expect(dry.stdout).toMatch(new RegExp(`stop debug container\\s+${ns}\\s+stubborn\\s+`));
    // The core-only user's session is not in the caller's plan.
    expect(dry.stdout).not.toMatch(/noexec/);
  });
});
