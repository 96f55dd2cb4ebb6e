import type { CommandContext, Connection } from '../context.js';
import { PluginError, usageError } from '../errors/plugin-error.js';
import type { KubeFlags } from '../kube/kube-flags.js';
import { kubectlArgs } from '../kube/kube-flags.js';
import type { AuditEntry } from '../plan/audit-trail.js';
import type { CollectHeader, CollectSummary } from '../plan/collect-archive.js';
import { buildCollectContainer, DEFAULT_MAX_BYTES, parseSize, validateCollectPath, type CollectPlan } from '../plan/collect-container.js';
import { containerState, describeState } from '../plan/container-state.js';
import { checkAllowedImage } from '../plan/debug-container.js';
import { parseDuration } from '../input/duration.js';
import { checkContainerBeforeCreate, checkFlagValues } from '../presets/validate.js';
import type { PodSecurityLevel } from '../plan/pod-security.js';
import type { Preset, RunAs } from '../presets/preset.js';
import { addAndStart } from '../debug/abandoned-container.js';
import { archiveSink } from '../debug/archive-sink.js';
import { auditEntry, recordAudit, withTrailAnchor } from '../debug/audit.js';
import { checkReason, parseRunAs } from '../debug/options.js';
import { createOutputFile, type OutputFile } from '../debug/output-file.js';
import { stoppedAfterWriteError, watchWriteErrors } from '../debug/write-failure.js';
import { checkPodSecurity } from '../debug/pod-security-gate.js';
import { checkPreflight, runPreflight, type Preflight } from '../debug/preflight.js';
import { requireStarted, waitForContainer } from '../debug/wait-for-container.js';
import { VERSION } from '../version.js';

/** Options of `kubectl ephemeral collect POD -w FILE`. */
export interface CollectOptions {
  pod: string;
  container?: string;
  write: string;
  paths: string[];
  env: boolean;
  maxSize?: string;
  reason?: string;
  image?: string;
  runAs?: string;
  timeout: string;
  kube: KubeFlags;
}

/** Validated collect options: everything checked before the output file or the cluster is touched. */
interface ValidatedCollect {
  preset: Preset;
  paths: string[];
  maxBytes: number;
  timeoutMs: number;
  runAs?: RunAs;
}

/** The preset collect takes its image, allowed images and reason policy from. */
const COLLECT_PRESET = 'forensics';

/** Checks flags before any request or file (kubectl's Validate step). */
export function validateCollectOptions(opts: CollectOptions, preset: Preset): ValidatedCollect {
  checkFlagValues(opts);
  checkReason(preset, opts.reason);
  checkAllowedImage(preset, opts.image ?? preset.image);
  return {
    preset,
    paths: opts.paths.map(validateCollectPath),
    maxBytes: opts.maxSize !== undefined ? parseSize(opts.maxSize) : DEFAULT_MAX_BYTES,
    timeoutMs: parseDuration(opts.timeout),
    runAs: opts.runAs ? parseRunAs(opts.runAs) : undefined,
  };
}

/** `kubectl ephemeral collect`: a read-only collector in the target's process namespace streams a verifiable tar archive. */
export async function runCollect(ctx: CommandContext, opts: CollectOptions): Promise<number> {
  const v = validateCollectOptions(opts, (await ctx.presets()).get(COLLECT_PRESET));
  const toStdout = opts.write === '-';
  if (toStdout && process.stdout.isTTY) throw usageError('refusing to write a tar archive to a terminal; redirect stdout or pass -w FILE');
  // The file first: a -w that cannot be created fails before anything reaches the cluster.
  const file = toStdout ? undefined : createOutputFile(opts.write, '-w');
  const state = { streaming: false };
  try {
    const conn = await ctx.connect(opts.kube);
    try {
      const code = await collectWith(ctx, conn, opts, v, file, state);
      // Ended before the stream began (a signal while the collector started): nothing of value in it.
      if (file && !state.streaming) file.remove();
      return code;
    } finally {
      conn.close();
    }
  } catch (err) {
    // Until the stream began the file holds nothing of value, and this run created it.
    if (file && !state.streaming) file.remove();
    throw err;
  }
}

