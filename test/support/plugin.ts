// Helpers for the API suite (test/integration/plugin): run the built plugin as a user would (the
// kubelet's part, while it waits, is in kubelet.ts).
//
//   const run = await runPlugin(['shell', 'web', '-n', ns, '--context', 'debugger', '--no-attach']);
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { clusterEnv, getPod, kubectl, kubectlJsonAsync, type Context } from './cluster';
import { eventually } from './wait';

const REPO = resolve(__dirname, '..', '..');
/** What `npm run build` makes: the e2e terminal runs it as it is, runPlugin a private copy (see pluginPath). */
export const BUILT_PLUGIN = join(REPO, 'plugin', 'kubectl-ephemeral');
/** The pinned Node 24 the launcher runs the bundle on (never the machine's own node). */
const PINNED_NODE = join(REPO, 'node_modules', 'node', 'bin', 'node');

let snapshot: string | undefined;

/**
 * The plugin under test: $KE_PLUGIN when set (a single executable, say), else a private copy of the
 * built plugin/ taken once per test file. Others rebuild plugin/ while suites run; a copy keeps one
 * file's runs on one build. It sits inside the repository so that node-pty still resolves from
 * node_modules, and runs on the pinned Node through KUBECTL_EPHEMERAL_NODE.
 */
export function pluginPath(): string {
  if (process.env.KE_PLUGIN) return process.env.KE_PLUGIN;
  if (snapshot) return snapshot;
  if (!existsSync(BUILT_PLUGIN) || !existsSync(join(REPO, 'plugin', 'lib'))) throw new Error(`${BUILT_PLUGIN} is missing; run npm run build first`);
  const root = join(REPO, '.state', 'plugin-under-test');
  mkdirSync(root, { recursive: true });
  pruneDeadSnapshots(root);
  const dir = mkdtempSync(join(root, `${process.pid}-`));
  removeAfterThisFile(dir);
  const launcher = join(dir, 'plugin', 'kubectl-ephemeral');
  // A build that is being written right now fails the smoke run: copy again a moment later.
  for (let attempt = 1; ; attempt++) {
    rmSync(join(dir, 'plugin'), { recursive: true, force: true });
    cpSync(join(REPO, 'plugin'), join(dir, 'plugin'), { recursive: true });
    try {
      execFileSync(launcher, ['--version'], { env: { PATH: process.env.PATH, KUBECTL_EPHEMERAL_NODE: PINNED_NODE }, stdio: 'pipe', timeout: 20_000 });
      snapshot = launcher;
      return launcher;
    } catch (err) {
      if (attempt >= 10) throw new Error(`the built plugin does not run (${(err as Error).message.split('\n')[0]}); run npm run build`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1_000);
    }
  }
}

// Directories to remove when the importing test file ends. (A process 'exit' listener would not
// do: Jest hands test files a sandboxed `process` whose listeners never fire.) Module state is per
// test file, and this hook is registered while the file is collected, as hooks must be.
const madeByThisFile: string[] = [];
afterAll(() => madeByThisFile.splice(0).forEach((dir) => rmSync(dir, { recursive: true, force: true })));
const removeAfterThisFile = (dir: string) => madeByThisFile.push(dir);

/** Snapshots of runs that were killed (their `<pid>-` prefix names no live process). */
function pruneDeadSnapshots(root: string): void {
  for (const entry of readdirSync(root)) {
    const pid = Number(entry.split('-')[0]);
    if (!Number.isInteger(pid) || pid <= 0) continue;
    try {
      process.kill(pid, 0);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ESRCH') rmSync(join(root, entry), { recursive: true, force: true });
    }
  }
}

/** Fails early (once per file) when the plugin was not built. */
export function requireBuiltPlugin(): void {
  pluginPath();
}

// ------------------------------------------------------------------------------ running the plugin

export interface PluginResult {
  /** Exit code (null when killed by a signal or by the helper's own timeout). */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Wall time from spawn to exit. */
  ms: number;
  /** Date.now() at exit. */
  exitedAt: number;
}

export interface PluginOptions {
  /** Extra environment (KUBECONFIG defaults to the cluster's combined kubeconfig; null removes it). */
  env?: Record<string, string | null>;
  /** Kill the plugin (SIGKILL) after this long; the result then has code null. */
  timeoutMs?: number;
  /** Written to the plugin's stdin (a pipe, closed after it); stdin is /dev/null otherwise. */
  input?: string;
}

let home: string | undefined;
/** A private HOME: no ~/.kube/config and no user preset file of the machine leak in. */
function testHome(): string {
  if (!home) {
    const dir = mkdtempSync(join(tmpdir(), 'ke-plugin-home-'));
    removeAfterThisFile(dir);
    home = dir;
  }
  return home;
}

function pluginEnv(extra: PluginOptions['env'] = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: testHome(),
    XDG_CONFIG_HOME: join(testHome(), '.config'),
    KUBECONFIG: clusterEnv().kubeconfig,
    KUBECTL_EPHEMERAL_NODE: PINNED_NODE,
  };
  for (const [k, v] of Object.entries(extra)) {
    if (v === null) delete env[k];
    else env[k] = v;
  }
  return env;
}

