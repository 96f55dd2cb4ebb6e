import { createInterface } from 'node:readline/promises';

/**
 * Asks one question on the terminal (prompt on stderr, answer from stdin) and resolves with the
 * answer, or undefined without asking when stdin or stderr is not a terminal (a script or a pipe
 * must never hang on a question). Aborting the signal (Ctrl-C) rejects.
 */
export async function askOnTerminal(question: string, signal: AbortSignal): Promise<string | undefined> {
  if (!process.stdin.isTTY || !process.stderr.isTTY) return undefined;
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  // readline swallows Ctrl-C as its own SIGINT event: turn it into the process signal so the
  // plugin's one interrupt path (cleanups, exit 130) runs.
  rl.on('SIGINT', () => process.kill(process.pid, 'SIGINT'));
  try {
    return await rl.question(question, { signal });
  } finally {
    rl.close();
  }
}
