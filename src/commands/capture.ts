import { openSync, readSync, closeSync } from 'node:fs';
import { createOutputFile, type OutputFile } from '../debug/output-file.js';
import { stoppedAfterWriteError, watchWriteErrors } from '../debug/write-failure.js';
import { auditEntry, recordAudit, withTrailAnchor } from '../debug/audit.js';
import type { KubeFlags } from '../kube/kube-flags.js';
import { EXIT_CODES, PluginError, usageError } from '../errors/plugin-error.js';
import { planForLevel } from '../plan/level-form.js';
import { checkContainerBeforeCreate, checkFlagValues } from '../presets/validate.js';
import { capturePreset } from '../presets/builtin.js';
import { parseDuration } from '../input/duration.js';
import { enforcedLevel } from '../plan/pod-security.js';
import { describeState } from '../plan/container-state.js';
import { addAndStart } from '../debug/abandoned-container.js';
import { checkPodSecurity } from '../debug/pod-security-gate.js';
import { requireStarted, waitForContainer, type ContainerRef } from '../debug/wait-for-container.js';
import { kubectlArgs } from '../kube/kube-flags.js';
import type { CommandContext, Connection } from '../context.js';

/** Options of `kubectl ephemeral capture POD`. */
export interface CaptureOptions {
  pod: string;
  container?: string;
  iface: string;
  filter?: string;
  /** -w: the pcap file, or - for stdout; required (checked here, so the error can say how). */
  write?: string;
  count?: number;
  duration?: string;
  image?: string;
  timeout: string;
  kube: KubeFlags;
}

/**
 * The capture container's script: wait for "go" (so no byte is written before the attach is
 * there to carry it: the pcap header comes first), run tcpdump to stdout, stop it on "stop".
 * -U flushes every packet to the stream. TERM, not INT: a non-interactive shell starts background
 * jobs with SIGINT ignored; tcpdump flushes and exits cleanly on either. The stop reader gets stdin
 * through fd 3: a background job's own stdin is /dev/null. EOF (the attach lost) stops it too.
 * A tcpdump that switched to its own user cannot be signalled without CAP_KILL: then the shell,
 * PID 1 of the container, exits and the kernel ends tcpdump (-U has already flushed every packet).
 * No `$$` anywhere: Kubernetes turns `$$` in a command into `$`. `-Z root` keeps tcpdump root instead
 * of switching to its own user (Debian's default), which needs only SETGID (for initgroups), not SETUID.
 */
export const CAPTURE_SCRIPT =
  'read go; set -- -Z root -U -n -i "$CAPTURE_IFACE" -w -; [ -n "$CAPTURE_COUNT" ] && set -- "$@" -c "$CAPTURE_COUNT"; ' +
  'exec 3<&0; trap "exit 0" TERM; tcpdump "$@" ${CAPTURE_FILTER:+"$CAPTURE_FILTER"} & p=$!; ' +
  '(read stop <&3; kill -TERM $p 2>/dev/null || kill -TERM 1) & wait $p';

const PCAP_MAGIC = new Set(['a1b2c3d4', 'd4c3b2a1', 'a1b23c4d', '4d3cb2a1']);

/** Whether a file starts with a pcap magic number. */
export function hasPcapMagic(file: string): boolean {
  const fd = openSync(file, 'r');
  try {
    const head = Buffer.alloc(4);
    return readSync(fd, head, 0, 4, 0) === 4 && PCAP_MAGIC.has(head.toString('hex'));
  } finally {
    closeSync(fd);
  }
}

/** `kubectl ephemeral capture`: tcpdump in an ephemeral network container, streamed to a local pcap. */
export async function runCapture(ctx: CommandContext, opts: CaptureOptions): Promise<number> {
  if (!opts.write) throw usageError(`capture needs -w FILE (or -w - for stdout); for example: kubectl ephemeral capture ${opts.pod} -w ${opts.pod}.pcap`);
  if (opts.count !== undefined && (!Number.isInteger(opts.count) || opts.count < 1)) throw usageError('--count must be a positive integer');
  checkFlagValues(opts);
  const durationMs = opts.duration ? parseDuration(opts.duration, '--duration') : undefined;
  const timeoutMs = parseDuration(opts.timeout, '--timeout');
  // The output is created before anything is sent to the cluster: a path that cannot be written
  // must not leave a capture container behind. A failed capture removes the file it created.
  const file = opts.write === '-' ? undefined : createOutputFile(opts.write, '-w');
  try {
    return await captureInto(ctx, { ...opts, write: opts.write }, file, durationMs, timeoutMs);
  } catch (err) {
    file?.remove();
    throw err;
  }
}

