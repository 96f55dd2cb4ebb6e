import type { Printer } from './output/printer.js';
import type { KubeFlags } from './kube/kube-flags.js';
import type { PresetRegistry } from './presets/registry.js';
import type { SuffixSource } from './plan/names.js';
import type { ClusterApi } from './kube/cluster-api.js';
import type { KubeTarget } from './kube/kubeconfig.js';
import type { AttachAheadOptions, AttachSessionOptions, AttachSessionResult } from './terminal/attach-session.js';
import type { KubectlRunner } from './debug/kubectl-runner.js';
import type { HeadStart } from './terminal/attach/head-start.js';

/** A live connection to one cluster, opened lazily so commands without the API never load client-node. */
export interface Connection {
  api: ClusterApi;
  target: KubeTarget;
  /** Closes keep-alive sockets. */
  close(): void;
}

/** Everything a command needs from the outside world, wired once in main.ts. */
export interface CommandContext {
  printer: Printer;
  env: NodeJS.ProcessEnv;
  presets: () => Promise<PresetRegistry>;
  connect(flags: KubeFlags): Promise<Connection>;
  attach(opts: AttachSessionOptions): Promise<AttachSessionResult>;
  /** Starts a session's kubectl attach ahead of it (terminal/attach-session.ts startAttachAhead); absent: never. */
  attachAhead?(opts: AttachAheadOptions): Promise<HeadStart | undefined>;
  /** Which standard streams are terminals: picks the session's TTY and how progress is drawn. */
  isTerminal: { stdin: boolean; stdout: boolean; stderr: boolean };
  /** kubectl to spawn for attach/exec. */
  kubectl: string;
  /** Runs kubectl for exec and typed keys (cleanup) and streams attach output (capture, collect). */
  runner: KubectlRunner;
  /** Asks the user a yes/no question on the terminal; false when there is no terminal to ask on. */
  confirm(question: string): Promise<boolean>;
  suffix: SuffixSource;
  now(): number;
  /**
   * Registers work to run if the process is interrupted (Ctrl-C, SIGTERM, SIGHUP), such as
   * deleting a pod copy; a number it resolves with becomes the exit code. `again` aborts at a
   * second signal: the user will not wait any longer. Returns the unregister function.
   */
  onInterrupt(cleanup: (again: AbortSignal) => Promise<void | number>): () => void;
  /** Aborted (its reason the signal's name) when the user presses Ctrl-C or the process gets SIGTERM/SIGHUP. */
  signal: AbortSignal;
  /** Asks the user one question on the terminal; undefined (nothing asked) when stdin or stderr is not a terminal. */
  ask(question: string): Promise<string | undefined>;
}
