// Scripts and pipes on the real node: with stdin not a terminal the plugin behaves like
// `kubectl debug -i` (a container with stdin and no TTY), passes the output and the container's
// exit code through, and prints none of kubectl's lines. Run next to kubectl debug -i on the same
// pod: the container's own record (its log and terminated status) is what both must agree with.
import { execFile } from 'node:child_process';
import { clusterEnv, deleteTestNamespace, getPod, KUBECTL, kubectlAsync } from '../../support/cluster';
import { describeRun, type PluginResult, runPlugin } from '../../support/plugin';
import { eventually } from '../../support/wait';
import { describeOnRealNode, sampleAppNamespace } from '../../support/terminal-session';

jest.setTimeout(180_000);

const IMAGE = 'docker.io/library/busybox:1.36';
// stdout only (a log merges stderr in), 2000 lines of bulk, a tab, and an exit code of its own.
const SCRIPT = 'echo "sum=$((6*7))"\nprintf \'a\\tb\\n\'\nseq 1 2000\necho last-line\nexit 3\n';
const KUBECTL_CHATTER = /If you don't see a command prompt|Session ended|kubectl attach|All commands and output from this session|Unable to use a TTY - container/;

function ephemeralStatus(ns: string, container: string): any {
  return (getPod(ns, 'web').status?.ephemeralContainerStatuses ?? []).find((s: any) => s.name === container);
}

/** kubectl debug -i with input piped in, as a script would run it. */
function kubectlDebug(ns: string, container: string, input: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const args = ['--kubeconfig', clusterEnv().kubeconfig, '--context', 'debugger', '-n', ns, 'debug', 'web', '-i', `--image=${IMAGE}`, '--profile=restricted', '-c', container];
  return new Promise((resolve) => {
    const child = execFile(KUBECTL, args, { encoding: 'utf8', timeout: 90_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, stdout, stderr }),
    );
    child.stdin!.end(input);
  });
}

function ourContainer(r: PluginResult): string {
  const m = /added ephemeral container "([^"]+)"/.exec(r.stderr);
  if (!m) throw new Error(`no container name on stderr: ${describeRun(r)}`);
  return m[1]!;
}

