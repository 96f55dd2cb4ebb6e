// Helpers for the API suite (test/integration/plugin): run the built plugin as a user would, and
// play the kubelet for pods bound to the fake node while the plugin waits.
//
//   const run = await runPlugin(['shell', 'web', '-n', ns, '--context', 'debugger', '--no-attach']);
//   const kubelet = new KubeletStandIn(ns).start();   // marks every new ephemeral container running
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { clusterEnv, createTestNamespace, KUBECTL, kubectl, kubectlResult, type Context, type KubectlOptions } from './cluster';

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

/** Describes a run for failure messages. */
export function describeRun(r: PluginResult): string {
  return `exit ${r.code} (signal ${r.signal}) after ${r.ms} ms\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
}

// ----------------------------------------------------------------------------- async kubectl

/** kubectl as admin (unless told) without blocking the event loop, so a running plugin's output keeps flowing. */
export function kubectlAsync(args: string[], opts: KubectlOptions = {}): Promise<string> {
  const all = ['--kubeconfig', clusterEnv().kubeconfig, '--context', opts.context ?? 'admin', ...(opts.namespace ? ['--namespace', opts.namespace] : []), ...args];
  return new Promise((resolvePromise, reject) => {
    const child = execFile(KUBECTL, all, { encoding: 'utf8', timeout: opts.timeoutMs ?? 30_000, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) =>
      err ? reject(new Error(`kubectl ${args.join(' ')}: ${stderr.trim() || err.message}`)) : resolvePromise(stdout),
    );
    if (opts.input !== undefined) child.stdin!.end(opts.input);
  });
}

export async function kubectlJsonAsync<T = any>(args: string[], opts: KubectlOptions = {}): Promise<T> {
  return JSON.parse(await kubectlAsync([...args, '-o', 'json'], opts)) as T;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls an async check until it returns a value other than undefined/false, or throws after timeoutMs. */
export async function eventually<T>(check: () => Promise<T | undefined | false>, timeoutMs: number, what: string, everyMs = 100): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

// ---------------------------------------------------------------------------- the kubelet's part

const ts = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');

/** What the stand-in kubelet reports for a container it sees for the first time. */
export type KubeletVerdict =
  | { state: 'running' }
  | { state: 'waiting'; reason: string; message?: string }
  | { state: 'terminated'; exitCode: number; reason?: string }
  /** Leave it without a status (the plugin keeps waiting). */
  | { state: 'ignore' };

export const RUNNING: KubeletVerdict = { state: 'running' };

export interface StandInOptions {
  /** Which pods of the namespace to look after (default: every pod). */
  pods?: (pod: any) => boolean;
  /** Verdict for each new ephemeral container (default: running). */
  ephemeral?: (pod: any, container: any) => KubeletVerdict;
  /** Also start pods that have no container statuses yet (pod copies): every container running. */
  startPods?: boolean;
  /**
   * With startPods: what each init container of a started pod does (default: completed). A classic
   * init container left running holds back the ones after it and the main containers
   * (PodInitializing, phase Pending), as the kubelet runs them in order.
   */
  initContainer?: (pod: any, container: any) => 'completed' | 'running';
  /** Called with every pod the stand-in sees (to capture a short-lived copy). */
  onPod?: (pod: any) => void;
  everyMs?: number;
}

function statusFor(c: any, v: KubeletVerdict): any {
  const base = { name: c.name, image: c.image, imageID: '', ready: false, restartCount: 0 };
  switch (v.state) {
    case 'running':
      return { ...base, containerID: `containerd://${randomBytes(8).toString('hex')}`, started: true, state: { running: { startedAt: ts() } } };
    case 'waiting':
      return { ...base, state: { waiting: { reason: v.reason, ...(v.message ? { message: v.message } : {}) } } };
    case 'terminated':
      return { ...base, state: { terminated: { exitCode: v.exitCode, reason: v.reason ?? (v.exitCode ? 'Error' : 'Completed'), startedAt: ts(), finishedAt: ts() } } };
    case 'ignore':
      return undefined;
  }
}

/**
 * Plays the kubelet for the pods of one namespace (bound to the fake node, which no kubelet runs):
 * polls them and writes a status for each ephemeral container that appears, as the kubelet would
 * once it started (or failed to start) it. Every write is a status-subresource patch as admin.
 */
