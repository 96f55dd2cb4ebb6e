// The one place that reads process.argv, wires real dependencies and maps errors to exit codes.
import { isatty } from 'node:tty';
import type { CommandContext } from './context.js';
import { ContainerExit, EXIT_CODES, PluginError } from './errors/plugin-error.js';
import { processPrinter, type Printer } from './output/printer.js';
import { randomSuffix } from './plan/names.js';
import { spawnKubectlRunner } from './debug/kubectl-runner.js';
import type { PresetRegistry } from './presets/registry.js';
import type { ParsedCommand } from './cli/parsed-command.js';
import type { KubeFlags } from './kube/kube-flags.js';
import { VERSION } from './version.js';

const SIGNAL_CODES: Partial<Record<NodeJS.Signals, number>> = { SIGINT: EXIT_CODES.cancelled, SIGTERM: EXIT_CODES.terminated, SIGHUP: EXIT_CODES.hangup };

function isVerbose(args: string[]): boolean {
  const end = args.indexOf('--');
  return (end < 0 ? args : args.slice(0, end)).some((a) => /^--?v(=[1-9]\d*)?$/.test(a) || /^--?v=?[1-9]/.test(a));
}

async function loadRegistry(env: NodeJS.ProcessEnv): Promise<PresetRegistry> {
  const [{ PresetRegistry }, { userPresetsPath, loadUserPresets }] = await Promise.all([import('./presets/registry.js'), import('./presets/user-presets.js')]);
  return PresetRegistry.from(await loadUserPresets(userPresetsPath(env), Boolean(env.KUBECTL_EPHEMERAL_CONFIG)));
}

type Cleanup = (again: AbortSignal) => Promise<void | number>;

/** The API server's warnings of this run: printed as they come, counted for --warnings-as-errors. */
export interface WarningState {
  collector?: import('./kube/warnings.js').WarningCollector;
  asErrors: boolean;
}

type Opened = Awaited<ReturnType<typeof import('./kube/connection.js').openConnection>>;

/**
 * How the run reaches its cluster. A debug session connects first thing, so its connection is
 * opened while its command line is still parsed (preconnect, with the kube flags read ahead of
 * the parse); the first connect whose flags are the same takes it, else it is closed unused.
 */
export class Connections {
  private early: { flags: KubeFlags; opened: Promise<Opened> } | undefined;

  constructor(
    private readonly printer: Printer,
    private readonly env: NodeJS.ProcessEnv,
    private readonly stdinIsTerminal: boolean,
    private readonly warnings: WarningState,
  ) {}

  /** Opens the connection these flags name, and its TLS session, ahead of the command that will ask for it. */
  preconnect(flags: KubeFlags): void {
    const opened = this.open(flags).then((o) => (o.http.preconnect(), o));
    // A failure is met again (and reported) by the connect that takes it.
    opened.catch(() => undefined);
    this.early = { flags, opened };
  }

  /** The connection for these flags: the one opened ahead when it was opened for the same flags. */
  async take(flags: KubeFlags): Promise<Opened> {
    const early = this.early;
    this.early = undefined;
    if (early && sameKubeFlags(early.flags, flags)) return early.opened;
    this.discard(early);
    return this.open(flags);
  }

  /** Closes a connection opened ahead that no command took. */
  close(): void {
    this.discard(this.early);
    this.early = undefined;
  }

  private discard(early: { opened: Promise<Opened> } | undefined): void {
    void early?.opened.then(({ http, child }) => (http.close(), child.dispose()), () => undefined);
  }

  private async open(flags: KubeFlags): Promise<Opened> {
    const { openConnection, WarningCollector } = await import('./kube/connection.js');
    // One collector for the process: kubectl prints each distinct warning once (even under -q).
    const collector = (this.warnings.collector ??= new WarningCollector((label, message) => this.printer.warn(message, label)));
    return openConnection(flags, this.env, {
      userAgent: `kubectl-ephemeral/${VERSION}`,
      stdinIsTerminal: this.stdinIsTerminal,
      debug: this.printer.verbose ? (line) => this.printer.debug(line) : undefined,
      stderrLine: (line) => this.printer.info(line),
      onWarnings: (values) => collector.handle(values),
    });
  }
}

/** Whether two parses name the same connection (every kube flag alike; -v aside). */
function sameKubeFlags(a: KubeFlags, b: KubeFlags): boolean {
  const { verbosity: _a, spawnConnection: _sa, ...left } = a;
  const { verbosity: _b, spawnConnection: _sb, ...right } = b;
  const keys = new Set([...Object.keys(left), ...Object.keys(right)]) as Set<keyof typeof left>;
  return [...keys].every((k) => JSON.stringify(left[k]) === JSON.stringify(right[k]));
}

