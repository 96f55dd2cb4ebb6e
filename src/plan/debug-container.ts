import type { V1Container, V1EphemeralContainer, V1EnvVar, V1Pod, V1SecurityContext } from '@kubernetes/client-node';
import { PluginError, notFound, usageError } from '../errors/plugin-error.js';
import { NOBODY_UID, type Preset, type RunAs } from '../presets/preset.js';
import { debugContainerName, isDnsLabel } from './names.js';

/** What the user asked for, on top of the preset. */
export interface DebugRequest {
  preset: Preset;
  /** -c: the container to target or mirror; the pod's default container otherwise. */
  container?: string;
  /** --image overrides the preset's image. */
  image?: string;
  /** --name, else debugger-<preset>-<suffix>. */
  name?: string;
  /** Arguments after `--` replace the preset's command. */
  command?: string[];
  /** --privileged: only ever when asked for. */
  privileged?: boolean;
  /** --run-as overrides the preset's user. */
  runAs?: RunAs;
  /** false when nothing is typed into it (-i=false); default true. */
  stdin?: boolean;
  /** false for a session without a terminal (a pipe, -t=false, capture's stream); default true. */
  tty?: boolean;
  /** Creator metadata stamped into the container's env, read back by `list`. */
  stamp?: { user?: string; reason?: string };
}

/** A generated debug container and the notices worth telling the user. */
export interface DebugContainerPlan {
  container: V1EphemeralContainer;
  /** The container targeted or mirrored. */
  target: string;
  notices: string[];
}

/** Env names the plugin stamps on every container it creates (immutable, visible to `list`). */
export const STAMP_ENV = {
  preset: 'KUBECTL_EPHEMERAL_PRESET',
  user: 'KUBECTL_EPHEMERAL_USER',
  reason: 'KUBECTL_EPHEMERAL_REASON',
} as const;

/** The annotation kubectl uses to name a pod's default container. */
export const DEFAULT_CONTAINER_ANNOTATION = 'kubectl.kubernetes.io/default-container';

/** The container -c names, else the default-container annotation, else the first container. */
export function chooseTargetContainer(pod: V1Pod, requested?: string): V1Container {
  const containers = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])];
  const podName = pod.metadata?.name;
  const wanted = requested ?? pod.metadata?.annotations?.[DEFAULT_CONTAINER_ANNOTATION];
  if (wanted) {
    const found = containers.find((c) => c.name === wanted);
    if (found) return found;
    if (requested)
      throw notFound(
        `container "${requested}" not found in pod "${podName}"; choose one of: ${containers.map((c) => c.name).join(', ')}`,
      );
  }
  const first = pod.spec?.containers?.[0];
  if (!first) throw notFound(`pod "${podName}" has no containers`);
  return first;
}

/** Builds the ephemeral container for a preset against a pod. Pure: no I/O, the suffix is given. */
export function buildEphemeralContainer(pod: V1Pod, req: DebugRequest, suffix: string): DebugContainerPlan {
  const { preset } = req;
  const target = chooseTargetContainer(pod, req.container);
  const notices: string[] = [];
  const name = req.name ?? debugContainerName(preset.name, suffix);
  if (!isDnsLabel(name)) throw usageError(`container name "${name}" is not a DNS-1123 label; use lowercase letters, digits and "-"`);
  const taken = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? []), ...(pod.spec?.ephemeralContainers ?? [])];
  if (req.name && taken.some((c) => c.name === req.name))
    throw usageError(`container name "${req.name}" is already used in pod "${pod.metadata?.name}"; pick another --name or drop --name`);
  const image = req.image ?? preset.image;
  checkAllowedImage(preset, image);

  const container: V1EphemeralContainer = {
    name,
    image,
    ...(req.command?.length ? { command: req.command } : preset.command ? { command: preset.command } : {}),
    stdin: req.stdin ?? true,
    tty: req.tty ?? true,
    // Without a TTY, containerd detaches the output the moment the attach's stdin ends, racing the
    // program's last lines (kubectl debug -i loses them at random). stdinOnce makes the end of input
    // close the container's stdin instead, with the output attached until the container stops.
    ...((req.stdin ?? true) && req.tty === false ? { stdinOnce: true } : {}),
    terminationMessagePolicy: 'File',
    securityContext: buildSecurityContext(pod, target, req, notices),
  };
  if (preset.targetProcesses) container.targetContainerName = target.name;
  const env: V1EnvVar[] = [];
  if (preset.mirrorTarget) {
    container.volumeMounts = mirrorVolumeMounts(target, notices);
    env.push(...(target.env ?? []));
    if (target.envFrom?.length) container.envFrom = target.envFrom;
  }
  env.push({ name: STAMP_ENV.preset, value: preset.name });
  if (req.stamp?.user) env.push({ name: STAMP_ENV.user, value: req.stamp.user });
  if (req.stamp?.reason) env.push({ name: STAMP_ENV.reason, value: req.stamp.reason });
  container.env = env;
  return { container, target: target.name, notices };
}

