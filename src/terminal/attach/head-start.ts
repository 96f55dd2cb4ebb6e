// A session's first kubectl attach, started ahead of the session, while the run waits for its
// credential (debug/attach-ahead.ts): kubectl's own start-up and kubeconfig read, and the round trips
// of the pod's read and the PATCH, then overlap that wait instead of following the PATCH. What it
// prints and how it ends is held (bounded) until the session's relay takes it as its first attempt
// (pty.ts); a session that does not come, or comes for another container, kills it unseen.
import type * as NodePty from 'node-pty';
import { ptyBytes } from '../pty-loader';
import { spawnAttempt } from './terminal-io';

/** What the head start saw before it was taken, in order. */
type Held = { kind: 'data'; data: Buffer } | { kind: 'exit'; exitCode: number; signal?: number };

// Before its session takes it, a kubectl attach prints at most its own error lines (its container
// cannot run before the PATCH): one that prints more than this is killed, and the session starts its own.
const MAX_HELD_BYTES = 64 * 1024;

/** The handlers the relay gives the attempt it takes. */
export interface AttemptListeners {
  onData(data: Buffer): void;
  onExit(exit: { exitCode: number; signal?: number }): void;
}

/** One kubectl attach under a pty of its own, started before its session; see the file comment. */
export class HeadStart {
  readonly pty: NodePty.IPty;
  private held: Held[] = [];
  private heldBytes = 0;
  private sink: ((event: Held) => void) | undefined;
  private done = false;
  private readonly subs: Array<{ dispose(): void }>;
  private readonly killOnExit = () => this.discard();

  /**
   * Spawns `kubectl ARGS` (ARGS with the attach flags already in) under a pty the size of output,
   * for the session that will attach with `standsFor` (the same command line but for the kubeconfig
   * it names, which the run writes later).
   */
  constructor(
    ptyModule: typeof NodePty,
    readonly kubectl: string,
    args: readonly string[],
    readonly standsFor: readonly string[],
    env: NodeJS.ProcessEnv,
    output: NodeJS.WriteStream,
  ) {
    this.pty = spawnAttempt(ptyModule, kubectl, args, env, output);
    this.subs = [
      this.pty.onData((chunk) => this.deliver({ kind: 'data', data: ptyBytes(chunk) })),
      this.pty.onExit((e) => this.deliver({ kind: 'exit', exitCode: e.exitCode, ...(e.signal ? { signal: e.signal } : {}) })),
    ];
    process.once('exit', this.killOnExit);
  }

  /**
   * The attempt, for a session that attaches with the command line it stands for; its events go to
   * listeners from now on, the held ones first (after the caller's current turn). Another command
   * line (another container, other flags) kills it: undefined.
   */
  take(kubectl: string, args: readonly string[], listeners: AttemptListeners): { pty: NodePty.IPty; subs: Array<{ dispose(): void }> } | undefined {
    if (this.done) return undefined;
    if (kubectl !== this.kubectl || args.length !== this.standsFor.length || args.some((a, i) => a !== this.standsFor[i])) {
      this.discard();
      return undefined;
    }
    this.done = true;
    process.off('exit', this.killOnExit);
    queueMicrotask(() => {
      this.sink = (event) => (event.kind === 'data' ? listeners.onData(event.data) : listeners.onExit(event));
      for (const event of this.held.splice(0)) this.sink(event);
    });
    return { pty: this.pty, subs: this.subs };
  }

  /** Kills the attempt unless a session took it. */
  discard(): void {
    if (this.done) return;
    this.done = true;
    process.off('exit', this.killOnExit);
    this.subs.forEach((s) => s.dispose());
    this.held = [];
    try {
      // node-pty on Windows takes no signal (it throws on one).
      if (process.platform === 'win32') this.pty.kill();
      else this.pty.kill('SIGKILL');
    } catch {
      // Already gone.
    }
  }

  private deliver(event: Held): void {
    if (this.sink) return this.sink(event);
    this.held.push(event);
    if (event.kind === 'data' && (this.heldBytes += event.data.length) > MAX_HELD_BYTES) this.discard();
  }
}