/** Which standard streams are terminals. */
function terminals(): CommandContext['isTerminal'] {
  // isatty, not process.stdin.isTTY: the first read of process.stdin builds the stream, loading
  // fs streams, fs/promises and readline (~5 ms) in a run that may never read stdin.
  return { stdin: isatty(0), stdout: process.stdout.isTTY === true, stderr: process.stderr.isTTY === true };
}

function wireContext(printer: Printer, env: NodeJS.ProcessEnv, registry: PresetRegistry, controller: AbortController, cleanups: Set<Cleanup>, warnings: WarningState, isTerminal: CommandContext['isTerminal'], connections: Connections): CommandContext {
  return {
    printer,
    env,
    presets: async () => registry,
    isTerminal,
    kubectl: env.KUBECTL_EPHEMERAL_KUBECTL || 'kubectl',
    runner: spawnKubectlRunner(env.KUBECTL_EPHEMERAL_KUBECTL || 'kubectl', env),
    async confirm(question) {
      if (!process.stdin.isTTY || !process.stderr.isTTY) return false;
      const { createInterface } = await import('node:readline/promises');
      const rl = createInterface({ input: process.stdin, output: process.stderr });
      try {
        return /^y(es)?$/i.test((await rl.question(`${question} [y/N] `)).trim());
      } finally {
        rl.close();
      }
    },
    suffix: randomSuffix,
    now: () => Date.now(),
    signal: controller.signal,
    onInterrupt(cleanup) {
      cleanups.add(cleanup);
      return () => cleanups.delete(cleanup);
    },
    async connect(flags) {
      const [{ target, http, child }, { ClusterApi }] = await Promise.all([connections.take(flags), import('./kube/cluster-api.js')]);
      warnings.asErrors ||= flags.warningsAsErrors === true;
      // Every kubectl this run spawns gets the connection and credential resolved here (kubectlArgs).
      flags.spawnConnection = child;
      return {
        api: new ClusterApi(http, { env, target, as: flags.as, now: () => Date.now() }),
        target,
        close: () => {
          printer.debug(`${http.requestCount} API request(s) over ${http.connectionCount} connection(s); round trip ${http.roundTripMs()?.toFixed(1) ?? '?'} ms, first exchange ${http.firstExchangeMs()?.toFixed(1) ?? '?'} ms`);
          http.close();
          child.dispose();
        },
      };
    },
    async ask(question) {
      const { askOnTerminal } = await import('./output/ask.js');
      return askOnTerminal(question, controller.signal);
    },
    async attach(opts) {
      const { runAttachSession } = await import('./terminal/attach-session.js');
      return runAttachSession(opts);
    },
    async attachAhead(opts) {
      const { startAttachAhead } = await import('./terminal/attach-session.js');
      return startAttachAhead(opts);
    },
  };
}

async function dispatch(ctx: CommandContext, parsed: ParsedCommand): Promise<number> {
  switch (parsed.command) {
    case 'done':
      return parsed.exitCode;
    case 'debug':
      return (await import('./commands/debug.js')).runDebug(ctx, parsed.options);
    case 'presets':
      return (await import('./commands/presets.js')).runPresets(ctx, parsed.options);
    case 'list':
      return (await import('./commands/list.js')).runList(ctx, parsed.options);
    case 'attach':
      return (await import('./commands/attach.js')).runAttach(ctx, parsed.options);
    case 'capture':
      return (await import('./commands/capture.js')).runCapture(ctx, parsed.options);
    case 'collect':
      return (await import('./commands/collect.js')).runCollect(ctx, parsed.options);
    case 'cleanup':
      return (await import('./commands/cleanup.js')).runCleanup(ctx, parsed.options);
    case 'sessions':
      return (await import('./commands/sessions.js')).runSessions(ctx, parsed.options);
    case 'permissions':
      return (await import('./commands/permissions.js')).runPermissions(ctx, parsed.options);
  }
}

/** `kubectl_complete-ephemeral` (kubectl's plugin completion) runs `kubectl-ephemeral __complete WORDS...`. */
async function complete(words: string[], env: NodeJS.ProcessEnv, registry: PresetRegistry, printer: Printer): Promise<number> {
  const [{ runCompletion }, { completionLookups }, { commandSpecs }] = await Promise.all([
    import('./completion/complete.js'),
    import('./kube/completion-lookups.js'),
    import('./cli/command-spec.js'),
  ]);
  const lines = await runCompletion(words, { ...completionLookups(env, `kubectl-ephemeral/${VERSION}`), commands: commandSpecs(registry) });
  printer.out(lines.join('\n'));
  return 0;
}