describeOnRealNode(__filename)('a script piped into a session', () => {
  let ns = '';

  beforeAll(async () => {
    ns = await sampleAppNamespace('e2e-pipes');
  });
  afterAll(() => {
    if (ns) deleteTestNamespace(ns);
  });

  const base = () => ['shell', 'web', '-n', ns, '--context', 'debugger', '--image', IMAGE];

  it('prints what kubectl debug -i runs on the same pod, exits with the container\'s code, and no kubectl line shows', async () => {
    const [ours, theirs] = await Promise.all([runPlugin(base(), { input: SCRIPT, timeoutMs: 120_000 }), kubectlDebug(ns, 'kubectl-debug-i', SCRIPT)]);
    // kubectl debug -i does not pass the exit code on, and its output races containerd's detach
    // at the end of input: the container's log and status are the record to compare with.
    const kubectlRan = await eventually(async () => ephemeralStatus(ns, 'kubectl-debug-i')?.state?.terminated, 60_000, 'kubectl debug\'s container to end');
    const kubectlLog = await kubectlAsync(['logs', 'web', '-c', 'kubectl-debug-i'], { namespace: ns });
    process.stderr.write(`kubectl debug -i: exit ${theirs.code}, ${theirs.stdout.length} bytes on stdout (${theirs.stdout.includes('last-line') ? 'complete' : 'output lost'}); its container exited ${kubectlRan.exitCode}\n`);

    expect(kubectlLog).toContain('last-line\n');
    if (ours.code !== kubectlRan.exitCode) throw new Error(`expected exit ${kubectlRan.exitCode} as kubectl debug's container, got ${describeRun(ours)}`);
    expect(ours.code).toBe(3);
    expect(ours.stdout).toBe(kubectlLog);
    expect(ours.stdout).toMatch(/^sum=42\na\tb\n1\n2\n[\s\S]*\n2000\nlast-line\n$/);

    // The container is what kubectl debug -i makes: stdin, no TTY (and stdinOnce: see the plan).
    const spec = (getPod(ns, 'web').spec.ephemeralContainers as any[]).find((c) => c.name === ourContainer(ours));
    expect({ stdin: spec.stdin, tty: spec.tty ?? false }).toEqual({ stdin: true, tty: false });
    expect(ephemeralStatus(ns, ourContainer(ours)).state.terminated.exitCode).toBe(3);

    expect(ours.stdout).not.toMatch(KUBECTL_CHATTER);
    expect(ours.stderr).not.toMatch(KUBECTL_CHATTER);
    // The last line is ours, and true.
    expect(ours.stderr.trimEnd().split('\n').pop()).toBe(`container "${ourContainer(ours)}" exited with code 3`);
  });

  it('the end of input ends the shell (no exit in the script): the last command\'s status comes back', async () => {
    const r = await runPlugin(base(), { input: 'echo one\nfalse\n', timeoutMs: 120_000 });
    if (r.code !== 1) throw new Error(`expected exit 1, got ${describeRun(r)}`);
    expect(r.stdout).toBe('one\n');
  });

  it('the container\'s stderr goes to stderr, its stdout to stdout', async () => {
    const r = await runPlugin(base(), { input: 'echo out-$((1+1))\necho err-$((2+2)) >&2\nexit 0\n', timeoutMs: 120_000 });
    if (r.code !== 0) throw new Error(`expected exit 0, got ${describeRun(r)}`);
    expect(r.stdout).toBe('out-2\n');
    expect(r.stderr).toMatch(/^err-4$/m);
  });

  it('-q: only the session itself, nothing of ours on stderr', async () => {
    const r = await runPlugin([...base(), '-q'], { input: 'echo quiet-$((3*3))\nexit 5\n', timeoutMs: 120_000 });
    if (r.code !== 5) throw new Error(`expected exit 5, got ${describeRun(r)}`);
    expect(r.stdout).toBe('quiet-9\n');
    expect(r.stderr).toBe('');
  });

  it('-t with a pipe: kubectl\'s warning, then a session the pipe can use', async () => {
    const r = await runPlugin([...base(), '-t'], { input: 'echo tty-$((5+5))\nexit 2\n', timeoutMs: 120_000 });
    if (r.code !== 2) throw new Error(`expected exit 2, got ${describeRun(r)}`);
    expect(r.stderr.split('\n')[0]).toBe('Unable to use a TTY - input is not a terminal or the right kind of file');
    // No TTY: no \r added, no echo of the typed lines.
    expect(r.stdout).toBe('tty-10\n');
  });

  it('-i=false: no stdin in the container, the command\'s output and code come back', async () => {
    const r = await runPlugin([...base(), '-i=false', '--', 'sh', '-c', 'echo "stdin:$(cat | wc -c)"; exit 4'], { input: 'never read\n', timeoutMs: 120_000 });
    if (r.code !== 4) throw new Error(`expected exit 4, got ${describeRun(r)}`);
    expect(r.stdout).toBe('stdin:0\n');
    const spec = (getPod(ns, 'web').spec.ephemeralContainers as any[]).find((c) => c.name === ourContainer(r));
    expect(spec.stdin ?? false).toBe(false);
  });

  it('-t with -i=false is refused before anything is created, in kubectl debug\'s words', async () => {
    const before = (getPod(ns, 'web').spec.ephemeralContainers ?? []).length;
    const r = await runPlugin([...base(), '-t', '-i=false'], { input: '' });
    if (r.code !== 64) throw new Error(`expected exit 64, got ${describeRun(r)}`);
    expect(r.stderr).toBe('error: -i/--stdin is required for containers with -t/--tty=true; drop -t or add -i\n');
    expect((getPod(ns, 'web').spec.ephemeralContainers ?? []).length).toBe(before);
  });
});

describe('kubectl ephemeral with no arguments', () => {
  it('prints the usage on stdout and exits 0, as kubectl does with none', async () => {
    const r = await runPlugin([]);
    if (r.code !== 0) throw new Error(`expected exit 0, got ${describeRun(r)}`);
    expect(r.stdout).toMatch(/^kubectl ephemeral <preset> <pod>/);
    expect(r.stderr).toBe('');
  });
});
