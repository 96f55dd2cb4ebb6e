import type { CoreV1Event, V1Container, V1Node, V1Pod } from '@kubernetes/client-node';
import { usageError } from '../errors/plugin-error.js';
import { NOBODY_UID, presetForm, type Preset } from '../presets/preset.js';
import { newAuditTrail, AUDIT_ANNOTATION, type AuditEntry } from './audit-trail.js';
import { mergeContainer } from './container-merge.js';
import { buildSecurityContext, checkAllowedImage, commandOf, stampedEnv, STAMP_ENV, type ContainerRequest } from './debug-container.js';
import { debugContainerName, isDnsLabel, labelValue, nodeDebugPodName } from './names.js';
import { MANAGED_BY, MANAGED_BY_LABEL } from './pod-copy.js';

/** The label (node name, cut to a label value) and annotation (full name) on every node debug pod; `list` and `cleanup` select by it. */
export const NODE_DEBUG_LABEL = 'kubectl-ephemeral.dev/node-debug';
/** Who started a node debug pod, so a leftover found by `cleanup` or `list` names its owner. */
export const OWNER_ANNOTATION = 'kubectl-ephemeral.dev/owner';
/** The volume and mount path of the node's root filesystem, as kubectl debug node names it. */
export const HOST_ROOT = { volume: 'host-root', mountPath: '/host' } as const;
/** The prefixes that make the preset command debug a node instead of a pod (kubectl debug takes all three). */
export const NODE_REF_PREFIXES = ['node/', 'nodes/', 'no/'] as const;

/** What the user asked for on top of the preset (the preset itself is passed apart). */
export interface NodeDebugRequest extends Omit<ContainerRequest, 'preset' | 'container' | 'targetProcesses'> {
  /** Namespace the pod is created in. */
  namespace: string;
  /** When the session starts (ISO 8601), for the audit entry. */
  time: string;
}

/** A generated node debug pod and the notices worth telling the user. */
export interface NodeDebugPlan {
  pod: V1Pod;
  notices: string[];
}

/** The usage error for a preset without a node profile asked to debug a node. */
export function noNodeProfile(preset: Preset): Error {
  return usageError(`preset "${preset.name}" does not debug nodes (${preset.source}); use a preset with a node profile (kubectl ephemeral presets -o yaml)`);
}

/** The node name in a `node/NAME` (or `nodes/`, `no/`) argument, or undefined when the argument names a pod. */
export function nodeRefName(arg: string | undefined): string | undefined {
  const prefix = arg === undefined ? undefined : NODE_REF_PREFIXES.find((p) => arg.startsWith(p));
  return prefix ? arg!.slice(prefix.length) : undefined;
}

/**
 * The pod that debugs a node, like kubectl debug node/NAME: pinned to the node by nodeName (no
 * scheduler involved), tolerating every taint, sharing the host namespaces the preset's node
 * profile names, with the node's root at /host. Pure: no I/O, the suffix and time are given.
 */