/** Runs the plugin and resolves with the process exit code; every error ends here. */
export async function main(args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const printer = processPrinter(isVerbose(args), env);
  const controller = new AbortController();
  const cleanups = new Set<Cleanup>();
  // Aborted by a second signal: a cleanup that takes time (ending a container) stops and says what it left.
  const again = new AbortController();
  // Set by the first signal: resolves, once every cleanup is done, with the code to exit with.
  let interrupted: Promise<number> | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupted) return again.abort();
    controller.abort(signal);
    interrupted = Promise.allSettled([...cleanups].map((c) => c(again.signal))).then((results) => {
      const chosen = results.find((r): r is PromiseFulfilledResult<number> => r.status === 'fulfilled' && typeof r.value === 'number');
      for (const r of results) if (r.status === 'rejected') printer.info(`error: cleanup after ${signal} failed: ${(r.reason as Error).message}`);
      return chosen?.value ?? SIGNAL_CODES[signal] ?? 1;
    });
    void interrupted.then((code) => process.exit(code));
  };
  for (const s of Object.keys(SIGNAL_CODES) as NodeJS.Signals[]) process.on(s, onSignal);
  try {
    const code = await runCommand(args, env, printer, controller, cleanups);
    // The abort usually ends the command first (its wait is cancelled): the signal's cleanups still
    // decide the exit code, and the process must not exit while they are deleting a pod copy.
    return interrupted ? await interrupted : code;
  } finally {
    for (const s of Object.keys(SIGNAL_CODES) as NodeJS.Signals[]) process.off(s, onSignal);
  }
}

/** Parses and dispatches one command, mapping every error to its exit code. */
async function runCommand(args: string[], env: NodeJS.ProcessEnv, printer: Printer, controller: AbortController, cleanups: Set<Cleanup>): Promise<number> {
  let connections: Connections | undefined;
  try {
    if (args[0] === '__complete') {
      // A broken preset file must not break the shell's completion: offer the built-ins then.
      const registry = await loadRegistry(env).catch(async () => (await import('./presets/registry.js')).PresetRegistry.from());
      return await complete(args.slice(1), env, registry, printer);
    }
    const registry = await loadRegistry(env);
    const { parseCommandLine, presetCommandKubeFlags } = await import('./cli/root.js');
    const warnings: WarningState = { asErrors: false };
    const isTerminal = terminals();
    connections = new Connections(printer, env, isTerminal.stdin, warnings);
    const ahead = presetCommandKubeFlags(args, registry);
    if (ahead) {
      connections.preconnect(ahead);
      // One turn of the event loop: the connection's first packets leave before the parse's ~10 ms of work.
      await new Promise((resolve) => setImmediate(resolve));
    }
    const parsed = await parseCommandLine(args, registry, (text) => printer.out(text));
    const code = await dispatch(wireContext(printer, env, registry, controller, cleanups, warnings, isTerminal, connections), parsed);
    // kubectl (cmd.go PersistentPostRunE): only a run that succeeded turns its warnings into a failure.
    if (code === 0 && warnings.asErrors && warnings.collector?.count) throw new PluginError('warnings', warnings.collector.asErrorsMessage());
    return code;
  } catch (err) {
    if (err instanceof ContainerExit) return err.exitCode;
    // 130 is the user's Ctrl-C (and a signal's own code): a "cancelled" no signal caused is a bug.
    if (err instanceof PluginError && err.kind === 'cancelled' && !controller.signal.aborted) err = new Error(`${err.message} with no signal received`, { cause: err });
    if (err instanceof PluginError) {
      printer.info(`error: ${err.message}`);
      if (printer.verbose && err.cause instanceof Error) printer.debug(err.cause.stack ?? String(err.cause));
      return err.exitCode;
    }
    const e = err as Error;
    printer.info(`error: internal: ${e.message?.split('\n')[0] ?? String(err)}; rerun with -v and report it`);
    if (printer.verbose) printer.debug(e.stack ?? String(err));
    return EXIT_CODES.internal;
  } finally {
    connections?.close();
  }
}

/** The process entry (src/entry.ts): runs main, then exits once stdout is flushed. */
export function runProcess(): void {
  void main(process.argv.slice(2), process.env).then((code) => {
    // A pipe reader must get every byte of -o json output before the process ends.
    if (process.stdout.writableLength === 0) process.exit(code);
    else process.stdout.once('drain', () => process.exit(code));
  });
}
