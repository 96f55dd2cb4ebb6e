import { spawn } from 'node:child_process';
import type { Writable } from 'node:stream';
import { streamAttach, type StreamAttach } from './stream-attach.js';

/**
 * How commands run kubectl besides the interactive session: the seam that lets cleanup, capture and
 * collect be unit tested (like the API client, a production default is wired in main.ts, a fake in tests).
 */
export interface KubectlRunner {
  /** Runs `kubectl ARGS` to the end (killed after timeoutMs); resolves with its exit code and stderr. */
  run(args: string[], timeoutMs: number): Promise<{ code: number; stderr: string }>;
  /**
   * Types keys into a container's terminal through `kubectl attach -it` under a pseudo-terminal;
   * resolves true when kubectl ended by itself (the shell exited), false when it was stopped.
   */
  sendKeys(args: string[], keys: string, timeoutMs: number): Promise<boolean>;
  /**
   * Starts `kubectl attach -i --quiet ARGS` without a TTY: the container's stdout goes byte for byte
   * into sink (ended with it when closeSink), its stderr comes back line by line through onStderr.
   */
  streamAttach(args: string[], sink: Writable, closeSink: boolean, onStderr: (line: string) => void): StreamAttach;
}

/** The production runner: spawns the kubectl the plugin was told to use. */
export function spawnKubectlRunner(kubectl: string, env: NodeJS.ProcessEnv): KubectlRunner {
  return {
    run: (args, timeoutMs) =>
      new Promise((resolve) => {
        const child = spawn(kubectl, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
        let stderr = '';
        child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-4096)));
        const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
        child.on('error', (err) => (clearTimeout(timer), resolve({ code: 127, stderr: err.message })));
        child.on('close', (code) => (clearTimeout(timer), resolve({ code: code ?? 137, stderr })));
      }),
    async sendKeys(args, keys, timeoutMs) {
      const { sendKeysThroughAttach } = await import('../terminal/send-keys.js');
      return sendKeysThroughAttach(kubectl, args, keys, env, timeoutMs);
    },
    streamAttach: (args, sink, closeSink, onStderr) => streamAttach(kubectl, args, env, sink, closeSink, onStderr),
  };
}
