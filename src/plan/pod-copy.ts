import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { usageError } from '../errors/plugin-error.js';
import { podCopyName } from './names.js';

/** Labels and annotations the plugin puts on the copies it makes (cleanup finds them by label). */
export const COPY_LABEL = 'kubectl-ephemeral.dev/copy-of';
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY = 'kubectl-ephemeral';

/** How to copy the pod. */
export interface PodCopyRequest {
  /** The crashing container (main, init or sidecar) whose command is replaced. */
  container: string;
  /** The keep-alive command, already split into argv. */
  keepalive: string[];
  /** Keep spec.nodeName so the copy runs where the original did (kubectl debug --same-node); else the scheduler places it. */
  sameNode: boolean;
  /** Set spec.shareProcessNamespace so every container sees the others' processes (kubectl debug --share-processes). */
  shareProcesses?: boolean;
  /** --copy-to: the copy's name; <pod>-debug-<suffix> when absent. */
  name?: string;
  /** --set-image: a container's new image by its name, or for every container by "*" (spec.containers, as kubectl's). */
  setImages?: Record<string, string>;
  /** What of the original the copy keeps (kubectl debug's --keep-* flags); absent: kubectl's defaults. */
  keep?: Partial<CopyKeeps>;
}

/** kubectl debug's --keep-* flags for a copy. */
export interface CopyKeeps {
  labels: boolean;
  annotations: boolean;
  liveness: boolean;
  readiness: boolean;
  startup: boolean;
  initContainers: boolean;
}

/** kubectl debug's defaults: labels, annotations and probes dropped, init containers kept. */
export const COPY_KEEP_DEFAULTS: Readonly<CopyKeeps> = { labels: false, annotations: false, liveness: false, readiness: false, startup: false, initContainers: true };

/**
 * A copy of the pod with `kubectl debug --copy-to` semantics and its --keep-* defaults: no labels
 * (no Service routes to it) nor annotations but the plugin's own, no probes (nothing restarts the
 * replaced container under the user), no owner references, no node unless asked, and the crashing
 * container's command replaced by a keep-alive. The container may be an init container: kept
 * alive, it holds the main containers back, which is what debugging it needs (they would only fail after it).
 */
export function buildPodCopy(pod: V1Pod, req: PodCopyRequest, suffix: string): { pod: V1Pod; notices: string[] } {
  const notices: string[] = [];
  const keep = { ...COPY_KEEP_DEFAULTS, ...req.keep };
  const spec = structuredClone(pod.spec!);
  const replace = (c: V1Container): V1Container => {
    const { livenessProbe, readinessProbe, startupProbe, ...rest } = c;
    const probes = { ...(keep.liveness && livenessProbe ? { livenessProbe } : {}), ...(keep.readiness && readinessProbe ? { readinessProbe } : {}), ...(keep.startup && startupProbe ? { startupProbe } : {}) };
    if (c.name !== req.container) return { ...rest, ...probes };
    const { args: _a, ...kept } = rest;
    return { ...kept, ...probes, command: req.keepalive };
  };
  const image = (c: V1Container): V1Container => {
    const set = req.setImages?.[c.name] ?? req.setImages?.['*'];
    return set ? { ...c, image: set } : c;
  };
  const init = spec.initContainers?.find((c) => c.name === req.container);
  if (init && !keep.initContainers) throw usageError(`--keep-init-containers=false drops init container "${req.container}", the one to debug; drop --keep-init-containers=false or pick another container with -c`);
  if (init && init.restartPolicy !== 'Always')
    notices.push(`init container "${req.container}" runs "${req.keepalive.join(' ')}" in the copy, so the copy's main containers do not start: debug the init container`);
  const unknown = Object.keys(req.setImages ?? {}).filter((n) => n !== '*' && !spec.containers.some((c) => c.name === n));
  if (unknown.length) throw usageError(`--set-image names ${unknown.map((n) => `"${n}"`).join(', ')}, not a container of pod "${pod.metadata?.name}"; choose from: ${spec.containers.map((c) => c.name).join(', ')}`);
  const { ephemeralContainers: _e, nodeName, shareProcessNamespace, initContainers, ...specRest } = spec;
  if (spec.ephemeralContainers?.length) notices.push(`the copy leaves out ${spec.ephemeralContainers.length} ephemeral container(s) of the original`);
  const share = req.shareProcesses || shareProcessNamespace;
  const copy: V1Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: req.name ?? podCopyName(pod.metadata!.name!, suffix),
      namespace: pod.metadata?.namespace,
      // The plugin's own label and annotation always: cleanup and list find copies by them.
      labels: { ...(keep.labels ? pod.metadata?.labels : {}), [COPY_LABEL]: pod.metadata!.name!.slice(0, 63), [MANAGED_BY_LABEL]: MANAGED_BY },
      annotations: { ...(keep.annotations ? pod.metadata?.annotations : {}), [COPY_LABEL]: pod.metadata!.name! },
    },
    spec: {
      ...specRest,
      ...(req.sameNode && nodeName ? { nodeName } : {}),
      ...(share !== undefined ? { shareProcessNamespace: share } : {}),
      containers: spec.containers.map((c) => image(replace(c))),
      ...(initContainers && keep.initContainers ? { initContainers: initContainers.map(replace) } : {}),
    },
  };
  return { pod: copy, notices };
}
