// Drives the built plugin in a real pseudo-terminal for the end-to-end sessions (test/e2e/sessions):
// an outer pty runs bash, the test types into it as a user would and reads what the screen shows.
//
//   const t = await Terminal.open({ env });              // bash in a 120x40 pty
//   await t.runPlugin(['process', 'web', '-n', ns, '--context', 'debugger']);
//   await t.waitForShell();                              // attached; the container's prompt is up
//   expect(await t.command('ps')).toMatch(/httpd/);      // typed, output up to a marker
//   expect(await t.endPlugin('exit 3')).toBe(3);         // the plugin's exit code, as bash saw it
//   await t.expectCookedMode();                          // stty -a in that same bash
//
// Screen text is the pty output with ANSI escape sequences removed and CR LF turned into LF. Every
// wait has a timeout; the error it throws ends with the last lines of the screen.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type * as NodePty from 'node-pty';
import { clusterEnv, createObject, createTestNamespace, kubectlResult, waitForPodRunning } from './cluster';
import { BUILT_PLUGIN } from './plugin';
import { describeIfAvailable } from './suite-gate';

const REPO = resolve(__dirname, '..', '..');
export const SAMPLE_APP = 'localhost/kubectl-ephemeral/sample-app:1';

const DEFAULT_WAIT_MS = 30_000;
const SCREEN_LINES_ON_FAILURE = 60;

// CSI (ESC [ ... final), OSC (ESC ] ... BEL or ESC \), charset selection and other two-byte escapes.
const ANSI = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[()][0-9A-Za-z]|\x1b[=>78DEHMc]/g;

/**
 * Terminal output as a reader sees it: no escape sequences, LF line ends, no stray CR or BEL, and
 * a line erased in place (CR then erase-line, as a progress line is cleared) gone.
 */
export function stripAnsi(raw: string): string {
  return raw.replace(/[^\n]*\r\x1b\[K/g, '').replace(ANSI, '').replace(/\r+\n/g, '\n').replace(/\r/g, '').replace(/\x07/g, '');
}

/** Why the real node cannot run these sessions, or '' when a containerd-backed kubelet is Ready. */
export function realNodeUnavailable(): string {
  let nodeName: string;
  try {
    nodeName = clusterEnv().nodeName;
  } catch (e) {
    return (e as Error).message;
  }
  const r = kubectlResult(['get', 'node', nodeName, '-o', 'json']);
  if (!r.ok) return `node ${nodeName} not found: ${r.stderr.trim()}`;
  const node = JSON.parse(r.stdout);
  const runtime: string = node.status?.nodeInfo?.containerRuntimeVersion ?? '';
  if (!runtime.startsWith('containerd://')) return `node ${nodeName} has no real kubelet (runtime "${runtime}")`;
  const ready = (node.status?.conditions ?? []).find((c: any) => c.type === 'Ready');
  if (ready?.status !== 'True') return `node ${nodeName} is not Ready`;
  if (!existsSync(BUILT_PLUGIN) || !existsSync(join(REPO, 'plugin', 'lib', 'kubectl-ephemeral.cjs'))) return `${BUILT_PLUGIN} is missing; run npm run build`;
  return '';
}

/** `describe` when the real node is there; else skipped locally and failing under CI (suite-gate.ts). */
export function describeOnRealNode(file: string): jest.Describe {
  return describeIfAvailable(file, realNodeUnavailable(), 'the real node comes with scripts/cluster.sh up --node');
}

/** A pod of the sample app as the sessions debug it (uid 1000, local images); the scheduler puts it on the real node. */
export function sampleAppPod(name: string, extra: { command?: string[]; volumeMounts?: object[]; volumes?: object[] } = {}): object {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name },
    spec: {
      terminationGracePeriodSeconds: 1,
      securityContext: { runAsUser: 1000 },
      containers: [
        {
          name: 'app',
          image: SAMPLE_APP,
          imagePullPolicy: 'IfNotPresent',
          ...(extra.command ? { command: extra.command } : {}),
          ...(extra.volumeMounts ? { volumeMounts: extra.volumeMounts } : {}),
        },
      ],
      ...(extra.volumes ? { volumes: extra.volumes } : {}),
    },
  };
}

