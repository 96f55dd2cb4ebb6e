// Small pieces every way of running kubectl attach shares: its flags, the terminal's size, the pty
// an attempt runs in, waiting for a slow terminal, and the signals a session passes on.
import { execFileSync } from 'node:child_process';
import type * as NodePty from 'node-pty';
import { platformPtyOptions } from '../pty-loader';
import type { TerminalSize } from '../recording';

/** The signals a session passes on to kubectl (and then ends it if it ignores them). */
export const FORWARDED_SIGNALS: NodeJS.Signals[] = ['SIGTERM', 'SIGHUP', 'SIGINT'];

// How long to wait for a slow terminal to take the tail of the output before giving up on it.
const DRAIN_LIMIT_MS = 2000;

/**
 * The kubectl arguments with -i (unless stdin is off), -t for a terminal, and --quiet added right
 * after the attach verb. --quiet keeps kubectl's own lines ("If you don't see a command prompt",
 * "Session ended, ... kubectl attach") out of the session: the plugin prints its own, true ones.
 */
export function withAttachFlags(args: readonly string[], tty: boolean, stdin = true): string[] {
  const flags = [...(stdin ? ['-i'] : []), ...(tty ? ['-t'] : []), '--quiet'];
  const verb = args.indexOf('attach');
  const at = verb < 0 ? args.length : verb + 1;
  return [...args.slice(0, at), ...flags, ...args.slice(at)];
}

/**
 * Spawns one kubectl attach attempt under a pty the size of output now: the options every attempt
 * runs with (the relay's own, and the one started ahead of its session).
 */
export function spawnAttempt(ptyModule: typeof NodePty, kubectl: string, args: readonly string[], env: NodeJS.ProcessEnv, output: NodeJS.WriteStream): NodePty.IPty {
  const size = terminalSize(output);
  return ptyModule.spawn(kubectl, [...args], {
    cols: size.cols,
    rows: size.rows,
    env,
    // Raw bytes both ways: decoding here would mangle anything that is not UTF-8.
    encoding: null,
    // On, node-pty would swallow Ctrl-S/Ctrl-Q typed for the container.
    handleFlowControl: false,
    ...platformPtyOptions(),
  });
}

/** The output's size; 80x24 (what full-screen programs assume without a terminal) when it has none. */
export function terminalSize(output: NodeJS.WriteStream): TerminalSize {
  // A pty of 0x0 confuses full-screen programs.
  const cols = output.isTTY && output.columns > 0 ? output.columns : 80;
  const rows = output.isTTY && output.rows > 0 ? output.rows : 24;
  return { cols, rows };
}

/** Resolves once a slow output took what it was given, or after 2 s (a terminal that stopped reading). */
export async function waitForDrain(output: NodeJS.WriteStream): Promise<void> {
  if (!output.writableNeedDrain || output.destroyed) return;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(done, DRAIN_LIMIT_MS);
    output.once('drain', done);
    function done() {
      clearTimeout(timer);
      output.off('drain', done);
      resolve();
    }
  });
}

/**
 * libuv's raw mode keeps output post-processing on (it sets ONLCR), so the container's \r\n would
 * reach the terminal as \r\r\n; kubectl's own raw mode turns OPOST off, and so does this. Safe to
 * undo: setRawMode(false) puts back the whole termios libuv saved before raw mode.
 */
export function passOutputThrough(input: NodeJS.ReadStream, log: (line: string) => void): void {
  try {
    execFileSync('stty', ['-opost'], { stdio: [input, 'ignore', 'ignore'] });
  } catch {
    log('could not turn off output post-processing (stty -opost): lines may end in \\r\\r\\n');
  }
}

/** The first line of an error's message. */
export function describe(err: unknown): string {
  return err instanceof Error ? (err.message.split('\n')[0] ?? String(err)) : String(err);
}
