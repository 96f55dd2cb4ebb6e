import type { V1Capabilities, V1Container, V1EphemeralContainer, V1EnvVar, V1Pod, V1SecurityContext } from '@kubernetes/client-node';
import { PluginError, notFound, usageError } from '../errors/plugin-error.js';
import { LINUX_CAPABILITIES, NOBODY_UID, presetForm, type PodSecurityLevel, type Preset, type PresetForm, type RunAs } from '../presets/preset.js';
import { mergeContainer, type PartialContainer } from './container-merge.js';
import { debugContainerName, isDnsLabel } from './names.js';

/** What the user asked for, on top of the preset: the debug container's part of the request (src/debug/request.ts). */
export interface ContainerRequest {
  preset: Preset;
  /** -c or --target: the container to target or mirror; the pod's default container otherwise. */
  container?: string;
  /** --target: share the target's processes (targetContainerName) even when the preset does not. */
  targetProcesses?: boolean;
  /** --image overrides the preset's image. */
  image?: string;
  /** --name, else debugger-<preset>-<suffix>. */
  name?: string;
  /** Arguments after `--` replace the preset's command. */
  command?: string[];
  /** --arguments-only: the words after `--` are the container's args; the preset's command stays. */
  argumentsOnly?: boolean;
  /** --privileged: only ever when asked for. */
  privileged?: boolean;
  /** --run-as overrides the preset's user. */
  runAs?: RunAs;
  /** false when nothing is typed into it (-i=false); default true. */
  stdin?: boolean;
  /** false for a session without a terminal (a pipe, -t=false, capture's stream); default true. */
  tty?: boolean;
  /**
   * Partial container specs merged over the built container in order (kubectl's strategic merge,
   * plan/container-merge.ts): what the container flags amount to, then --custom. The creator stamp
   * is applied after them: no flag or file can change it.
   */
  specs?: PartialContainer[];
  /** Creator metadata stamped into the container's env, read back by `list`. */
  stamp?: { user?: string; reason?: string };
  /** The preset's form to build (its privileged form when absent). */
  form?: PresetForm;
  /** The Pod Security level the container must meet (privileged when absent): restricted never runs a target's root as root. */
  level?: PodSecurityLevel;
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
export function buildEphemeralContainer(pod: V1Pod, req: ContainerRequest, suffix: string): DebugContainerPlan {
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

  const form = req.form ?? presetForm(preset, 'privileged');
  const base: V1EphemeralContainer = {
    name,
    image,
    ...commandOf(req),
    ...(form.workingDir ? { workingDir: form.workingDir } : {}),
    stdin: req.stdin ?? true,
    tty: req.tty ?? true,
    // Without a TTY, containerd detaches the output the moment the attach's stdin ends, racing the
    // program's last lines (kubectl debug -i loses them at random). stdinOnce makes the end of input
    // close the container's stdin instead, with the output attached until the container stops.
    ...((req.stdin ?? true) && req.tty === false ? { stdinOnce: true } : {}),
    terminationMessagePolicy: 'File',
    securityContext: buildSecurityContext(pod, target, { ...req, form }, notices),
  };
  if (preset.targetProcesses || req.targetProcesses) base.targetContainerName = target.name;
  if (preset.mirrorTarget) {
    base.volumeMounts = mirrorVolumeMounts(target, notices);
    if (target.env?.length) base.env = [...target.env];
    if (target.envFrom?.length) base.envFrom = target.envFrom;
  }
  const container = mergeContainer(base, req.specs ?? []);
  container.env = stampedEnv(container.env, preset, req.stamp);
  return { container, target: target.name, notices };
}

/** The container's command and args: the words after `--` replace the preset's command, or with --arguments-only become its args. */
export function commandOf(req: Pick<ContainerRequest, 'preset' | 'command' | 'argumentsOnly'>): { command?: string[]; args?: string[] } {
  const own = req.preset.command ? { command: req.preset.command } : {};
  if (!req.command?.length) return own;
  return req.argumentsOnly ? { ...own, args: req.command } : { command: req.command };
}

/** The env with the creator stamp last, replacing any variable of the same name (the stamp is the record `list` trusts). */
export function stampedEnv(env: V1EnvVar[] | undefined, preset: Preset, stamp: ContainerRequest['stamp']): V1EnvVar[] {
  const names = new Set<string>(Object.values(STAMP_ENV));
  const out = (env ?? []).filter((e) => !names.has(e.name));
  out.push({ name: STAMP_ENV.preset, value: preset.name });
  if (stamp?.user) out.push({ name: STAMP_ENV.user, value: stamp.user });
  if (stamp?.reason) out.push({ name: STAMP_ENV.reason, value: stamp.reason });
  return out;
}

/** The debug container's securityContext: least privilege from the preset's form (req.form, else its own), or --privileged, or --run-as. */
export function buildSecurityContext(pod: V1Pod, target: V1Container, req: ContainerRequest, notices: string[]): V1SecurityContext {
  const form = req.form ?? presetForm(req.preset, 'privileged');
  if (req.privileged) {
    notices.push('--privileged: the debug container gets every capability and host device access');
    return { privileged: true, runAsUser: 0, runAsNonRoot: false };
  }
  const user = resolveUser(pod, target, req, form, notices);
  const sc: V1SecurityContext = { allowPrivilegeEscalation: false };
  const capabilities = buildCapabilities(target, form, user.uid, notices);
  if (capabilities) sc.capabilities = capabilities;
  sc.seccompProfile = { type: 'RuntimeDefault' };
  if (req.preset.readOnlyRootFilesystem) sc.readOnlyRootFilesystem = true;
  // Set at container level so a pod-level runAsUser/runAsNonRoot cannot silently win (kubectl#1650, k/k#113006).
  Object.assign(sc, { runAsUser: user.uid, ...(user.gid !== undefined ? { runAsGroup: user.gid } : {}), runAsNonRoot: user.uid !== 0 });
  return sc;
}

/** The user a container reports in its status (kubelet 1.31+ with a runtime that tells, KEP-3619). */
function reportedUser(pod: V1Pod, container: string): { uid?: number; gid?: number } {
  const statuses = [...(pod.status?.containerStatuses ?? []), ...(pod.status?.initContainerStatuses ?? [])];
  const linux = statuses.find((s) => s.name === container)?.user?.linux;
  return linux ? { uid: linux.uid, gid: linux.gid } : {};
}

/**
 * The user a container runs as: its runAsUser (else the pod's), else the user its status reports;
 * with none of these, the image's default (root unless the image says otherwise, `assumed`) — or,
 * when runAsNonRoot forbids root, unknown (undefined).
 */
export function targetUser(pod: V1Pod, target: V1Container): { uid: number; gid?: number; assumed?: true } | undefined {
  const reported = reportedUser(pod, target.name);
  const uid = target.securityContext?.runAsUser ?? pod.spec?.securityContext?.runAsUser ?? reported.uid;
  const gid = target.securityContext?.runAsGroup ?? pod.spec?.securityContext?.runAsGroup ?? reported.gid;
  if (uid !== undefined) return { uid, ...(gid !== undefined ? { gid } : {}) };
  if (target.securityContext?.runAsNonRoot ?? pod.spec?.securityContext?.runAsNonRoot) return undefined;
  return { uid: 0, gid: gid ?? 0, assumed: true };
}

function resolveUser(pod: V1Pod, target: V1Container, req: ContainerRequest, form: PresetForm, notices: string[]): { uid: number; gid?: number } {
  const runAs: RunAs = req.runAs ?? form.runAs;
  if (runAs.kind === 'root') return { uid: 0, gid: 0 };
  if (runAs.kind === 'uid') return { uid: runAs.uid, gid: runAs.gid ?? runAs.uid };
  const user = targetUser(pod, target);
  if (!user) {
    notices.push(
      `container "${target.name}" runs as a non-root user its pod spec does not name (runAsNonRoot without runAsUser): the debug shell runs as uid ${NOBODY_UID}, which cannot read another user's /proc/1/root; pass --run-as=UID[:GID] with the app's user`,
    );
    return { uid: NOBODY_UID, gid: NOBODY_UID };
  }
  if (user.uid === 0 && req.level === 'restricted' && !req.runAs) {
    notices.push(
      `container "${target.name}" runs as root and Pod Security "restricted" forbids root: the debug shell runs as uid ${NOBODY_UID}, so /proc/1/root and root's files are unreadable (ps works); debug where baseline applies`,
    );
    return { uid: NOBODY_UID, gid: NOBODY_UID };
  }
  if (user.assumed)
    notices.push(`container "${target.name}" names no user: the debug shell runs as root, the image's default; if the app runs as another user, pass --run-as=UID[:GID]`);
  return { uid: user.uid, ...(user.gid !== undefined ? { gid: user.gid } : {}) };
}

/** Drop ALL then add, or keep some of the runtime's defaults, or (root) exactly the target's own set. */
function buildCapabilities(target: V1Container, form: PresetForm, uid: number, notices: string[]): V1Capabilities | undefined {
  const add = form.capabilities.length ? { add: [...form.capabilities] } : {};
  if (form.keepCapabilities === 'target') {
    // A non-root process holds no capabilities after exec: dropping them all costs nothing.
    if (uid !== 0) return { drop: ['ALL'], ...add };
    if (target.securityContext?.privileged)
      notices.push(`container "${target.name}" is privileged: reading its /proc/1/root needs every capability (--privileged)`);
    const own = target.securityContext?.capabilities;
    // The target's own drop and add, so the debug container's capabilities equal the target's.
    const merged = { ...(own?.drop?.length ? { drop: [...own.drop] } : {}), ...(own?.add?.length || form.capabilities.length ? { add: [...new Set([...(own?.add ?? []), ...form.capabilities])] } : {}) };
    return Object.keys(merged).length ? merged : undefined;
  }
  if (form.keepCapabilities.length === 0) return { drop: ['ALL'], ...add };
  const kept = new Set([...form.keepCapabilities, ...form.capabilities]);
  return { drop: LINUX_CAPABILITIES.filter((c) => !kept.has(c)), ...add };
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