export function buildNodeDebugPod(node: V1Node, preset: Preset, req: NodeDebugRequest, suffix: string): NodeDebugPlan {
  const profile = preset.node;
  if (!profile) throw noNodeProfile(preset);
  const nodeName = node.metadata?.name ?? '';
  const notices: string[] = [];
  const name = req.name ?? debugContainerName(preset.name, suffix);
  if (!isDnsLabel(name)) throw usageError(`container name "${name}" is not a DNS-1123 label; use lowercase letters, digits and "-"`);
  const image = req.image ?? preset.image;
  checkAllowedImage(preset, image);

  // A node has no target container whose user the session could borrow: the unprivileged uid then.
  let runAs = req.runAs ?? preset.runAs;
  if (runAs.kind === 'target' && !req.privileged) {
    notices.push(`a node has no target user: the shell runs as uid ${NOBODY_UID}, so root-only files under ${HOST_ROOT.mountPath} are not readable; add --run-as=root if you need them`);
    runAs = { kind: 'uid', uid: NOBODY_UID };
  }
  const placeholder: V1Container = { name };
  // Nor target capabilities to mirror: a preset that would keep the target's drops them all here.
  const own = presetForm(preset, 'privileged');
  const form = { ...own, keepCapabilities: own.keepCapabilities === 'target' ? [] : own.keepCapabilities };
  const securityContext = buildSecurityContext({ spec: { containers: [] } }, placeholder, { preset, privileged: req.privileged, runAs, form }, notices);

  const base: V1Container = {
    name,
    image,
    ...commandOf({ ...req, preset }),
    stdin: true,
    tty: req.tty ?? true,
    terminationMessagePolicy: 'File',
    volumeMounts: [{ name: HOST_ROOT.volume, mountPath: HOST_ROOT.mountPath, ...(profile.hostReadOnly ? { readOnly: true } : {}) }],
    securityContext,
  };
  const container = mergeContainer(base, req.specs ?? []);
  container.env = stampedEnv(container.env, preset, req.stamp);
  const entry: AuditEntry = {
    container: name,
    preset: preset.name,
    image,
    user: req.stamp?.user ?? '',
    time: req.time,
    ...(req.stamp?.reason ? { reason: req.stamp.reason } : {}),
    node: nodeName,
  };
  const pod: V1Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: nodeDebugPodName(nodeName, suffix),
      namespace: req.namespace,
      labels: { [NODE_DEBUG_LABEL]: labelValue(nodeName), [MANAGED_BY_LABEL]: MANAGED_BY },
      annotations: {
        [NODE_DEBUG_LABEL]: nodeName,
        [OWNER_ANNOTATION]: req.stamp?.user || 'unknown',
        [AUDIT_ANNOTATION]: newAuditTrail(entry),
      },
    },
    spec: {
      nodeName,
      restartPolicy: 'Never',
      // kubectl debug node tolerates everything too: a tainted node is often the one to debug.
      tolerations: [{ operator: 'Exists' }],
      ...(profile.hostNetwork ? { hostNetwork: true } : {}),
      ...(profile.hostPID ? { hostPID: true } : {}),
      // The session needs no API access of its own.
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      volumes: [{ name: HOST_ROOT.volume, hostPath: { path: '/' } }],
      containers: [container],
    },
  };
  return { pod, notices };
}

/** Why a node cannot host a session (not Ready), or undefined when it can. */
export function nodeNotReady(node: V1Node): string | undefined {
  const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
  if (ready?.status === 'True') return undefined;
  if (!ready) return 'it reports no Ready condition';
  return `its Ready condition is ${ready.status}${ready.reason ? ` (${ready.reason}${ready.message ? `: ${ready.message}` : ''})` : ''}`;
}

/**
 * The Event that records a node session on the node, where `kubectl describe node` shows it. An
 * event about a cluster-scoped object must live in "default" (the API server refuses others).
 */
export function buildNodeSessionEvent(node: V1Node, pod: V1Pod, time: Date): CoreV1Event {
  const nodeName = node.metadata?.name ?? '';
  const container = pod.spec?.containers[0];
  const env = new Map((container?.env ?? []).map((e) => [e.name, e.value ?? '']));
  const user = env.get(STAMP_ENV.user);
  const reason = env.get(STAMP_ENV.reason);
  return {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { generateName: `${nodeName}.`, namespace: 'default' },
    involvedObject: { apiVersion: 'v1', kind: 'Node', name: nodeName, ...(node.metadata?.uid ? { uid: node.metadata.uid } : {}) },
    type: 'Normal',
    reason: 'DebugSession',
    message:
      `${user ? `user "${user}"` : 'an unknown user'} started a ${env.get(STAMP_ENV.preset) ?? ''} session in pod ${pod.metadata?.namespace}/${pod.metadata?.name} (image ${container?.image ?? ''})` +
      (reason ? `; reason: ${reason}` : ''),
    source: { component: MANAGED_BY },
    reportingComponent: MANAGED_BY,
    firstTimestamp: time,
    lastTimestamp: time,
    count: 1,
  };
}