export class KubeletStandIn {
  /** Ephemeral containers given a status, as "pod/container", in the order seen. */
  readonly handled: string[] = [];
  /** When each was marked (Date.now()). */
  readonly markedAt = new Map<string, number>();
  readonly errors: string[] = [];
  private readonly done = new Set<string>();
  private readonly started = new Set<string>();
  private stopped = false;
  private loop: Promise<void> | undefined;

  constructor(
    readonly namespace: string,
    private readonly opts: StandInOptions = {},
  ) {}

  start(): this {
    this.loop = this.run();
    return this;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      try {
        await this.tick();
      } catch (err) {
        this.errors.push((err as Error).message);
      }
      await sleep(this.opts.everyMs ?? 100);
    }
  }

  private async tick(): Promise<void> {
    const list = await kubectlJsonAsync(['get', 'pods'], { namespace: this.namespace });
    for (const pod of list.items as any[]) {
      if (this.opts.pods && !this.opts.pods(pod)) continue;
      if (pod.metadata.deletionTimestamp) continue;
      this.opts.onPod?.(pod);
      const name = pod.metadata.name;
      const status: Record<string, unknown> = {};
      if (this.opts.startPods && !this.started.has(name) && !(pod.status?.containerStatuses?.length)) {
        status.phase = 'Running';
        status.podIP = '10.244.0.20';
        status.startTime = ts();
        let blocked = false;
        const waiting = (c: any) => statusFor(c, { state: 'waiting', reason: 'PodInitializing' });
        const init = (pod.spec.initContainers ?? []).map((c: any) => {
          if (blocked) return waiting(c);
          const running = c.restartPolicy === 'Always' || this.opts.initContainer?.(pod, c) === 'running';
          if (running && c.restartPolicy !== 'Always') blocked = true;
          return running ? { ...statusFor(c, RUNNING), ready: c.restartPolicy === 'Always' } : statusFor(c, { state: 'terminated', exitCode: 0 });
        });
        if (init.length) status.initContainerStatuses = init;
        if (blocked) status.phase = 'Pending';
        status.containerStatuses = pod.spec.containers.map((c: any) => (blocked ? waiting(c) : { ...statusFor(c, RUNNING), ready: true }));
      }
      // A container that already has a status was handled before this stand-in started.
      const known = new Set((pod.status?.ephemeralContainerStatuses ?? []).map((s: any) => s.name));
      const fresh: any[] = (pod.spec.ephemeralContainers ?? []).filter((c: any) => !this.done.has(`${name}/${c.name}`) && !known.has(c.name));
      const entries: Array<{ c: any; s: any }> = fresh.map((c) => ({ c, s: statusFor(c, this.opts.ephemeral?.(pod, c) ?? RUNNING) })).filter((e) => e.s);
      if (entries.length) {
        const kept = (pod.status?.ephemeralContainerStatuses ?? []).filter((s: any) => !entries.some((e) => e.c.name === s.name));
        status.ephemeralContainerStatuses = [...kept, ...entries.map((e) => e.s)];
      }
      if (Object.keys(status).length === 0) continue;
      await kubectlAsync(['patch', 'pod', name, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status })], { namespace: this.namespace });
      if (status.containerStatuses) this.started.add(name);
      const now = Date.now();
      for (const { c } of entries) {
        this.done.add(`${name}/${c.name}`);
        this.handled.push(`${name}/${c.name}`);
        this.markedAt.set(`${name}/${c.name}`, now);
      }
    }
  }
}

// ------------------------------------------------------------------------- namespaces and files

/**
 * Deletes a test namespace. Pods bound to the fake node never confirm a graceful deletion (no
 * kubelet), which would leave the namespace Terminating for ever: they are force-deleted first.
 */
export function removeNamespace(ns: string): void {
  if (!ns) return;
  kubectlResult(['delete', 'pods', '--all', '--force', '--grace-period=0', '--wait=false'], { namespace: ns, timeoutMs: 60_000 });
  kubectlResult(['delete', 'namespace', ns, '--ignore-not-found', '--wait=false'], { timeoutMs: 60_000 });
}

export { createTestNamespace };

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
