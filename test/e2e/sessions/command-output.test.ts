// A command's output on the real node, every byte every time: `-- COMMAND` with each kind of
// stdin (a pipe with data, an empty pipe, /dev/null, closed, -i=false) and on a terminal, each case
// 5 times in a row with no retry. The container's own record (`kubectl logs`, its terminated
// status) is what the plugin's output and exit code must match; no line of kubectl's may show.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { clusterEnv, createObject, deleteTestNamespace, getPod, KUBECTL, kubectlAsync, waitForPodRunning } from '../../support/cluster';
import { describeRun, pluginPath, type PluginResult, runPlugin } from '../../support/plugin';
import { describeOnRealNode, inTerminal, sampleAppNamespace, sampleAppPod } from '../../support/terminal-session';

jest.setTimeout(600_000);

const IMAGE = 'docker.io/library/busybox:1.36';
const RUNS = 5;
// Prints at 0 ms, 50 ms, 1 s and 3 s after its start, then exits 3.
const TIMED = 'echo at-0; sleep 0.05; echo at-50ms; sleep 0.95; echo at-1s; sleep 2; echo at-3s; exit 3';
const TIMED_OUT = 'at-0\nat-50ms\nat-1s\nat-3s\n';
// kubectl's own lines: klog, its error line, its stream warnings, its attach banners.
const KUBECTL_LINE = /^[IWEF]\d{4} \d\d:\d\d|^error: (?!container)|websocket\.go|Unknown stream id|If you don't see a command prompt|Session ended|Unable to use a TTY - container/m;
const TEN_MB = 10_000_000;

function containerOf(r: PluginResult): string {
  const m = /added ephemeral container "([^"]+)"/.exec(r.stderr);
  if (!m) throw new Error(`no container name on stderr: ${describeRun(r)}`);
  return m[1]!;
}

function expectNoKubectlLine(r: PluginResult): void {
  const line = KUBECTL_LINE.exec(r.stdout) ?? KUBECTL_LINE.exec(r.stderr);
  if (line) throw new Error(`a line of kubectl's reached the user (${JSON.stringify(line[0])}): ${describeRun(r)}`);
}