async function captureInto(ctx: CommandContext, opts: CaptureOptions & { write: string }, file: OutputFile | undefined, durationMs: number | undefined, timeoutMs: number): Promise<number> {
  const preset = capturePreset((await ctx.presets()).get('network'));
  const conn = await ctx.connect(opts.kube);
  const { api } = conn;
  const ns = conn.target.namespace;
  try {
    const [pod, namespace, user, mayPatch] = await Promise.all([
      api.getPod(ns, opts.pod),
      api.getNamespace(ns),
      api.whoAmI(),
      // The audit annotation is optional: a user without "patch pods" gets a note, not a failed write.
      api.canI(ns, 'patch', 'pods').then(
        (r) => r.allowed,
        () => true,
      ),
    ]);
    const level = enforcedLevel(namespace?.metadata?.labels);
    const plan = planForLevel(
      pod,
      { preset, container: opts.container, image: opts.image, command: ['sh', '-c', CAPTURE_SCRIPT], tty: false, stamp: { user } },
      level,
      ctx.suffix(),
    );
    const container = withTrailAnchor({ ...plan.container, stdinOnce: true }, pod);
    container.env = [
      ...(container.env ?? []),
      { name: 'CAPTURE_IFACE', value: opts.iface },
      { name: 'CAPTURE_FILTER', value: opts.filter ?? '' },
      { name: 'CAPTURE_COUNT', value: opts.count ? String(opts.count) : '' },
    ];
    checkPodSecurity(
      pod,
      container,
      level,
      ns,
      'tcpdump needs root with NET_RAW, which restricted forbids: capture where baseline or privileged applies, or use the network preset for curl and ss here',
    );
    if (plan.choice) ctx.printer.info(plan.choice);
    checkContainerBeforeCreate(container);
    const ref = { pod: opts.pod, container: container.name, ephemeral: true };
    // Until the stream is attached a signal ends the container, as for a debug session.
    const added = await addAndStart(ctx, conn, opts.kube, opts.pod, container, async (updated) => {
      ctx.printer.info(`capturing on ${opts.iface} in pod "${opts.pod}" with ephemeral container "${container.name}"${opts.filter ? ` (filter: ${opts.filter})` : ''}; Ctrl-C stops`);
      const entry = auditEntry(ctx, container, preset, user, undefined);
      const [started] = await Promise.all([
        waitForContainer(conn, ref, { until: 'started', timeoutMs, now: ctx.now, resourceVersion: updated.metadata?.resourceVersion, signal: ctx.signal }),
        recordAudit(ctx, conn, opts.pod, entry, { allowed: new Map([['patch pods', mayPatch]]) }, updated),
      ]);
      const state = requireStarted(started, ref, ns, container.image);
      if (state.phase !== 'running') throw new PluginError('tool-failed', `capture container "${container.name}" is ${describeState(state)} before the capture began`);
    });
    if ('abandoned' in added) {
      // Nothing was captured: the file this run created goes.
      file?.remove();
      return added.abandoned;
    }
    added.starting.taken();
    return await streamCapture(ctx, conn, opts, file, ref, durationMs);
  } finally {
    conn.close();
  }
}

/** Streams the running capture container's pcap into the file or stdout until it ends, is stopped, or a write fails. */
async function streamCapture(ctx: CommandContext, conn: Connection, opts: CaptureOptions & { write: string }, file: OutputFile | undefined, ref: ContainerRef, durationMs: number | undefined): Promise<number> {
  const ns = conn.target.namespace;
  const toStdout = file === undefined;
  const sink = file?.stream ?? process.stdout;
  const where = toStdout ? 'stdout' : opts.write;
  // A full disk or a closed pipe ends the capture with one line, never a stack trace.
  const writes = watchWriteErrors(sink);
  const session = ctx.runner.streamAttach([opts.pod, '-c', ref.container, ...kubectlArgs(opts.kube, ns)], sink, !toStdout, (line) => ctx.printer.info(line));
  session.send('go');
  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    session.send('stop');
    // tcpdump flushes and exits at once; a stuck stream is cut after a grace period.
    setTimeout(() => session.kill(), 10_000).unref();
  };
  const timer = durationMs ? setTimeout(stop, durationMs) : undefined;
  // Ends the same way for duration, --count and Ctrl-C: the stream drains, tcpdump's status is read.
  let finished: Promise<number> | undefined;
  const finish = () =>
    (finished ??= (async () => {
      const code = await session.done;
      if (timer) clearTimeout(timer);
      // The write error is the outcome (its line says whether the container stopped).
      if (writes.hasFailed()) return writeFailed;
      // tcpdump's own exit status tells a capture from a failure (it exits 0 on TERM and -c).
      const { state: ended } = await waitForContainer(conn, ref, { until: 'terminated', timeoutMs: 15_000, now: ctx.now });
      if (ended?.phase === 'terminated' && ended.exitCode !== 0)
        throw new PluginError('tool-failed', `tcpdump in "${ref.container}" failed (exit ${ended.exitCode}); its message is above`, {
          fix: 'check -f and -i; with --image, its tcpdump gets only root, NET_RAW and SETGID (tcpdump -Z root)',
        });
      if (!toStdout && session.bytes() > 0 && !hasPcapMagic(opts.write))
        throw new PluginError('tool-failed', `${opts.write} is not a pcap file (kubectl attach exited ${code}); rerun with -v`);
      ctx.printer.info(`${session.bytes()} bytes of pcap written to ${where}`);
      return 0;
    })());
  const writeFailed = writes.failed.then(async (why) => {
    if (timer) clearTimeout(timer);
    stop();
    // kubectl carries "stop" to tcpdump's shell first; a stuck stream is cut soon after.
    setTimeout(() => session.kill(), 5_000).unref();
    throw await stoppedAfterWriteError(ctx, conn, ref, `cannot write ${where}: ${why}${file ? '; the partial file was removed' : ''}`, 'capture');
  });
  // Ctrl-C ends the capture cleanly: tcpdump writes its last packets and the file stays valid.
  const unregister = ctx.onInterrupt(async () => {
    stop();
    return Promise.race([finish(), writeFailed]).catch((err: Error) => {
      file?.remove();
      ctx.printer.info(`error: ${err.message}`);
      return err instanceof PluginError ? err.exitCode : EXIT_CODES.internal;
    });
  });
  try {
    return await Promise.race([finish(), writeFailed]);
  } finally {
    unregister();
    writes.dispose();
    finished?.catch(() => undefined);
    writeFailed.catch(() => undefined);
  }
}