/** The debug container's securityContext: least privilege from the preset, or --privileged, or --run-as. */
export function buildSecurityContext(pod: V1Pod, target: V1Container, req: DebugRequest, notices: string[]): V1SecurityContext {
  if (req.privileged) {
    notices.push('--privileged: the debug container gets every capability and host device access');
    return { privileged: true, runAsUser: 0, runAsNonRoot: false };
  }
  const sc: V1SecurityContext = {
    allowPrivilegeEscalation: false,
    capabilities: { drop: ['ALL'], ...(req.preset.capabilities.length ? { add: [...req.preset.capabilities] } : {}) },
    seccompProfile: { type: 'RuntimeDefault' },
  };
  if (req.preset.readOnlyRootFilesystem) sc.readOnlyRootFilesystem = true;
  const runAs = req.runAs ?? req.preset.runAs;
  if (runAs.kind === 'root') {
    // Set at container level so a pod-level runAsUser/runAsNonRoot cannot silently win (kubectl#1650, k/k#113006).
    Object.assign(sc, { runAsUser: 0, runAsGroup: 0, runAsNonRoot: false });
  } else if (runAs.kind === 'uid') {
    Object.assign(sc, { runAsUser: runAs.uid, runAsGroup: runAs.gid ?? runAs.uid, runAsNonRoot: runAs.uid !== 0 });
  } else {
    const uid = target.securityContext?.runAsUser ?? pod.spec?.securityContext?.runAsUser;
    const gid = target.securityContext?.runAsGroup ?? pod.spec?.securityContext?.runAsGroup;
    if (uid === undefined) {
      notices.push(
        `container "${target.name}" sets no runAsUser: the debug shell runs as uid ${NOBODY_UID}, so files of a root process are not readable; add --run-as=root if the namespace allows it`,
      );
      Object.assign(sc, { runAsUser: NOBODY_UID, runAsGroup: NOBODY_UID, runAsNonRoot: true });
    } else {
      Object.assign(sc, { runAsUser: uid, ...(gid !== undefined ? { runAsGroup: gid } : {}), runAsNonRoot: uid !== 0 });
    }
  }
  return sc;
}

function mirrorVolumeMounts(target: V1Container, notices: string[]) {
  const mounts = [];
  for (const m of target.volumeMounts ?? []) {
    if (m.subPath || m.subPathExpr) {
      notices.push(`volume "${m.name}" at ${m.mountPath} uses subPath, which ephemeral containers cannot mount; skipped`);
      continue;
    }
    mounts.push({ name: m.name, mountPath: m.mountPath, ...(m.readOnly ? { readOnly: true } : {}), ...(m.mountPropagation ? { mountPropagation: m.mountPropagation } : {}) });
  }
  return mounts;
}

/** Refuses an image outside the preset's allowedImages before anything is sent. */
export function checkAllowedImage(preset: Preset, image: string): void {
  if (preset.allowedImages.length === 0) return;
  if (preset.allowedImages.some((prefix) => image.startsWith(prefix))) return;
  throw new PluginError(
    'config',
    `image "${image}" is not allowed for preset "${preset.name}" (${preset.source}); use an image under ${preset.allowedImages.join(', ')}`,
  );
}

/** The strategic merge patch that adds exactly one ephemeral container (merged by name). */
export function ephemeralContainerPatch(container: V1EphemeralContainer): { spec: { ephemeralContainers: V1EphemeralContainer[] } } {
  return { spec: { ephemeralContainers: [container] } };
}
