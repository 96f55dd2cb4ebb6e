// kubectl debug's flags, side by side with kubectl debug itself against the same API server: for
// each flag the container (or copy, or node pod) the plugin would send (--dry-run=server, so the
// server validates and defaults it) is compared field by field with the one kubectl debug created
// from the same input. kubectl debug has no dry run for ephemeral containers: it runs for real, on
// a pod bound to the node no kubelet runs. Only the fields the flag shapes are compared: the rest
// is the preset's (kubectl's own profile differs by design).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { aPod } from '../../support/builders';
import { clusterEnv, createTestNamespace, deleteTestNamespace, getPod, kubectl, kubectlResult } from '../../support/cluster';
import { createRunningPod, KubeletStandIn } from '../../support/kubelet';
import { expectExit, requireBuiltPlugin, runPlugin, stderrLines } from '../../support/plugin';
import { serverExpectations } from '../../support/server-versions';

jest.setTimeout(60_000);

const IMAGE = 'busybox:1.36';
const probe = { exec: { command: ['true'] }, periodSeconds: 5 };

describe('kubectl debug flags: the plugin sends what kubectl debug sends', () => {
  let ns = '';
  let dir = '';
  let n = 0;
  // The kubectl that follows a 1.30 server (a version-following dispatcher) has no --custom: the
  // comparison cannot be made there, and is made on the newer servers of the matrix; kubectl's
  // refusal is asserted instead (below).
  const customIt = serverExpectations().kubectlCustom ? it : it.skip;

  beforeAll(async () => {
    requireBuiltPlugin();
    ns = await createTestNamespace('request-flags');
    dir = mkdtempSync(join(tmpdir(), 'ke-flags-'));
    const pod = aPod('web')
      .withLabels({ app: 'web' })
      .withAnnotations({ team: 'shop' })
      .withInitContainer('migrate', { image: IMAGE, command: ['true'] })
      .withContainer('app', { image: IMAGE, command: ['sleep', '3600'], livenessProbe: probe, readinessProbe: probe, startupProbe: probe })
      .withContainer('side', { image: IMAGE, command: ['sleep', '3600'] })
      // No node matches: kubectl's copies (and ours) stay unplaced, so the nodeName a scheduler
      // would give them never enters the comparison and no kubelet runs them. The pod itself is
      // bound by name (createRunningPod), which skips the selector.
      .withSpec({ nodeSelector: { 'kubernetes.io/hostname': 'ke-no-such-node' } })
      .build();
    createRunningPod(ns, pod);
  });
  afterAll(() => {
    deleteTestNamespace(ns);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** kubectl debug on pod web with these flags; the ephemeral container it created, as stored. */
  const kubectlDebug = (flags: string[]): any => {
    const name = `kdbg-${++n}`;
    kubectl(['debug', 'web', `--image=${IMAGE}`, `--container=${name}`, '--attach=false', '--quiet', ...flags], { namespace: ns });
    return getPod(ns, 'web').spec.ephemeralContainers.find((c: any) => c.name === name);
  };
  /** The plugin's container for the same flags, as the API server answers a dry run of it. */
  const pluginDebug = async (preset: string, flags: string[], after: string[] = []): Promise<any> => {
    const r = await runPlugin([preset, 'web', '-n', ns, '--context', 'admin', '--image', IMAGE, '--dry-run=server', '-o', 'json', ...flags, ...(after.length ? ['--', ...after] : [])]);
    expectExit(r, 0);
    return JSON.parse(r.stdout).spec.ephemeralContainers[0];
  };
  const envNamed = (c: any, names: string[]) => (c.env ?? []).filter((e: any) => names.includes(e.name)).sort((a: any, b: any) => a.name.localeCompare(b.name));

  it('--env NAME=VALUE (repeated and comma-separated): the same variables', async () => {
    const flags = ['--env', 'A=1,B=x=y', '--env', 'C='];
    const [theirs, ours] = [kubectlDebug(flags), await pluginDebug('shell', flags)];
    expect(envNamed(ours, ['A', 'B', 'C'])).toEqual(envNamed(theirs, ['A', 'B', 'C']));
    // The API server stores an empty value as none.
    expect(envNamed(theirs, ['A', 'B', 'C'])).toEqual([{ name: 'A', value: '1' }, { name: 'B', value: 'x=y' }, { name: 'C' }]);
  });

  it.each([['Always'], ['Never'], ['IfNotPresent']])('--image-pull-policy %s: the same policy', async (policy) => {
    const [theirs, ours] = [kubectlDebug([`--image-pull-policy=${policy}`]), await pluginDebug('shell', [`--image-pull-policy=${policy}`])];
    expect(ours.imagePullPolicy).toBe(theirs.imagePullPolicy);
    expect(theirs.imagePullPolicy).toBe(policy);
  });

  it('--target: the same targetContainerName', async () => {
    const [theirs, ours] = [kubectlDebug(['--target=side']), await pluginDebug('shell', ['--target=side'])];
    expect(ours.targetContainerName).toBe(theirs.targetContainerName);
    expect(theirs.targetContainerName).toBe('side');
  });

  it('--arguments-only: the words after -- are the args', async () => {
    const [theirs, ours] = [kubectlDebug(['--arguments-only', '--', '-c', 'echo hi']), await pluginDebug('shell', ['--arguments-only'], ['-c', 'echo hi'])];
    expect(ours.args).toEqual(theirs.args);
    expect(theirs.args).toEqual(['-c', 'echo hi']);
    // kubectl's container runs its image's command; the plugin's keeps the preset's (sh).
    expect({ theirs: theirs.command, ours: ours.command }).toEqual({ theirs: undefined, ours: ['sh'] });
  });

  customIt.each([
    ['JSON', 'custom.json', JSON.stringify({ env: [{ name: 'FROM_CUSTOM', value: '1' }], workingDir: '/tmp', securityContext: { capabilities: { add: ['SYS_PTRACE'] } } })],
    ['YAML', 'custom.yaml', 'env:\n  - name: FROM_CUSTOM\n    value: "1"\nworkingDir: /tmp\nsecurityContext:\n  capabilities:\n    add: [SYS_PTRACE]\n'],
  ])('--custom FILE in %s: the fields it sets, merged the same way', async (_what, name, text) => {
    const file = join(dir, name);
    writeFileSync(file, text);
    const [theirs, ours] = [kubectlDebug([`--custom=${file}`, '--profile=legacy']), await pluginDebug('shell', [`--custom=${file}`])];
    expect(envNamed(ours, ['FROM_CUSTOM'])).toEqual(envNamed(theirs, ['FROM_CUSTOM']));
    expect(ours.workingDir).toBe(theirs.workingDir);
    expect(ours.securityContext.capabilities.add).toEqual(theirs.securityContext.capabilities.add);
  });

  (serverExpectations().kubectlCustom ? it.skip : it)('the kubectl of this server has no --custom: it refuses the flag (the plugin takes it on every server)', () => {
    expect(kubectlResult(['debug', 'web', `--image=${IMAGE}`, '--custom=/dev/null', '--attach=false'], { namespace: ns }).stderr).toMatch(/unknown flag: --custom/);
  });

  customIt('--custom setting the command: refused by both, before anything is sent', async () => {
    const file = join(dir, 'bad.json');
    writeFileSync(file, '{"command":["sh"]}');
    const theirs = kubectlResult(['debug', 'web', `--image=${IMAGE}`, `--custom=${file}`, '--attach=false'], { namespace: ns });
    expect(theirs.stderr).toMatch(/name, command, image, lifecycle and volume devices are not modifiable via custom profile/);
    const before = getPod(ns, 'web').spec.ephemeralContainers?.length ?? 0;
    const r = await runPlugin(['shell', 'web', '-n', ns, '--context', 'admin', `--custom=${file}`, '--no-attach']);
    expectExit(r, 64);
    expect(stderrLines(r)).toEqual([`error: --custom ${file} sets command: name, command, image, lifecycle and volumeDevices are not modifiable via a custom spec (as in kubectl debug); use --name, --image or the words after --`]);
    expect(getPod(ns, 'web').spec.ephemeralContainers?.length ?? 0).toBe(before);
  });

  it('--profile sysadmin: privileged, as kubectl\'s', async () => {
    const [theirs, ours] = [kubectlDebug(['--profile=sysadmin']), await pluginDebug('shell', ['--profile=sysadmin'])];
    expect(ours.securityContext.privileged).toBe(theirs.securityContext.privileged);
    expect(theirs.securityContext.privileged).toBe(true);
  });

  it('--profile restricted: the fields kubectl\'s restricted profile sets, the same', async () => {
    const pick = (c: any) => ({
      runAsNonRoot: c.securityContext.runAsNonRoot,
      drop: c.securityContext.capabilities?.drop,
      add: c.securityContext.capabilities?.add,
      allowPrivilegeEscalation: c.securityContext.allowPrivilegeEscalation,
      seccompProfile: c.securityContext.seccompProfile,
    });
    const [theirs, ours] = [kubectlDebug(['--profile=restricted']), await pluginDebug('shell', ['--profile=restricted'])];
    expect(pick(ours)).toEqual(pick(theirs));
  });

  it('--profile netadmin: NET_ADMIN and NET_RAW added, as kubectl\'s (the network preset also keeps SETGID for tcpdump -Z)', async () => {
    const [theirs, ours] = [kubectlDebug(['--profile=netadmin']), await pluginDebug('network', ['--profile=netadmin'])];
    expect(ours.securityContext.capabilities.add).toEqual(expect.arrayContaining(theirs.securityContext.capabilities.add));
    expect(theirs.securityContext.capabilities.add).toEqual(['NET_ADMIN', 'NET_RAW']);
  });

  // kubectl applies its profile and --keep-* flags to a copy only when it adds a debug container
  // (--image): a --set-image-only copy keeps everything. The plugin's copy always gets its debug
  // container (as an ephemeral one, added once the copy runs), so kubectl is given --image too and
  // only the original's containers are compared.
  const originals = (p: any) => ({ ...p, spec: { ...p.spec, containers: p.spec.containers.filter((c: any) => ['app', 'side'].includes(c.name)) } });

  it('a copy with --copy-to, --set-image and the --keep-* flags: the same metadata, images, probes and init containers as kubectl debug --copy-to --profile=general', async () => {
    const keep = ['--keep-labels', '--keep-annotations', '--keep-liveness', '--keep-init-containers=false'];
    const kubectlCopy = ['debug', 'web', '--copy-to=kcopy', `--image=${IMAGE}`, '--container=kdebug', '--set-image=side=busybox:1.37', '--profile=general', '--quiet', ...keep];
    // Before 1.31 kubectl has no --keep-*: it refuses them, and the plugin is held to the shape 1.31 and later give.
    const keeps = serverExpectations().kubectlCopyKeeps;
    if (!keeps) expect(kubectlResult(kubectlCopy, { namespace: ns }).stderr).toMatch(/unknown flag: --keep-labels/);
    else kubectl(kubectlCopy, { namespace: ns });
    const theirs = keeps ? originals(getPod(ns, 'kcopy')) : undefined;
    const r = await runPlugin(['crashloop', 'web', '-c', 'app', '-n', ns, '--context', 'admin', '--copy-to=pcopy', '--set-image=side=busybox:1.37', '--dry-run=server', '-o', 'json', ...keep]);
    expectExit(r, 0);
    const ours = JSON.parse(r.stdout);
    const own = (o: Record<string, string>) => Object.fromEntries(Object.entries(o ?? {}).filter(([k]) => !k.startsWith('kubectl-ephemeral.dev/') && k !== 'app.kubernetes.io/managed-by'));
    const shape = (p: any) => ({
      labels: own(p.metadata.labels),
      annotations: own(p.metadata.annotations),
      images: p.spec.containers.map((c: any) => [c.name, c.image]),
      probes: p.spec.containers.map((c: any) => [c.name, !!c.livenessProbe, !!c.readinessProbe, !!c.startupProbe]),
      initContainers: p.spec.initContainers?.map((c: any) => c.name),
      nodeName: p.spec.nodeName,
    });
    expect(ours.metadata.name).toBe('pcopy');
    if (theirs) expect(shape(ours)).toEqual(shape(theirs));
    expect(shape(theirs ?? ours)).toEqual({
      labels: { app: 'web' },
      annotations: { team: 'shop' },
      images: [['app', IMAGE], ['side', 'busybox:1.37']],
      probes: [['app', true, false, false], ['side', false, false, false]],
      initContainers: undefined,
      nodeName: undefined,
    });
  });

  it('a copy with kubectl\'s defaults: labels, annotations and probes dropped, init containers kept, the scheduler left to place it', async () => {
    kubectl(['debug', 'web', '--copy-to=kcopy2', `--image=${IMAGE}`, '--container=kdebug', '--set-image=*=busybox:1.37', '--profile=general', '--quiet'], { namespace: ns });
    const kubectls = originals(getPod(ns, 'kcopy2'));
    // Before 1.31 kubectl's copy kept labels and annotations (no --keep-*): the plugin keeps 1.31's defaults there too.
    const theirs = serverExpectations().kubectlCopyKeeps ? kubectls : { ...kubectls, metadata: { ...kubectls.metadata, labels: {}, annotations: {} } };
    const r = await runPlugin(['crashloop', 'web', '-c', 'app', '-n', ns, '--context', 'admin', '--copy', '--set-image=*=busybox:1.37', '--dry-run=server', '-o', 'json']);
    expectExit(r, 0);
    const ours = JSON.parse(r.stdout);
    const user = (o: Record<string, string> | undefined) => Object.keys(o ?? {}).filter((k) => !k.startsWith('kubectl-ephemeral.dev/') && k !== 'app.kubernetes.io/managed-by');
    expect(user(ours.metadata.labels)).toEqual(user(theirs.metadata.labels));
    expect(user(ours.metadata.annotations)).toEqual(user(theirs.metadata.annotations));
    expect(ours.spec.containers.map((c: any) => c.image)).toEqual(theirs.spec.containers.map((c: any) => c.image));
    expect(ours.spec.containers.map((c: any) => c.livenessProbe ?? c.readinessProbe ?? c.startupProbe ?? null)).toEqual(theirs.spec.containers.map((c: any) => c.livenessProbe ?? c.readinessProbe ?? c.startupProbe ?? null));
    expect(ours.spec.initContainers.map((c: any) => c.name)).toEqual(theirs.spec.initContainers.map((c: any) => c.name));
    expect([ours.spec.nodeName, theirs.spec.nodeName]).toEqual([undefined, undefined]);
  });

  customIt('node/NAME with --env, --image-pull-policy and --custom: the same fields as kubectl debug node/NAME', async () => {
    const node = clusterEnv().fakeNode;
    const file = join(dir, 'node-custom.json');
    writeFileSync(file, JSON.stringify({ env: [{ name: 'FROM_CUSTOM', value: '2' }], workingDir: '/host' }));
    const flags = ['--env', 'A=1', '--image-pull-policy=Never', `--custom=${file}`];
    kubectl(['debug', `node/${node}`, `--image=${IMAGE}`, '--attach=false', '--profile=general', '--quiet', ...flags], { namespace: ns });
    // kubectl 1.32 names its node pod node-debugger-<node>-<random> (no label to select it by).
    const theirs = JSON.parse(kubectl(['get', 'pods', '-o', 'json'], { namespace: ns })).items.find((p: any) => p.metadata.name.startsWith(`node-debugger-${node}-`)).spec.containers[0];
    const r = await runPlugin(['shell', `node/${node}`, '-n', ns, '--context', 'admin', '--image', IMAGE, '--dry-run=server', '-o', 'json', ...flags]);
    expectExit(r, 0);
    const ours = JSON.parse(r.stdout).spec.containers[0];
    expect(envNamed(ours, ['A', 'FROM_CUSTOM'])).toEqual(envNamed(theirs, ['A', 'FROM_CUSTOM']));
    expect([ours.imagePullPolicy, ours.workingDir]).toEqual([theirs.imagePullPolicy, theirs.workingDir]);
    expect([theirs.imagePullPolicy, theirs.workingDir]).toEqual(['Never', '/host']);
  });

  it('--copy --same-node --replace: the original is deleted once the copy exists, and the copy stays (statuses written by the test acting as kubelet)', async () => {
    createRunningPod(ns, aPod('old').withContainer('app', { image: IMAGE, command: ['false'] }).build());
    const kubelet = new KubeletStandIn(ns, { pods: (p) => p.metadata.labels?.['kubectl-ephemeral.dev/copy-of'] === 'old', startPods: true }).start();
    const r = await runPlugin(['crashloop', 'old', '-c', 'app', '-n', ns, '--context', 'admin', '--copy-to=old-copy', '--same-node', '--replace', '--no-attach']).finally(() => kubelet.stop());
    expectExit(r, 0);
    expect(stderrLines(r)).toEqual(expect.arrayContaining([expect.stringMatching(/^deleted the original pod "old" \(--replace\); the copy stays: delete it when done with kubectl delete pod old-copy -n /)]));
    expect(kubectlResult(['get', 'pod', 'old'], { namespace: ns }).ok).toBe(false);
    expect(getPod(ns, 'old-copy').metadata.name).toBe('old-copy');
  });

  // Needs a scheduler (the local cluster gets one from scripts/cluster.sh): until then the copy is
  // never placed, and the plugin ends with its timeout line naming --same-node.
  it('--copy without --same-node: the scheduler places the copy, as kubectl debug --copy-to leaves it to (statuses written by the test acting as kubelet once it is bound)', async () => {
    createRunningPod(ns, aPod('placed').withContainer('app', { image: IMAGE, command: ['false'] }).build());
    let bound: string | undefined;
    const kubelet = new KubeletStandIn(ns, {
      // A kubelet starts only what was bound to a node: the copy has no nodeName until the scheduler gives it one.
      pods: (p) => p.metadata.labels?.['kubectl-ephemeral.dev/copy-of'] === 'placed' && !!p.spec.nodeName,
      startPods: true,
      onPod: (p) => (bound = p.spec.nodeName),
    }).start();
    const r = await runPlugin(['crashloop', 'placed', '-c', 'app', '-n', ns, '--context', 'admin', '--copy-to=placed-copy', '--no-attach', '--timeout=30s'], { timeoutMs: 45_000 }).finally(() => kubelet.stop());
    expectExit(r, 0);
    expect(bound).toEqual(expect.any(String));
    expect(getPod(ns, 'placed-copy').spec.nodeName).toBe(bound);
  });
});