/** The plugin with stdin closed (not /dev/null, not a pipe: no descriptor 0 at all). */
function runWithStdinClosed(args: string[]): Promise<PluginResult> {
  const quoted = [pluginPath(), ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const started = Date.now();
  return new Promise((resolve) => {
    execFile('bash', ['-c', `exec 0<&-; exec ${quoted}`], { encoding: 'utf8', timeout: 120_000, maxBuffer: 64 << 20, env: { ...process.env, KUBECONFIG: clusterEnv().kubeconfig } }, (err, stdout, stderr) => {
      const code = err ? ((err as { code?: number }).code ?? null) : 0;
      resolve({ code: typeof code === 'number' ? code : null, signal: null, stdout, stderr, ms: Date.now() - started, exitedAt: Date.now() });
    });
  });
}

type StdinKind = 'pipe with data' | 'empty pipe' | '/dev/null' | 'closed' | '-i=false';
const STDIN_KINDS: StdinKind[] = ['pipe with data', 'empty pipe', '/dev/null', 'closed', '-i=false'];

describeOnRealNode(__filename)('a command\'s output, from its first byte, every time', () => {
  let ns = '';
  // Several pods share the load: each run adds an ephemeral container that stays.
  const pods = ['web', 'web-b', 'web-c'];

  beforeAll(async () => {
    ns = await sampleAppNamespace('e2e-cmdout');
    for (const p of pods.slice(1)) createObject(sampleAppPod(p), { namespace: ns });
    await Promise.all(pods.slice(1).map((p) => waitForPodRunning(ns, p)));
  });
  afterAll(() => {
    if (ns) deleteTestNamespace(ns);
  });

  const base = (pod: string) => ['shell', pod, '-n', ns, '--context', 'debugger', '--image', IMAGE];

  async function runKind(kind: StdinKind, pod: string, command: string): Promise<PluginResult> {
    const args = [...base(pod), ...(kind === '-i=false' ? ['-i=false'] : []), '--', 'sh', '-c', command];
    if (kind === 'closed') return runWithStdinClosed(args);
    const input = kind === 'pipe with data' ? 'some input\n' : kind === 'empty pipe' ? '' : undefined;
    return runPlugin(args, { input, timeoutMs: 120_000 });
  }

  // The kinds of stdin side by side (each on a pod of its own share), each kind's runs in a row.
  it('each kind of stdin: output at 0 ms, 50 ms, 1 s and 3 s, all of it, in order, once; exit 3 (5 runs of each, no retry)', async () => {
    await Promise.all(
      STDIN_KINDS.map(async (kind, i) => {
        for (let run = 1; run <= RUNS; run++) {
          const r = await runKind(kind, pods[i % pods.length]!, TIMED);
          if (r.code !== 3 || r.stdout !== TIMED_OUT) throw new Error(`run ${run} of ${RUNS} (stdin ${kind}): expected exit 3 and every line, got ${describeRun(r)}`);
          expectNoKubectlLine(r);
        }
      }),
    );
  });

  it('a pipe\'s data reaches the command and what it printed before reading it is there too; exit codes 0 and 137; stderr-only output (5 runs each)', async () => {
    // Kubernetes turns $$ in a command into $: $$$$ is the shell's own $$ (its pid). The killed
    // shell is a child (`; exit $?` keeps sh from exec'ing it as PID 1, which SIGKILL cannot end).
    // out: the lines of stdout, sorted: the shell's "Killed" (its stderr) merges into stdout, and
    // the runtime logs the two streams apart, so their order relative to each other is not kept.
    const cases: Array<{ pod: string; cmd: string; input?: string; code: number; out: string }> = [
      { pod: 'web', cmd: 'echo before-read; read line; echo "got:$line"', input: 'hello\n', code: 0, out: 'before-read\ngot:hello\n' },
      { pod: 'web-b', cmd: 'echo only-stderr >&2; exit 0', code: 0, out: 'only-stderr\n' },
      { pod: 'web-c', cmd: "echo before-kill; sh -c 'kill -9 $$$$'; exit $?", code: 137, out: 'Killed\nbefore-kill\n' },
    ];
    await Promise.all(
      cases.map(async (c) => {
        for (let run = 1; run <= RUNS; run++) {
          const r = await runPlugin([...base(c.pod), '--', 'sh', '-c', c.cmd], { input: c.input, timeoutMs: 120_000 });
          const sorted = r.stdout.split('\n').slice(0, -1).sort().map((l) => `${l}\n`).join('');
          if (r.code !== c.code || sorted !== c.out) throw new Error(`run ${run} of ${c.cmd}: expected exit ${c.code} and ${JSON.stringify(c.out)}, got ${describeRun(r)}`);
          expectNoKubectlLine(r);
        }
      }),
    );
  });

  // 10 MB in lines of 4 KiB: the runtime's log of it (a ~40-byte header a line) stays under the
  // kubelet's rotation size (containerLogMaxSize, 10 MiB by default), which bounds what the log can
  // give back (docs/commands.md). The bytes must be kubectl logs' own, and all of them.
  it('10 MB of output: every byte, the same bytes as kubectl logs of the same container (5 runs)', async () => {
    const line = 4095;
    const lines = Math.floor(TEN_MB / (line + 1));
    for (let run = 1; run <= RUNS; run++) {
      const pod = pods[run % pods.length]!;
      const r = await runPlugin([...base(pod), '--', 'sh', '-c', `i=0; l=$(head -c ${line} /dev/zero | tr '\\0' x); while [ $i -lt ${lines} ]; do echo "$l"; i=$((i+1)); done; echo end-of-output`], { timeoutMs: 180_000 });
      if (r.code !== 0) throw new Error(`run ${run}: ${describeRun({ ...r, stdout: `${r.stdout.length} bytes` })}`);
      const logged = await kubectlAsync(['logs', pod, '-c', containerOf(r)], { namespace: ns, timeoutMs: 120_000 });
      const hash = (text: string) => createHash('sha256').update(text).digest('hex');
      expect({ bytes: r.stdout.length, sha: hash(r.stdout) }).toEqual({ bytes: logged.length, sha: hash(logged) });
      expect(r.stdout.length).toBe(lines * (line + 1) + 'end-of-output\n'.length);
      process.stderr.write(`10 MB run ${run}: ${r.stdout.length} bytes in ${r.ms} ms\n`);
      expectNoKubectlLine(r);
    }
  });

  it('on a terminal: the command\'s output from its first byte, once, in order, with its exit code (5 runs)', () =>
    inTerminal({}, async (t) => {
      for (let run = 1; run <= RUNS; run++) {
        const since = t.mark();
        await t.runPlugin([...base('web'), '--', 'sh', '-c', TIMED]);
        const code = await t.pluginExit(120_000);
        const text = t.text(since).replace(/\r/g, '');
        const lines = text.split('\n').filter((l) => /^at-/.test(l));
        if (code !== 3 || lines.join('\n') !== TIMED_OUT.trimEnd()) throw t.failure(`run ${run}: expected exit 3 and ${JSON.stringify(TIMED_OUT)} once, got exit ${code} and ${JSON.stringify(lines)}`);
        expect(text).not.toMatch(KUBECTL_LINE);
      }
    }));

  it('side by side with kubectl debug -i on the lost-output case (printed for the README)', async () => {
    const cmd = ['sh', '-c', 'echo first; sleep 2; echo second'];
    const theirs = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
      const args = ['--kubeconfig', clusterEnv().kubeconfig, '--context', 'debugger', '-n', ns, 'debug', 'web-b', '-i', `--image=${IMAGE}`, '--profile=restricted', '--', ...cmd];
      const child = execFile(KUBECTL, args, { encoding: 'utf8', timeout: 90_000 }, (err, stdout) => resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, stdout }));
      child.stdin!.end();
    });
    const ours = await runPlugin([...base('web-b'), '--', ...cmd], { timeoutMs: 120_000 });
    process.stderr.write(`lost-output case, </dev/null-like empty stdin: kubectl debug -i printed ${JSON.stringify(theirs.stdout)} (exit ${theirs.code}); kubectl ephemeral printed ${JSON.stringify(ours.stdout)} (exit ${ours.code})\n`);
    expect(ours.stdout).toBe('first\nsecond\n');
    expect(getPod(ns, 'web-b')).toBeTruthy();
  });
});
