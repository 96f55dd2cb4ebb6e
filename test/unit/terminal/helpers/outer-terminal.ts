// The user's side of a session, for tests: a real pty running a shell that runs the attach driver
// and then `stty -a`, so a test can type, resize, send signals and read the screen as text.
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { buildSync } from 'esbuild';
import type { IPty } from 'node-pty';
import { loadPty } from '../../../../src/terminal/pty-loader';
import type { DriverConfig, DriverReport } from '../driver/attach-driver';
import { eventually } from '../../../support/wait';

const root = resolve(__dirname, '../../../..');
/** The stand-in for kubectl that every session test attaches to. */
export const FAKE_KUBECTL = join(root, 'test/support/fake-kubectl/kubectl');

/** A built copy of the driver in a temp dir; remove() when done. */
export interface BuiltDriver {
  file: string;
  dir: string;
  /** NODE_PATH that finds the real node-pty. */
  withPty: string;
  /** NODE_PATH whose node-pty throws on load, as a missing native build does. */
  withoutPty: string;
  remove(): void;
}

/** Bundles the driver (node-pty left external, found through NODE_PATH) into a fresh temp dir. */
export function buildDriver(): BuiltDriver {
  const dir = mkdtempSync(join(tmpdir(), 'attach-driver-'));
  const file = join(dir, 'attach-driver.cjs');
  buildSync({
    entryPoints: [join(root, 'test/unit/terminal/driver/attach-driver.ts')],
    outfile: file,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node22',
    external: ['node-pty'],
    logLevel: 'error',
  });
  const broken = join(dir, 'broken-modules');
  mkdirSync(join(broken, 'node-pty'), { recursive: true });
  writeFileSync(join(broken, 'node-pty', 'index.js'), "throw new Error('Failed to load native module: pty.node (test double)');\n");
  return {
    file,
    dir,
    withPty: join(root, 'node_modules'),
    withoutPty: broken,
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** How to start an outer terminal. */
export interface OuterOptions {
  driver: BuiltDriver;
  config: DriverConfig;
  cols?: number;
  rows?: number;
  env?: Record<string, string>;
  /** Load the throwing node-pty instead of the real one. */
  breakPty?: boolean;
  /** ulimit -f for the driver, in KiB: files it writes past that fail with EFBIG, as a full disk would fail them. */
  fileSizeLimitKiB?: number;
}

const live = new Set<OuterTerminal>();
let terminals = 0;

/** A pty the test drives as the user's terminal. */
export class OuterTerminal {
  /** Everything the terminal received, byte for byte. */
  raw = '';
  readonly exited: Promise<number>;
  private readonly pty: IPty;
  private readonly stepFile: string;
  private waiters: Array<() => void> = [];

  constructor(opts: OuterOptions) {
    const ptyModule = loadPty();
    if (!ptyModule) throw new Error('node-pty does not load: the terminal tests need it');
    // A non-interactive shell never touches the terminal modes, so the last stty shows what the
    // driver left behind (an interactive one would reset them at its prompt).
    const limit = opts.fileSizeLimitKiB !== undefined ? `ulimit -f ${opts.fileSizeLimitKiB}; ` : '';
    this.stepFile = join(opts.driver.dir, `step-${++terminals}`);
    const script = limit + '"$DRIVER_NODE" "$DRIVER_JS"; echo "DRIVER-EXIT $?"; echo "SHELL-STTY $(stty -a | tr \'\\n\' \' \')"';
    this.pty = ptyModule.spawn('bash', ['--noprofile', '--norc', '-c', script], {
      cols: opts.cols ?? 100,
      rows: opts.rows ?? 30,
      cwd: root,
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: process.env.HOME ?? '/tmp',
        TERM: 'xterm-256color',
        LANG: 'C.UTF-8',
        DRIVER_NODE: process.execPath,
        DRIVER_JS: opts.driver.file,
        NODE_PATH: opts.breakPty ? opts.driver.withoutPty : opts.driver.withPty,
        ATTACH_DRIVER: JSON.stringify(opts.config),
        DRIVER_STEP_FILE: this.stepFile,
        ...opts.env,
      },
    });
    this.pty.onData((d) => {
      this.raw += d;
      for (const wake of this.waiters) wake();
    });
    this.exited = new Promise((resolve) => this.pty.onExit((e) => {
      live.delete(this);
      resolve(e.exitCode);
    }));
    live.add(this);
  }

  /**
   * The screen as text with line ends made '\n': relayed lines arrive as '\r\r\n' because both
   * the inner and the outer pty turn '\n' into '\r\n' (raw mode keeps output processing on).
   */
  get screen(): string {
    return this.raw.replace(/\r+\n/g, '\n');
  }

  /** Resolves with the first match of pattern on the screen; rejects after timeoutMs with the screen so far. */
  waitFor(pattern: RegExp, timeoutMs = 10_000): Promise<RegExpMatchArray> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const match = this.screen.match(pattern);
        if (!match) return false;
        clearTimeout(timer);
        this.waiters = this.waiters.filter((w) => w !== wake);
        resolve(match);
        return true;
      };
      const wake = () => void check();
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== wake);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${pattern}; screen:\n${JSON.stringify(this.screen)}`));
      }, timeoutMs);
      if (!check()) this.waiters.push(wake);
    });
  }

  /** Types into the terminal. */
  type(data: string): void {
    this.pty.write(data);
  }

  /**
   * The test's step (see DriverConfig): fires the driver's held timer of that name, or gives the
   * early session's word ('settle'); resolves once the driver took it, throws when it held
   * nothing by that name (the step came before what it must follow, or after the timer's cancel).
   */
  async step(name: string): Promise<void> {
    const line = new RegExp(`^STEP ${name}(.*)\n`, 'gm');
    const before = [...this.screen.matchAll(line)].length;
    writeFileSync(this.stepFile, name);
    process.kill(await this.driverPid(), 'SIGALRM');
    await this.waitFor(new RegExp(`(?:^STEP ${name}.*\n[^]*){${before + 1}}`, 'm'));
    const taken = [...this.screen.matchAll(line)][before]!;
    if (taken[1]) throw new Error(`step ${name}:${taken[1]}; screen:\n${JSON.stringify(this.screen)}`);
  }

  /** Resizes the terminal, which sends SIGWINCH to the driver. */
  resize(cols: number, rows: number): void {
    this.pty.resize(cols, rows);
  }

  /** Waits for the driver's report and the shell's epilogue, and parses them. */
  async finish(timeoutMs = 10_000): Promise<{ report: DriverReport; driverStty: string; driverExit: number; shellStty: string }> {
    const report = JSON.parse((await this.waitFor(/DRIVER-RESULT (\{.*?\})\n/, timeoutMs))[1]!) as DriverReport;
    const driverStty = (await this.waitFor(/DRIVER-STTY (.*?)\n/, timeoutMs))[1]!;
    const driverExit = Number((await this.waitFor(/DRIVER-EXIT (\d+)/, timeoutMs))[1]);
    const shellStty = (await this.waitFor(/SHELL-STTY (.*?)\n/, timeoutMs))[1]!;
    return { report, driverStty, driverExit, shellStty };
  }

  /** The pid printed by the driver. */
  async driverPid(): Promise<number> {
    return Number((await this.waitFor(/DRIVER-PID (\d+)/))[1]);
  }

  /** The pid printed by the fake kubectl. */
  async kubectlPid(): Promise<number> {
    return Number((await this.waitFor(/FAKE-KUBECTL pid=(\d+)/))[1]);
  }

  /** Ends the shell and everything in its terminal. */
  kill(): void {
    this.pty.kill('SIGKILL');
  }
}

/** Kills every outer terminal a test left running (call from afterEach). */
export function killLiveTerminals(): void {
  for (const t of live) t.kill();
  live.clear();
}

/** True when the stty -a text shows a cooked terminal: canonical input with echo, output post-processing on. */
export function isCooked(stty: string): boolean {
  const words = stty.split(' ');
  return words.includes('icanon') && words.includes('echo') && words.includes('isig') && words.includes('opost');
}

/** True while a process with this pid exists. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Resolves true once the pid is gone, false if it still exists after timeoutMs (checked every 20 ms). */
export function exitedWithin(pid: number, timeoutMs: number): Promise<boolean> {
  return eventually(async () => !isAlive(pid), timeoutMs, `pid ${pid} to exit`, 20).then(() => true, () => false);
}
