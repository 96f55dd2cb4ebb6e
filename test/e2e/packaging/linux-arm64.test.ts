// The linux/arm64 release executable, run under qemu-user on this amd64 machine, against the local
// cluster and its real node: a network session in a real terminal (tcpdump sees a request, curl
// reaches the app, the shell's exit code comes back as the plugin's), and `presets`, `list` and a
// dry run. The archive is built as `npm run release` builds it (scripts/release.sh archive).
import { execFile, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { clusterEnv, deleteTestNamespace, getPod } from '../../support/cluster';
import { describeOnRealNode, httpGet, inTerminal, sampleAppNamespace } from '../../support/terminal-session';

jest.setTimeout(300_000);

const REPO = resolve(__dirname, '..', '..', '..');
const VERSION = `v${(require(join(REPO, 'package.json')) as { version: string }).version}`;

/** Runs a command to its end (throws with its output when it fails). */
function must(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): string {
  const r = spawnSync(cmd, args, { cwd: REPO, env, encoding: 'utf8', timeout: 900_000 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stdout}${r.stderr}`);
  return r.stdout;
}

describeOnRealNode(__filename)('the linux/arm64 executable under qemu-user', () => {
  let work = '';
  let plugin = '';
  let ns = '';
  let podIP = '';

  /** The arm64 plugin as a user's shell runs it, without a terminal. */
  const runArm64 = (args: string[]): Promise<{ status: number; stdout: string; stderr: string }> =>
    new Promise((done) =>
      execFile(plugin, args, { env: { PATH: process.env.PATH, HOME: work, KUBECONFIG: clusterEnv().kubeconfig }, encoding: 'utf8', timeout: 180_000 }, (err, stdout, stderr) =>
        done({ status: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr }),
      ),
    );

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'ke-arm64-'));
    must('bash', [join(REPO, 'scripts/sea/host-tools.sh'), 'cross', 'qemu']);
    must('bash', [join(REPO, 'scripts/release.sh'), 'archive', 'linux/arm64'], { ...process.env, KE_RELEASE_OUT: work });
    must('tar', ['-xzf', join(work, `kubectl-ephemeral_${VERSION}_linux_arm64.tar.gz`), '-C', work]);
    // What binfmt_misc would do on a machine set up for it: the arm64 executable through qemu.
    plugin = join(work, 'kubectl-ephemeral-arm64');
    writeFileSync(plugin, `#!/bin/sh\nQEMU_LD_PREFIX=/usr/aarch64-linux-gnu exec qemu-aarch64-static ${join(work, 'kubectl-ephemeral')} "$@"\n`);
    chmodSync(plugin, 0o755);
    ns = await sampleAppNamespace('e2e-arm64');
    podIP = getPod(ns, 'web').status.podIP;
  }, 1_200_000);

  afterAll(() => {
    if (ns) deleteTestNamespace(ns);
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('is the arm64 build: --version under qemu, and the binary itself is aarch64', async () => {
    expect(must('file', ['-b', join(work, 'kubectl-ephemeral')])).toMatch(/ELF 64-bit LSB .*ARM aarch64/);
    const r = await runArm64(['--version']);
    expect({ status: r.status, stdout: r.stdout.trim() }).toEqual({ status: 0, stdout: VERSION });
  });

  it('presets, list and a dry run work against the cluster', async () => {
    const presets = await runArm64(['presets']);
    expect(presets.stdout).toMatch(/^network\s+net\s/m);
    const list = await runArm64(['list', '-n', ns, '--context', 'debugger']);
    expect({ status: list.status, stderr: list.stderr }).toEqual({ status: 0, stderr: expect.any(String) });
    const dry = await runArm64(['net', 'web', '-n', ns, '--context', 'debugger', '--dry-run', '-o', 'json']);
    expect(dry.status).toBe(0);
    expect(dry.stdout).toContain('nicolaka/netshoot');
  });

  it('a net session on the real node: tcpdump sees a request from the host, curl reaches the app, the exit code comes back', () =>
    inTerminal({}, async (t) => {
      await t.runPlugin(['net', 'web', '-n', ns, '--context', 'debugger'], { plugin });
      await t.waitForShell(180_000);
      const since = t.mark();
      t.type('tcpdump -Z root -i any -nn -c 1 tcp port 8080\r');
      await t.waitFor(/listening on any/, { since, timeoutMs: 30_000, what: 'tcpdump to listen' });
      expect(await httpGet(`http://${podIP}:8080/`)).toBe(200);
      await t.waitFor(/1 packet captured/, { since, timeoutMs: 30_000, what: 'the captured packet' });
      expect(await t.command("curl -s -o /dev/null -w 'code=%{http_code}' http://127.0.0.1:8080/", 30_000)).toContain('code=200');
      expect(await t.endPlugin('exit 7', 60_000)).toBe(7);
      await t.expectCookedMode();
    }));
});