async function collectWith(ctx: CommandContext, conn: Connection, opts: CollectOptions, v: ValidatedCollect, file: OutputFile | undefined, state: { streaming: boolean }): Promise<number> {
  const { api } = conn;
  const { printer } = ctx;
  const ns = conn.target.namespace;
  const [pod, preflight] = await Promise.all([api.getPod(ns, opts.pod), runPreflight(conn, { attach: true, copy: false })]);
  const plan = buildCollectContainer(
    pod,
    { preset: v.preset, container: opts.container, image: opts.image, runAs: v.runAs, paths: v.paths, env: opts.env, maxBytes: v.maxBytes, stamp: { user: preflight.user, reason: opts.reason } },
    ctx.suffix(),
  );
  checkPreflight(preflight, ns);
  const target = containerState(pod, plan.target);
  if (target.phase !== 'running')
    throw usageError(`container "${plan.target}" of pod "${opts.pod}" is ${describeState(target)}: collect reads a running container's processes and files; collect while it runs, or debug a copy (crashloop --copy)`);
  checkPodSecurity(pod, plan.container, preflight.level, ns, levelFix(plan, preflight.level));
  plan.notices.forEach((n) => printer.info(`note: ${n}`));

  const container = withTrailAnchor(plan.container, pod);
  checkContainerBeforeCreate(container);
  const entry = auditEntry(ctx, container, { ...v.preset, name: 'collect' }, preflight.user, opts.reason);
  const ref = { pod: opts.pod, container: container.name, ephemeral: true };
  // Until the stream is attached a signal ends the container, as for a debug session.
  const added = await addAndStart(ctx, conn, opts.kube, opts.pod, container, async (updated) => {
    printer.info(`collecting from container "${plan.target}" of pod "${opts.pod}" with ephemeral container "${container.name}" (${plan.asRoot ? 'root, runtime default capabilities' : 'the target user, no capabilities'}, read-only)`);
    const [result] = await Promise.all([
      waitForContainer(conn, ref, { until: 'started', timeoutMs: v.timeoutMs, now: ctx.now, resourceVersion: updated.metadata?.resourceVersion, signal: ctx.signal }),
      recordAudit(ctx, conn, opts.pod, entry, preflight, updated),
    ]);
    const started = requireStarted(result, ref, ns, container.image);
    if (started.phase !== 'running') throw new PluginError('internal', `collect container "${container.name}" is ${describeState(started)} before the collection began`);
  });
  // Nothing was collected: runCollect removes the file this run created.
  if ('abandoned' in added) return added.abandoned;
  added.starting.taken();

  const spec = pod.spec?.containers?.find((c) => c.name === plan.target) ?? pod.spec?.initContainers?.find((c) => c.name === plan.target);
  const header: CollectHeader = {
    cluster: conn.target.clusterName,
    context: conn.target.contextName,
    namespace: ns,
    pod: opts.pod,
    podUid: pod.metadata?.uid ?? '',
    container: plan.target,
    image: spec?.image ?? '',
    imageDigest: pod.status?.containerStatuses?.find((s) => s.name === plan.target)?.imageID ?? '',
    node: pod.spec?.nodeName ?? '',
    time: new Date(ctx.now()).toISOString(),
    user: preflight.user ?? '',
    reason: opts.reason ?? '',
    pluginVersion: VERSION,
    collector: { container: container.name, image: container.image ?? '' },
    paths: plan.paths,
    environment: opts.env,
    maxBytes: v.maxBytes,
  };
  const out = file?.stream ?? process.stdout;
  // A full disk or a closed pipe ends the collection with one line, never a stack trace.
  const writes = watchWriteErrors(out);
  const sink = archiveSink(header, out, Boolean(file));
  state.streaming = true;
  const session = ctx.runner.streamAttach([opts.pod, '-c', container.name, ...kubectlArgs(opts.kube, ns)], sink.input, false, (line) => ctx.printer.info(line));
  session.send('go');
  let interrupted = false;
  const writeFailed = writes.failed.then(async (why) => {
    // "stop" must reach the collector before kubectl goes: its stdin is not closed when the attach ends.
    session.send('stop');
    setTimeout(() => session.kill(), 5_000).unref();
    file?.remove();
    throw await stoppedAfterWriteError(ctx, conn, ref, `cannot write ${file ? file.path : 'stdout'}: ${why}${file ? '; the partial archive was removed' : ''}`, 'collect');
  });
  const outcome = (async () => {
    const code = await session.done;
    if (writes.hasFailed()) return writeFailed;
    await new Promise<void>((resolve) => sink.input.end(resolve));
    const summary = await sink.finish(interrupted ? 'interrupted (Ctrl-C or a signal)' : `kubectl attach exited ${code} before the collector finished`);
    return report(ctx, conn, opts, file, summary, entry, preflight, interrupted);
  })();
  // Ctrl-C stops the collector; what arrived is kept and the manifest says the archive is incomplete.
  const unregister = ctx.onInterrupt(async () => {
    interrupted = true;
    session.send('stop');
    setTimeout(() => session.kill(), 10_000).unref();
    return Promise.race([outcome, writeFailed]).then(
      () => 130,
      (err: unknown) => (err instanceof PluginError && err.kind === 'write-failed' ? (ctx.printer.info(`error: ${err.message}`), err.exitCode) : 130),
    );
  });
  try {
    return await Promise.race([outcome, writeFailed]);
  } finally {
    unregister();
    writes.dispose();
    outcome.catch(() => undefined);
    writeFailed.catch(() => undefined);
  }
}

