import type { V1Container, V1Pod } from '@kubernetes/client-node';
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
}

/**
 * A copy of the pod with `kubectl debug --copy-to` semantics: no labels (no Service routes to it),
 * no probes (nothing restarts the replaced container under the user), no owner references, no
 * node unless asked, and the crashing container's command replaced by a keep-alive. The container
 * may be an init container: kept alive, it holds the main containers back, which is what debugging
 * it needs (they would only fail after it).
 */
export function buildPodCopy(pod: V1Pod, req: PodCopyRequest, suffix: string): { pod: V1Pod; notices: string[] } {
  const notices: string[] = [];
  const spec = structuredClone(pod.spec!);
  const replace = (c: V1Container): V1Container => {
    const { livenessProbe: _l, readinessProbe: _r, startupProbe: _s, ...rest } = c;
    if (c.name !== req.container) return rest;
    const { args: _a, ...kept } = rest;
    return { ...kept, command: req.keepalive };
  };
  const init = spec.initContainers?.find((c) => c.name === req.container);
  if (init && init.restartPolicy !== 'Always')
    notices.push(`init container "${req.container}" runs "${req.keepalive.join(' ')}" in the copy, so the copy's main containers do not start: debug the init container`);
  const { ephemeralContainers: _e, nodeName, shareProcessNamespace, ...specRest } = spec;
  if (spec.ephemeralContainers?.length) notices.push(`the copy leaves out ${spec.ephemeralContainers.length} ephemeral container(s) of the original`);
  const share = req.shareProcesses || shareProcessNamespace;
  const copy: V1Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: podCopyName(pod.metadata!.name!, suffix),
      namespace: pod.metadata?.namespace,
      labels: { [COPY_LABEL]: pod.metadata!.name!.slice(0, 63), [MANAGED_BY_LABEL]: MANAGED_BY },
      annotations: { [COPY_LABEL]: pod.metadata!.name! },
    },
    spec: {
      ...specRest,
      ...(req.sameNode && nodeName ? { nodeName } : {}),
      ...(share !== undefined ? { shareProcessNamespace: share } : {}),
      containers: spec.containers.map(replace),
      ...(spec.initContainers ? { initContainers: spec.initContainers.map(replace) } : {}),
    },
  };
  return { pod: copy, notices };
}
