// Bad input against the live server: each failure is one line on stderr with its documented exit
// code, no stack trace, and nothing left behind that the plugin could have avoided.
import { chmodSync, existsSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { aPod } from '../../support/builders';
import { clusterEnv, createTestNamespace, deleteTestNamespace, getPod, kubectlJson } from '../../support/cluster';
import { createRunningPod, KubeletStandIn } from '../../support/kubelet';
import { expectExit, requireBuiltPlugin, runPlugin, stderrLines, tempDir, theErrorLine } from '../../support/plugin';

jest.setTimeout(60_000);

describe('bad input against the live server', () => {
  let ns = '';
  let files: ReturnType<typeof tempDir>;
  const podsIn = (namespace: string) => kubectlJson(['get', 'pods'], { namespace }).items.map((p: any) => p.metadata.name).sort();
  /** Nothing was added: the pods are the test's own and carry no ephemeral container. */
  const expectUntouched = () => {
    expect(podsIn(ns)).toEqual(['api', 'web']);
    expect(getPod(ns, 'web').spec.ephemeralContainers).toBeUndefined();
  };

  beforeAll(async () => {
    requireBuiltPlugin();
    ns = await createTestNamespace('plugin-errors');
    for (const name of ['web', 'api']) {
      createRunningPod(ns, aPod(name).withContainer('app', { image: 'nginx:1.27' }).build());
    }
    files = tempDir('ke-errors-');
  });
  afterAll(() => {
    files?.remove();
    deleteTestNamespace(ns);
  });

  // Failures found before anything is sent: stderr is exactly the one error line.
  const before: Array<{ what: string; args: () => string[]; code: number; message: RegExp; env?: Record<string, string | null> }> = [
    { what: 'pod not found', args: () => ['shell', 'nope', '-n', ns, '--context', 'debugger'], code: 66, message: /^error: pod "nope" not found in namespace "plugin-errors-\w+"; list pods with kubectl get pods -n / },
    { what: 'container not found (-c nope)', args: () => ['shell', 'web', '-c', 'nope', '-n', ns, '--context', 'debugger'], code: 66, message: /^error: container "nope" not found in pod "web"; choose one of: app$/ },
    { what: 'wrong namespace', args: () => ['shell', 'web', '-n', 'default', '--context', 'debugger'], code: 66, message: /^error: pod "web" not found in namespace "default"/ },
    { what: 'unknown context', args: () => ['shell', 'web', '-n', ns, '--context', 'nope'], code: 66, message: /^error: context "nope" not found in kubeconfig; list them with kubectl config get-contexts$/ },
    { what: '--kubeconfig missing', args: () => ['shell', 'web', '-n', ns, '--kubeconfig', '/nonexistent/kubeconfig'], code: 66, message: /^error: kubeconfig \/nonexistent\/kubeconfig not found/ },
    { what: 'KUBECONFIG missing', args: () => ['shell', 'web', '-n', ns], code: 66, message: /^error: no file of KUBECONFIG=\/nonexistent\/a:\/nonexistent\/b exists/, env: { KUBECONFIG: '/nonexistent/a:/nonexistent/b' } },
  ];
  it.each(before)('$what: exit $code, one line', async ({ args, code, message, env }) => {
    const r = await runPlugin([...args(), '--no-attach'], { env });
    expectExit(r, code);
    expect(stderrLines(r)).toEqual([theErrorLine(r)]);
    expect(theErrorLine(r)).toMatch(message);
    expect(r.stdout).toBe('');
    expectUntouched();
  });

  // Usage errors and files that cannot be written: found before anything is sent, so the cluster is
  // untouched and no file is created. (Each was an exit 70, a stack trace or a swallowed pod name.)
  const usage: Array<{ what: string; args: () => string[]; code: number; line: () => string }> = [
    { what: '--dry-run=maybe', args: () => ['shell', 'web', '-n', ns, '--context', 'debugger', '--dry-run=maybe'], code: 64, line: () => 'error: invalid --dry-run "maybe"; use --dry-run, --dry-run=client or --dry-run=server' },
    {
      what: '-n NS nosuchpreset web',
      args: () => ['-n', ns, 'nosuchpreset', 'web'],
      code: 64,
      line: () => 'error: unknown preset or command "nosuchpreset"; presets: network, net, forensics, crashloop, process, proc, shell; commands: presets, list, attach, capture, collect, sessions, cleanup, permissions',
    },
    { what: 'a bad flag (named once)', args: () => ['shell', 'web', '-n', ns, '--bogus-flag'], code: 64, line: () => 'error: unknown flag: --bogus-flag; see kubectl ephemeral shell --help' },
    { what: 'shell web --copy', args: () => ['shell', 'web', '-n', ns, '--context', 'debugger', '--copy'], code: 64, line: () => 'error: --copy is for crashloop only (preset "shell" has no copy mode); use kubectl ephemeral crashloop web --copy' },
    { what: 'capture without -w', args: () => ['capture', 'web', '-n', ns, '--context', 'debugger'], code: 64, line: () => 'error: capture needs -w FILE (or -w - for stdout); for example: kubectl ephemeral capture web -w web.pcap' },
    { what: '--timeout 0s', args: () => ['shell', 'web', '-n', ns, '--context', 'debugger', '--timeout', '0s', '--no-attach'], code: 64, line: () => 'error: --timeout must be longer than zero (got "0s"); use a number with a unit, such as 30s, 2m or 1h' },
    { what: '--timeout 10 (no unit)', args: () => ['shell', 'web', '-n', ns, '--context', 'debugger', '--timeout', '10', '--no-attach'], code: 64, line: () => 'error: invalid duration "10" for --timeout; use a number with a unit, such as 30s, 2m or 1h' },
    {
      what: 'capture -w into a missing directory',
      args: () => ['capture', 'web', '-n', ns, '--context', 'debugger', '-w', `${files.dir}/missing/out.pcap`],
      code: 66,
      line: () => `error: the directory of ${files.dir}/missing/out.pcap does not exist; create it or name another -w file`,
    },
  ];
  it.each(usage)('$what: exit $code, one line, nothing created', async ({ args, code, line }) => {
    const r = await runPlugin(args());
    expectExit(r, code);
    expect(stderrLines(r)).toEqual([line()]);
    expect(r.stdout).toBe('');
    expectUntouched();
    expect(readdirSync(files.dir).filter((f) => f !== 'down.json')).toEqual([]);
  });

  it('capture -w through a symlink: refused (64) before the cluster is asked, the linked file untouched', async () => {
    const victim = files.file('victim.txt', 'precious');
    chmodSync(victim, 0o644);
    const link = join(files.dir, 'link.pcap');
    symlinkSync(victim, link);
    try {
      const r = await runPlugin(['capture', 'web', '-n', ns, '--context', 'debugger', '-w', link]);
      expectExit(r, 64);
      expect(stderrLines(r)).toEqual([`error: ${link} already exists; -w never overwrites a file: name a new one`]);
      expect(readFileSync(victim, 'utf8')).toBe('precious');
      expect(statSync(victim).mode & 0o777).toBe(0o644);
      expectUntouched();
    } finally {
      rmSync(link);
      rmSync(victim);
    }
  });

  it('a capture that fails after the file was created removes it (pod not found: 66)', async () => {
    const out = join(files.dir, 'gone.pcap');
    const r = await runPlugin(['capture', 'nope', '-n', ns, '--context', 'debugger', '-w', out]);
    expectExit(r, 66);
    expect(theErrorLine(r)).toMatch(/^error: pod "nope" not found/);
    expect(existsSync(out)).toBe(false);
  });

  it.each([
    ['shell --dry-run web', ['shell', '--dry-run', 'web']],
    ['shell --record web --dry-run', ['shell', '--record', 'web', '--dry-run']],
    ['shell --dry-run server web', ['shell', '--dry-run', 'server', 'web']],
  ])('%s: the pod name is not taken as the flag value', async (_what, words) => {
    const r = await runPlugin([...words, '-n', ns, '--context', 'debugger', '-o', 'json']);
    expectExit(r, 0);
    const patch = JSON.parse(r.stdout);
    expect(patch.spec.ephemeralContainers).toHaveLength(1);
    expectUntouched();
  });

  it('server down (127.0.0.1:1): exit 69 within 2 s, one line naming the server', async () => {
    const cfg = {
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'down', cluster: { server: 'https://127.0.0.1:1', 'certificate-authority': clusterEnv().caCrt } }],
      users: [{ name: 'someone', user: { token: 'not-a-real-token' } }],
      contexts: [{ name: 'down', context: { cluster: 'down', user: 'someone' } }],
      'current-context': 'down',
    };
    const env = { KUBECONFIG: files.file('down.json', JSON.stringify(cfg)) };
    // Best of three: on a loaded machine Node's own start-up can take a second; a plugin that
    // waited for a connect timeout or retried would take longer every time.
    const runs = [await runPlugin(['shell', 'web', '-n', ns, '--no-attach'], { env })];
    while (runs.length < 3 && runs.at(-1)!.ms >= 2_000) runs.push(await runPlugin(['shell', 'web', '-n', ns, '--no-attach'], { env }));
    const r = runs.at(-1)!;
    expectExit(r, 69);
    expect(Math.min(...runs.map((x) => x.ms))).toBeLessThan(2_000);
    expect(stderrLines(r)).toEqual([theErrorLine(r)]);
    expect(theErrorLine(r)).toMatch(/^error: cannot reach the API server https:\/\/127\.0\.0\.1:1 of context "down" \(ECONNREFUSED\)/);
  });

  it('--timeout 2s expiring while the container waits: exit 75 naming its last state (status written by the test acting as kubelet)', async () => {
    const kubelet = new KubeletStandIn(ns, { pods: (p) => p.metadata.name === 'web', ephemeral: () => ({ state: 'waiting', reason: 'ContainerCreating' }) }).start();
    const r = await runPlugin(['shell', 'web', '-n', ns, '--context', 'debugger', '--timeout', '2s', '--name', 'slow', '--no-attach']).finally(() => kubelet.stop());
    expectExit(r, 75);
    expect(kubelet.handled).toEqual(['web/slow']);
    expect(r.ms).toBeGreaterThanOrEqual(2_000);
    expect(r.ms).toBeLessThan(8_000);
    expect(theErrorLine(r)).toMatch(/^error: container "slow" of pod "web" did not start within --timeout \(last state: ContainerCreating\); check the node with kubectl describe pod web -n /);
    expect(stderrLines(r)).toEqual([
      expect.stringMatching(/^added ephemeral container "slow"/),
      'waiting for container "slow": ContainerCreating',
      theErrorLine(r),
    ]);
    expect(r.stdout).toBe('');
    // Ephemeral containers cannot be removed: the one container stays, nothing else is made.
    expect(getPod(ns, 'web').spec.ephemeralContainers.map((c: any) => c.name)).toEqual(['slow']);
    expect(podsIn(ns)).toEqual(['api', 'web']);
  });

  // A deadline that passes before the watch even connected was once reported as "error: cancelled",
  // exit 130: the aborted request's word. It is the timeout, whatever the size.
  it.each(['shell', 'net'])('--timeout 1ms (%s): exit 75 and the timeout line, never "cancelled" (no status: the test acts as kubelet and writes none)', async (preset) => {
    const kubelet = new KubeletStandIn(ns, { pods: (p) => p.metadata.name === 'web', ephemeral: () => ({ state: 'ignore' }) }).start();
    const name = `tiny-${preset}`;
    const r = await runPlugin([preset, 'web', '-n', ns, '--context', 'debugger', '--timeout', '1ms', '--name', name, '--no-attach']).finally(() => kubelet.stop());
    expectExit(r, 75);
    expect(theErrorLine(r)).toMatch(new RegExp(`^error: container "${name}" of pod "web" did not start within --timeout \\(last state: no status yet\\); check the node with kubectl describe pod web -n `));
    expect(stderrLines(r).filter((l) => !l.startsWith('note: '))).toEqual([expect.stringMatching(new RegExp(`^added ephemeral container "${name}"`)), theErrorLine(r)]);
    expect(r.stdout).toBe('');
  });

  it('an image that cannot be pulled: exit 76 as soon as the kubelet says so, naming the image (status written by the test acting as kubelet)', async () => {
    const message = 'failed to pull and unpack image "registry.invalid/debug:1": failed to resolve reference: lookup registry.invalid: no such host';
    const kubelet = new KubeletStandIn(ns, { pods: (p) => p.metadata.name === 'api', ephemeral: () => ({ state: 'waiting', reason: 'ErrImagePull', message }) }).start();
    const r = await runPlugin(['shell', 'api', '-n', ns, '--context', 'debugger', '--image', 'registry.invalid/debug:1', '--name', 'badimage', '--timeout', '30s', '--no-attach']).finally(() =>
      kubelet.stop(),
    );
    expectExit(r, 76);
    const markedAt = kubelet.markedAt.get('api/badimage')!;
    expect(markedAt).toBeDefined();
    expect(r.exitedAt - markedAt).toBeLessThan(2_000);
    expect(theErrorLine(r)).toBe(
      `error: container "badimage" cannot start: ErrImagePull for image "registry.invalid/debug:1": ${message}; check the image name and pull access, or pass --image`,
    );
    expect(stderrLines(r)).toEqual([expect.stringMatching(/^added ephemeral container "badimage" \(shell, registry\.invalid\/debug:1\)/), theErrorLine(r)]);
    expect(getPod(ns, 'api').spec.ephemeralContainers.map((c: any) => c.name)).toEqual(['badimage']);
    expect(podsIn(ns)).toEqual(['api', 'web']);
  });
});
