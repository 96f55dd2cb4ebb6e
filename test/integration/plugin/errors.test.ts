// Bad input against the live server: each failure is one line on stderr with its documented exit
// code, no stack trace, and nothing left behind that the plugin could have avoided.
import { aPod } from '../../support/builders';
import { clusterEnv, createObject, getPod, kubectlJson, markPodRunning } from '../../support/cluster';
import {
  createTestNamespace,
  expectExit,
  KubeletStandIn,
  removeNamespace,
  requireBuiltPlugin,
  runPlugin,
  stderrLines,
  tempDir,
  theErrorLine,
} from '../../support/plugin';

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

  beforeAll(() => {
    requireBuiltPlugin();
    ns = createTestNamespace('plugin-errors');
    for (const name of ['web', 'api']) {
      createObject(aPod(name).withContainer('app', { image: 'nginx:1.27' }).withNodeName(clusterEnv().fakeNode).build(), { namespace: ns });
      markPodRunning(ns, name);
    }
    files = tempDir('ke-errors-');
  });
  afterAll(() => {
    files?.remove();
    removeNamespace(ns);
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