/**
 * The world most session suites start from: a namespace of their own (`prefix`, `labels`) holding
 * the sample app's pod "web", Running on the real node. Returns the namespace (deleteTestNamespace after all).
 */
export async function sampleAppNamespace(prefix: string, labels: Record<string, string> = {}): Promise<string> {
  const ns = await createTestNamespace(prefix, labels);
  createObject(sampleAppPod('web'), { namespace: ns });
  await waitForPodRunning(ns, 'web');
  return ns;
}

/** GET http://host:port/path from this process; resolves with the status code. */
export function httpGet(url: string, timeoutMs = 5000): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const req = request(url, { timeout: timeoutMs }, (res) => {
      res.resume();
      res.on('end', () => resolvePromise(res.statusCode ?? 0));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

export interface TerminalOptions {
  cols?: number;
  rows?: number;
  /** Added to the plugin's environment (KUBECONFIG, a private HOME and XDG dirs are set already). */
  env?: Record<string, string>;
}

const OUTER_PROMPT = 'outer$ ';
let markers = 0;

/** bash in a pty of our own, in which the plugin runs as a user would run it. */
export class Terminal {
  private raw = '';
  private exit: { exitCode: number; signal?: number } | undefined;
  private readonly listeners = new Set<() => void>();
  private pluginStart = 0;
  /** Between runPlugin() and pluginExit(): waits fail as soon as the plugin has exited. */
  private pluginActive = false;

  private constructor(
    private readonly pty: NodePty.IPty,
    readonly home: string,
  ) {
    pty.onData((d) => {
      this.raw += d;
      this.listeners.forEach((l) => l());
    });
    pty.onExit((e) => {
      this.exit = e;
      this.listeners.forEach((l) => l());
    });
  }

  /** Starts bash (no rc files, prompt "outer$ ") in a cols x rows pty and waits for its prompt. */
  static async open(opts: TerminalOptions = {}): Promise<Terminal> {
    const ptyModule = require('node-pty') as typeof NodePty;
    const home = mkdtempSync(join(tmpdir(), 'ke-e2e-session-'));
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: home,
      XDG_CONFIG_HOME: join(home, '.config'),
      XDG_STATE_HOME: join(home, '.local', 'state'),
      KUBECONFIG: clusterEnv().kubeconfig,
      TERM: 'xterm-256color',
      LANG: 'C.UTF-8',
      PS1: OUTER_PROMPT,
      ...opts.env,
    };
    const pty = ptyModule.spawn('bash', ['--norc', '--noprofile', '-i'], { name: 'xterm-256color', cols: opts.cols ?? 120, rows: opts.rows ?? 40, cwd: home, env });
    const t = new Terminal(pty, home);
    await t.waitFor(OUTER_PROMPT, { what: 'the outer bash prompt', timeoutMs: 10_000 });
    return t;
  }

  /** Everything shown so far, escape sequences removed. */
  get screen(): string {
    return stripAnsi(this.raw);
  }

  /** A position in the output: text() and waitFor() can start from it. */
  mark(): number {
    return this.raw.length;
  }

  /** The bytes written since a mark, escape sequences and CRs kept (to see what was redrawn in place). */
  rawText(since = 0): string {
    return this.raw.slice(since);
  }

  /** The screen text written since a mark. */
  text(since = 0): string {
    return stripAnsi(this.raw.slice(since));
  }

  /** The last lines of the screen, for failure messages. */
  tail(lines = SCREEN_LINES_ON_FAILURE): string {
    return this.screen.split('\n').slice(-lines).join('\n');
  }

  /** Types text as it is (use \r for Enter, \x03 for Ctrl-C). */
  type(text: string): void {
    this.pty.write(text);
  }

  /** Resizes the outer terminal, as a user dragging the window would. */
  resize(cols: number, rows: number): void {
    this.pty.resize(cols, rows);
  }

  /** Waits until the screen text since `since` matches; resolves with the match. */
  async waitFor(pattern: RegExp | string, opts: { since?: number; timeoutMs?: number; what?: string; allowPluginExit?: boolean } = {}): Promise<RegExpMatchArray> {
    const since = opts.since ?? 0;
    const timeoutMs = opts.timeoutMs ?? DEFAULT_WAIT_MS;
    const find = (): RegExpMatchArray | null => {
      const text = this.text(since);
      if (typeof pattern === 'string') {
        const i = text.indexOf(pattern);
        if (i < 0) return null;
        const m = [pattern] as unknown as RegExpMatchArray;
        m.index = i;
        return m;
      }
      return pattern.exec(text);
    };
    const pluginEnded = () => (this.pluginActive && !opts.allowPluginExit ? /plugin-exit=(\d+)\n/.exec(this.text(this.pluginStart)) : null);
    const found = find();
    if (found) return found;
    const ended = pluginEnded();
    if (ended) throw this.failure(`the plugin exited (${ended[0].trim()}) before ${opts.what ?? String(pattern)} showed`);
    return new Promise((resolvePromise, reject) => {
      const check = () => {
        const m = find();
        if (m) {
          finish();
          resolvePromise(m);
        } else if (pluginEnded()) {
          finish();
          reject(this.failure(`the plugin exited (${pluginEnded()![0].trim()}) before ${opts.what ?? String(pattern)} showed`));
        } else if (this.exit) {
          finish();
          reject(this.failure(`the terminal's bash exited (${JSON.stringify(this.exit)}) while waiting for ${opts.what ?? String(pattern)}`));
        }
      };
      const timer = setTimeout(() => {
        finish();
        reject(this.failure(`timed out after ${timeoutMs} ms waiting for ${opts.what ?? String(pattern)}`));
      }, timeoutMs);
      const finish = () => {
        clearTimeout(timer);
        this.listeners.delete(check);
      };
      this.listeners.add(check);
    });
  }

  /**
   * Starts `kubectl-ephemeral ARGS` from the outer bash (stdout to a file if asked; `plugin` another
   * executable than the built plugin); bash prints its exit code when it ends.
   */
  async runPlugin(args: string[], opts: { stdout?: string; plugin?: string } = {}): Promise<void> {
    const quote = (a: string) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`);
    const quoted = [opts.plugin ?? BUILT_PLUGIN, ...args].map(quote).join(' ') + (opts.stdout ? ` > ${quote(opts.stdout)}` : '');
    this.pluginStart = this.mark();
    this.pluginActive = true;
    this.type(`${quoted}; echo "plugin-exit=$?"\r`);
  }

  /** Waits until the plugin attached and the container's shell shows a prompt (kubectl's "If you don't see a command prompt" is silenced). */
  async waitForShell(timeoutMs = 60_000, since = this.pluginStart): Promise<void> {
    await this.waitFor(/attaching to "[^"]+" of pod "[^"]+" \(exit the shell to end [^)]*\)\n[\s\S]*[#$] /, { since, timeoutMs, what: 'the debug shell prompt' });
  }

  /**
   * Types a command into the shell on screen, followed by an echo of a marker; resolves with what
   * the command printed (the screen between the typed line and the marker). The marker is built
   * with shell arithmetic so that the typed line itself never matches.
   */
  async command(cmd: string, timeoutMs = DEFAULT_WAIT_MS): Promise<string> {
    const n = ++markers;
    const since = this.mark();
    this.type(`${cmd}; echo "==done-$((${n}+0))-$?=="\r`);
    const m = await this.waitFor(new RegExp(`==done-${n}-(\\d+)==`), { since, timeoutMs, what: `the end of "${cmd}"` });
    const text = this.text(since).slice(0, m.index);
    // Drop the echoed command line: the output starts on the next line.
    const nl = text.indexOf('\n');
    return nl < 0 ? '' : text.slice(nl + 1);
  }

  /** Waits for the exit code the outer bash printed for the plugin. */
  async pluginExit(timeoutMs = DEFAULT_WAIT_MS): Promise<number> {
    const m = await this.waitFor(/plugin-exit=(\d+)\n[\s\S]*outer\$ /, { since: this.pluginStart, timeoutMs, what: 'the plugin to exit and the outer prompt', allowPluginExit: true });
    this.pluginActive = false;
    return Number(m[1]);
  }

  /** Whether the plugin is still running (bash has not printed its exit code). */
  pluginRunning(): boolean {
    return !/plugin-exit=\d+\n/.test(this.text(this.pluginStart));
  }

  /** Types a line that ends the debug shell (`exit`, `exit 3`) and resolves with the plugin's exit code. */
  async endPlugin(line = 'exit', timeoutMs = DEFAULT_WAIT_MS): Promise<number> {
    this.type(`${line}\r`);
    return this.pluginExit(timeoutMs);
  }

  /** Runs `stty -a` in the outer bash and fails unless the terminal is back in cooked mode with echo. */
  async expectCookedMode(): Promise<void> {
    const out = await this.command('stty -a', 10_000);
    const flags = out.split(/[\s;]+/);
    if (!['icanon', 'echo', 'opost'].every((f) => flags.includes(f)) || ['-icanon', '-echo', '-opost'].some((f) => flags.includes(f)))
      throw this.failure(`the outer terminal is not back in cooked mode with echo and output processing; stty -a said:\n${out}`);
  }

  /** An Error whose message ends with the screen. */
  failure(message: string): Error {
    return new Error(`${message}\n--- screen (last ${SCREEN_LINES_ON_FAILURE} lines) ---\n${this.tail()}\n--- end of screen ---`);
  }

  /** Ends whatever still runs in the terminal (the plugin, then bash) and removes the private HOME. */
  async close(): Promise<void> {
    // At the outer prompt, `exit` as a user would type it. Otherwise (a test failed mid-session)
    // SIGHUP as a closed terminal window would send: bash passes it to the plugin. SIGKILL last: a
    // bash left alive (SIGHUP has been seen to land unnoticed inside readline) keeps jest running.
    const steps: Array<() => void> = [() => this.pty.kill('SIGHUP'), () => this.pty.kill('SIGKILL')];
    if (!this.pluginRunning()) steps.unshift(() => this.type('exit\r'));
    for (const step of steps) {
      if (this.exit) break;
      try {
        step();
      } catch {
        // Already gone.
      }
      await this.exited(2000);
    }
    rmSync(this.home, { recursive: true, force: true });
  }

  /** Resolves when bash has exited, or after timeoutMs. */
  private exited(timeoutMs: number): Promise<void> {
    return new Promise<void>((resolvePromise) => {
      const done = () => {
        clearTimeout(timer);
        this.listeners.delete(check);
        resolvePromise();
      };
      const check = () => {
        if (this.exit) done();
      };
      const timer = setTimeout(done, timeoutMs);
      this.listeners.add(check);
      check();
    });
  }
}

/**
 * Runs a test body with a fresh Terminal: a failure gets the screen appended (unless it has it),
 * and the terminal is closed however the body ends.
 */
export async function inTerminal(opts: TerminalOptions, body: (t: Terminal) => Promise<void>): Promise<void> {
  const t = await Terminal.open(opts);
  try {
    await body(t);
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    if (!e.message.includes('--- screen (last')) e.message += `\n--- screen (last ${SCREEN_LINES_ON_FAILURE} lines) ---\n${t.tail()}\n--- end of screen ---`;
    throw e;
  } finally {
    await t.close();
  }
}
