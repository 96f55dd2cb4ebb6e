// Types into a debug container's terminal without a user: `kubectl attach -it` under a pty of ours
// (a TTY container refuses a non-TTY attach with "error stream protocol error"), the keys written,
// then kubectl left to end with the session or stopped after a deadline.
import { mayBeKubectlFailure } from './attach/kubectl-output';
import { loadPty, platformPtyOptions } from './pty-loader';

// Without output to go by (a program that does not redraw on a resize), the keys go after this.
const TYPE_ANYWAY_MS = 1500;

/** Resolves true when kubectl ended by itself (the shell exited), false when it had to be stopped. */
export function sendKeysThroughAttach(kubectl: string, args: string[], keys: string, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<boolean> {
  const pty = loadPty();
  if (!pty) return Promise.resolve(false);
  const term = pty.spawn(kubectl, ['attach', '-i', '-t', '--quiet', ...args], { cols: 80, rows: 24, env: env as Record<string, string>, ...platformPtyOptions() });
  return new Promise((resolve) => {
    let ended = false;
    let typed = false;
    let seen = '';
    const stop = setTimeout(() => term.kill('SIGKILL'), timeoutMs);
    // Keys go once the attach stream is open: before that kubectl's terminal is not raw yet (a
    // Ctrl-C would end kubectl itself) and it reads nothing. The shell's prompt, redrawn when the
    // attach sets the terminal size, says the stream is open.
    const type = () => {
      if (ended || typed) return;
      typed = true;
      term.write(keys);
    };
    const fallback = setTimeout(type, TYPE_ANYWAY_MS);
    term.onData((data) => {
      if (typed) return;
      seen += data;
      if (!mayBeKubectlFailure(seen)) type();
    });
    term.onExit(({ exitCode, signal }) => {
      ended = true;
      clearTimeout(stop);
      clearTimeout(fallback);
      resolve(!signal && exitCode === 0);
    });
  });
}
