import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { podCopyName } from './names.js';

/** Labels and annotations the plugin puts on the copies it makes (cleanup finds them by label). */
export const COPY_LABEL = 'kubectl-ephemeral.dev/copy-of';
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY = 'kubectl-ephemeral';

/** How to copy the pod. */
export interface PodCopyRequest {
  /** The crashing container whose command is replaced. */
  container: string;
  /** The keep-alive command, already split into argv. */
  keepalive: string[];
  /** Keep spec.nodeName so the copy runs where the original did. */
  sameNode: boolean;
}

/**
 * A copy of the pod with `kubectl debug --copy-to` semantics: no labels (no Service routes to it),
 * no probes, no owner references, and the crashing container's command replaced by a keep-alive.
 */
export function buildPodCopy(pod: V1Pod, req: PodCopyRequest, suffix: string): { pod: V1Pod; notices: string[] } {
  const notices: string[] = [];
  const source = structuredClone(pod);
  const spec = source.spec!;
  const stripProbes = (c: V1Container): V1Container => {
    const { livenessProbe: _l, readinessProbe: _r, startupProbe: _s, ...rest } = c;
    return rest;
  };
  const containers = spec.containers.map((c) => {
    const copy = stripProbes(c);
    if (c.name !== req.container) return copy;
    const { args: _a, ...rest } = copy;
    return { ...rest, command: req.keepalive };
  });
  const { ephemeralContainers: _e, nodeName, ...specRest } = spec;
  if (spec.ephemeralContainers?.length) notices.push(`the copy leaves out ${spec.ephemeralContainers.length} ephemeral container(s) of the original`);
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
      containers,
      ...(spec.initContainers ? { initContainers: spec.initContainers.map(stripProbes) } : {}),
    },
  };
  return { pod: copy, notices };
}