/** What to do instead when the namespace's Pod Security level refuses the collector. */
function levelFix(plan: CollectPlan, level: PodSecurityLevel): string {
  return plan.asRoot
    ? `container "${plan.target}" runs as root, and reading a root process's files takes root with the runtime's default capabilities, which "${level}" forbids; collect in a namespace at baseline or privileged, or ask for a Pod Security exemption`
    : `collect reads as the target's user with no capability; ask for a Pod Security exemption`;
}

/** Prints where the archive went and its sha256, records the sha256 in the audit trail, and maps failures to errors. */
async function report(
  ctx: CommandContext,
  conn: Connection,
  opts: CollectOptions,
  file: OutputFile | undefined,
  s: CollectSummary,
  entry: AuditEntry,
  preflight: Preflight,
  interrupted: boolean,
): Promise<number> {
  const { printer } = ctx;
  const where = file ? file.path : 'stdout';
  if (s.fatal === 'unreadable-root') {
    const removed = file !== undefined && !s.evidence;
    if (removed) file.remove();
    const t = s.facts['target-uid'] ?? '?';
    const me = s.facts['collector-uid'] ?? '?';
    throw new PluginError(
      'usage',
      t !== me
        ? `cannot read the files of pod "${opts.pod}": its process runs as uid ${t} and the collector as uid ${me}; pass --run-as ${t}${removed ? ' (nothing was written)' : ''}`
        : `cannot read the files of pod "${opts.pod}" as uid ${me}: its process holds capabilities the collector lacks; collect in a namespace at level privileged${removed ? ' (nothing was written)' : ''}`,
    );
  }
  if (!s.complete && !s.evidence && !interrupted) {
    if (file) file.remove();
    throw new PluginError('internal', `the collector sent nothing (${s.problem}); nothing was written; rerun with -v`);
  }
  const files = s.entries.filter((e) => e.type === 'file').length;
  printer.info(`${where}: ${files} file(s) and ${s.entries.filter((e) => e.type === 'generated').length} generated text(s), ${s.contentBytes} content bytes, ${s.skipped.length} skipped (the manifest says why), ${s.bytes} bytes in all`);
  printer.info(`sha256 ${s.sha256}  ${where}`);
  // Without "patch pods" the start already said the annotation is not written: once is enough.
  if (preflight.allowed.get('patch pods') !== false)
    await recordAudit(ctx, conn, opts.pod, { ...entry, time: new Date(ctx.now()).toISOString(), sha256: s.sha256 }, preflight);
  if (s.complete) return 0;
  if (interrupted) {
    printer.info(`note: the archive is incomplete (interrupted); its manifest says what it holds`);
    return 130;
  }
  throw new PluginError('internal', `the archive ${where} is incomplete: ${s.problem}; its manifest says what it holds; rerun with -v`);
}
