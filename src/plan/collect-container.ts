import type { V1Container, V1EphemeralContainer, V1Pod, V1SecurityContext } from '@kubernetes/client-node';
import { usageError } from '../errors/plugin-error.js';
import type { Preset, RunAs } from '../presets/preset.js';
import { buildEphemeralContainer, chooseTargetContainer, STAMP_ENV, targetUser, type DebugContainerPlan } from './debug-container.js';
import { debugContainerName } from './names.js';
import { COLLECT_SCRIPT } from './collect-script.js';

/** What collect reads by default, besides the process list, sockets and mounts. */
export const DEFAULT_COLLECT_PATHS = ['/tmp', '/var/tmp', '/dev/shm', '/etc/crontab', '/etc/crontabs', '/etc/cron.d', '/var/spool/cron', '/etc/passwd'] as const;

/** --max-size when none is given: 256 MiB. */
export const DEFAULT_MAX_BYTES = 256 * 1024 * 1024;

/** What the user asked collect for, on top of the preset it takes its image and policy from. */
export interface CollectRequest {
  /** The preset whose image, allowed images and reason policy apply (forensics). */
  preset: Preset;
  container?: string;
  image?: string;
  /** --run-as: the uid to read as when the pod spec does not name the target's. */
  runAs?: RunAs;
  /** Extra paths (--path), validated. */
  paths: string[];
  /** --env: read each target process's environment. */
  env: boolean;
  maxBytes: number;
  stamp: { user?: string; reason?: string };
}

/** The collect container, the paths it reads, and whether it reads as root. */
export interface CollectPlan extends DebugContainerPlan {
  paths: string[];
  /** Reads as root with the runtime's default capabilities (a root target: baseline allows it, restricted does not). */
  asRoot: boolean;
}

/** Checks one --path: absolute, no "." or ".." part, no control character (one line names it and the fix). */
export function validateCollectPath(path: string): string {
  const problem = !path.startsWith('/')
    ? 'is not absolute'
    : /[\x00-\x1f\x7f]/.test(path)
      ? 'holds a control character'
      : path.split('/').some((p) => p === '.' || p === '..')
        ? 'has a "." or ".." part'
        : undefined;
  if (problem) throw usageError(`--path ${JSON.stringify(path)} ${problem}; give an absolute path in the target container, such as /var/log/app`);
  return path.length > 1 ? path.replace(/\/+$/, '').replace(/\/{2,}/g, '/') : path;
}

/** Parses --max-size: bytes, or a number with k, M, G (or Ki, Mi, Gi: all powers of 1024), e.g. 256Mi. */
export function parseSize(text: string): number {
  const m = /^(\d+)\s*(|b|[kmg]i?b?)$/i.exec(text.trim());
  const unit = m?.[2]?.toLowerCase().replace(/i?b?$/, '') ?? '';
  const bytes = m ? Number(m[1]) * 1024 ** ['', 'k', 'm', 'g'].indexOf(unit) : NaN;
  if (!Number.isSafeInteger(bytes) || bytes <= 0) throw usageError(`invalid --max-size "${text}"; use bytes or a number with k, M or G, such as 256M`);
  return bytes;
}

/**
 * Builds the collect container. Pure: no I/O, the suffix is given. Reading /proc/<pid>/root needs
 * the target's uid and gid with a superset of its capabilities (or CAP_SYS_PTRACE, which no Pod
 * Security level below privileged allows): a non-root target is read as its own user with every
 * capability dropped (restricted allows that); a root target as root with the runtime's default
 * capabilities plus any the target adds (baseline allows that, restricted does not).
 */
export function buildCollectContainer(pod: V1Pod, req: CollectRequest, suffix: string): CollectPlan {
  const target = chooseTargetContainer(pod, req.container);
  if (pod.spec?.shareProcessNamespace)
    throw usageError(`pod "${pod.metadata?.name}" shares one process namespace between its containers (shareProcessNamespace), so PID 1 is the pause process; collect does not support such pods yet`);
  const asRoot = readsAsRoot(pod, target, req.runAs);
  const plan = buildEphemeralContainer(
    pod,
    {
      preset: { ...req.preset, targetProcesses: true, mirrorTarget: false, readOnlyRootFilesystem: true, capabilities: [], runAs: asRoot ? { kind: 'root' } : (req.runAs ?? { kind: 'target' }) },
      container: target.name,
      image: req.image,
      name: debugContainerName('collect', suffix),
      command: ['sh', '-c', COLLECT_SCRIPT],
      tty: false,
      stamp: req.stamp,
    },
    suffix,
  );
  const paths = [...new Set([...DEFAULT_COLLECT_PATHS, ...req.paths])];
  const container: V1EphemeralContainer = {
    ...plan.container,
    // The stream's end closes stdin: a collector whose attach is lost stops instead of writing on into its log.
    stdinOnce: true,
    env: [
      ...(plan.container.env ?? []).map((e) => (e.name === STAMP_ENV.preset ? { ...e, value: 'collect' } : e)),
      { name: 'COLLECT_PID', value: '1' },
      { name: 'COLLECT_PATHS', value: paths.join('\n') },
      { name: 'COLLECT_ENV', value: req.env ? '1' : '' },
      { name: 'COLLECT_MAX', value: String(req.maxBytes) },
    ],
    securityContext: asRoot ? rootReader(target) : plan.container.securityContext,
  };
  return { container, target: target.name, notices: plan.notices, paths, asRoot };
}

/** Whether the target runs as root as far as the pod spec says: runAsUser 0, or no user and no runAsNonRoot. */
function readsAsRoot(pod: V1Pod, target: V1Container, runAs: RunAs | undefined): boolean {
  if (runAs) return runAs.kind === 'root' || (runAs.kind === 'uid' && runAs.uid === 0);
  // The one reading of "which user the target runs as", shared with the presets that run as it.
  const user = targetUser(pod, target);
  if (!user)
    throw usageError(
      `container "${target.name}" runs as a non-root user its pod spec does not name (runAsNonRoot without runAsUser); pass --run-as UID[:GID] with the uid it runs as (kubectl ephemeral process ${pod.metadata?.name} -- ps -o user,pid,args shows it)`,
    );
  return user.uid === 0;
}

/** Root with the runtime's default capabilities and the target's added ones: a superset of a root target's. */
function rootReader(target: V1Container): V1SecurityContext {
  const add = target.securityContext?.capabilities?.add ?? [];
  return {
    allowPrivilegeEscalation: false,
    ...(add.length ? { capabilities: { add: [...add] } } : {}),
    readOnlyRootFilesystem: true,
    runAsGroup: 0,
    runAsNonRoot: false,
    runAsUser: 0,
    seccompProfile: { type: 'RuntimeDefault' },
  };
}
