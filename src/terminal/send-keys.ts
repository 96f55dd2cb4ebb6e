// Types into a debug container's terminal without a user: `kubectl attach -it` under a pty of ours
// (a TTY container refuses a non-TTY attach with "error stream protocol error"), the keys written,
// then kubectl left to end with the session or stopped after a deadline.
import { loadPty } from './pty-loader';

/** Resolves true when kubectl ended by itself (the shell exited), false when it had to be stopped. */
export function sendKeysThroughAttach(kubectl: string, args: string[], keys: string, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<boolean> {
  const pty = loadPty();
  if (!pty) return Promise.resolve(false);
  const term = pty.spawn(kubectl, ['attach', '-i', '-t', '--quiet', ...args], { cols: 80, rows: 24, env: env as Record<string, string> });
  return new Promise((resolve) => {
    let ended = false;
    const stop = setTimeout(() => term.kill('SIGKILL'), timeoutMs);
    // Let the attach stream open before typing: keys sent earlier are lost.
    const type = setTimeout(() => {
      if (!ended) term.write(keys);
    }, 1500);
    term.onExit(({ exitCode, signal }) => {
      ended = true;
      clearTimeout(stop);
      clearTimeout(type);
      resolve(!signal && exitCode === 0);
    });
  });
}