/** Starts the plugin; `done` resolves when it exits (never rejects). */
export function startPlugin(args: string[], opts: PluginOptions = {}): { child: ChildProcess; done: Promise<PluginResult> } {
  const started = Date.now();
  const child = spawn(pluginPath(), args, { env: pluginEnv(opts.env), stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
  if (opts.input !== undefined) {
    // The plugin may end before reading it all (a usage error): that is its answer, not a test error.
    child.stdin!.on('error', () => undefined);
    child.stdin!.end(opts.input);
  }
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const done = new Promise<PluginResult>((resolvePromise) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const exitedAt = Date.now();
      resolvePromise({ code, signal, stdout, stderr, ms: exitedAt - started, exitedAt });
    });
  });
  return { child, done };
}

export function runPlugin(args: string[], opts: PluginOptions = {}): Promise<PluginResult> {
  return startPlugin(args, opts).done;
}

/** The lines a run wrote to stderr. */
export function stderrLines(r: PluginResult): string[] {
  return r.stderr.split('\n').filter((l) => l.trim() !== '');
}

/** For failing runs: asserts one `error:` line, no stack trace, and returns the line. */
export function theErrorLine(r: PluginResult): string {
  const lines = stderrLines(r);
  const errors = lines.filter((l) => l.startsWith('error: '));
  if (errors.length !== 1) throw new Error(`expected exactly one "error:" line on stderr, got:\n${r.stderr}`);
  if (lines.some((l) => /^\s+at /.test(l) || /\[debug\]/.test(l) || /^\w*Error:/.test(l)))
    throw new Error(`stderr holds a stack trace or debug output:\n${r.stderr}`);
  return errors[0]!;
}

/** Asserts the exit code, showing the whole run when it differs. */
export function expectExit(r: PluginResult, code: number): void {
  if (r.code !== code) throw new Error(`expected exit ${code}, got ${describeRun(r)}`);
}

/**
 * A container the run added and the user left while it started (a signal before the stream or
 * session attached), as src/debug/abandoned-container.ts says it: the line that it is being ended,
 * then the one that it was (through the attach, or by signalling its processes), and no error line.
 */
export function expectEndedWhileStarting(stderr: string, container: string, pod: string): void {
  const lines = stderr.split('\n');
  expect(lines).toContain(`Ctrl-C before the session started: ending debug container "${container}" of pod "${pod}" (Ctrl-C again leaves it running)`);
  expect(lines).toContainEqual(
    expect.stringMatching(new RegExp(`^debug container "${container}" of pod "${pod}" was ended (through attach \\(Ctrl-C, exit\\)|by signalling its processes \\(exec\\)); its entry stays in the pod, terminated \\(ephemeral containers cannot be removed\\)$`)),
  );
  expect(stderr).not.toMatch(/^error: /m);
}

/**
 * Ctrl-C while a capture or collect container starts: the plugin is started, SIGINT comes once
 * `added` (whose group 1 is the container's name) is on stderr; the run exits 130, the container is
 * ended as expectEndedWhileStarting says, `out` is never left behind, and the status says terminated.
 */
export async function expectCtrlCWhileStarting(args: string[], opts: PluginOptions & { added: RegExp; addedWithinMs: number; ns: string; pod: string; out: string }): Promise<void> {
  const { child, done } = startPlugin(args, opts);
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  await eventually(async () => opts.added.test(stderr), opts.addedWithinMs, `the container to be added; stderr:\n${stderr}`);
  child.kill('SIGINT');
  const r = await done;
  expectExit(r, 130);
  const name = opts.added.exec(r.stderr)![1]!;
  expectEndedWhileStarting(r.stderr, name, opts.pod);
  expect(existsSync(opts.out)).toBe(false);
  await eventually(async () => getPod(opts.ns, opts.pod).status.ephemeralContainerStatuses?.find((s: any) => s.name === name)?.state?.terminated, 30_000, `the status of "${name}" to say terminated`);
}

/** Describes a run for failure messages. */
export function describeRun(r: PluginResult): string {
  return `exit ${r.code} (signal ${r.signal}) after ${r.ms} ms\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
}

// ------------------------------------------------------------------------------------- files

/** A temp directory removed by the returned cleanup. */
export function tempDir(prefix: string): { dir: string; file: (name: string, content: string) => string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return {
    dir,
    file: (name, content) => {
      const p = join(dir, name);
      writeFileSync(p, content);
      return p;
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** A self-contained kubeconfig (as JSON, which is YAML) holding only `context`, credentials inlined. */
export function standaloneKubeconfig(context: Context): any {
  return JSON.parse(kubectl(['config', 'view', '--minify', '--flatten', '--context', context, '-o', 'json']));
}

/** The spec.ephemeralContainers entry named `name` on the server (as admin). */
export async function serverContainer(ns: string, pod: string, name: string): Promise<any> {
  const p = await kubectlJsonAsync(['get', 'pod', pod], { namespace: ns });
  return (p.spec.ephemeralContainers ?? []).find((c: any) => c.name === name);
}
