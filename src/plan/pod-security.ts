import type { V1Container, V1EphemeralContainer, V1Pod } from '@kubernetes/client-node';
import type { PodSecurityLevel } from '../presets/preset.js';

export type { PodSecurityLevel } from '../presets/preset.js';

/** One way a pod breaks a level, named like the API server names it. */
export interface Violation {
  /** The policy check (e.g. "capabilities", "runAsNonRoot"). */
  check: string;
  /** Field path, e.g. spec.ephemeralContainers[1].securityContext.capabilities.add. */
  field: string;
  /** The container at fault, if any. */
  container?: string;
  /** Whether the container is one the plugin is about to add. */
  isNew: boolean;
  message: string;
}

const BASELINE_CAPS = new Set([
  'AUDIT_WRITE', 'CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'KILL', 'MKNOD', 'NET_BIND_SERVICE',
  'SETFCAP', 'SETGID', 'SETPCAP', 'SETUID', 'SYS_CHROOT',
]);
const RESTRICTED_VOLUMES = ['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'persistentVolumeClaim', 'projected', 'secret'];

/** The namespace's enforced level from its pod-security.kubernetes.io/enforce label. */
export function enforcedLevel(labels: Record<string, string> | undefined): PodSecurityLevel {
  const v = labels?.['pod-security.kubernetes.io/enforce'];
  return v === 'baseline' || v === 'restricted' ? v : 'privileged';
}

/**
 * Evaluates the whole pod, as Pod Security admission does on the ephemeralcontainers subresource,
 * with `added` appended. Covers the container-level checks and the pod-level ones that matter here.
 */
export function evaluatePodSecurity(pod: V1Pod, added: V1EphemeralContainer | undefined, level: PodSecurityLevel): Violation[] {
  if (level === 'privileged') return [];
  const spec = pod.spec ?? { containers: [] };
  const out: Violation[] = [];
  const podSc = spec.securityContext ?? {};
  const groups: Array<[string, Array<V1Container | V1EphemeralContainer>]> = [
    ['initContainers', spec.initContainers ?? []],
    ['containers', spec.containers ?? []],
    ['ephemeralContainers', [...(spec.ephemeralContainers ?? []), ...(added ? [added] : [])]],
  ];
  if (spec.hostNetwork || spec.hostPID || spec.hostIPC)
    out.push({ check: 'hostNamespaces', field: 'spec.hostNetwork/hostPID/hostIPC', isNew: false, message: 'host namespaces are shared' });
  for (const v of spec.volumes ?? []) {
    if (v.hostPath) out.push({ check: 'hostPathVolumes', field: `spec.volumes[${v.name}].hostPath`, isNew: false, message: `volume "${v.name}" is a hostPath` });
    else if (level === 'restricted' && !RESTRICTED_VOLUMES.some((k) => (v as unknown as Record<string, unknown>)[k]))
      out.push({ check: 'restrictedVolumes', field: `spec.volumes[${v.name}]`, isNew: false, message: `volume "${v.name}" has a type restricted does not allow` });
  }
  if (podSc.seccompProfile?.type === 'Unconfined')
    out.push({ check: 'seccompProfile', field: 'spec.securityContext.seccompProfile.type', isNew: false, message: 'pod seccompProfile is Unconfined' });

  for (const [kind, list] of groups) {
    list.forEach((c, i) => {
      const isNew = added !== undefined && c === added;
      const sc = c.securityContext ?? {};
      const at = (f: string) => `spec.${kind}[${i}].securityContext.${f}`;
      const push = (check: string, f: string, message: string) => out.push({ check, field: at(f), container: c.name, isNew, message });
      if (sc.privileged) push('privileged', 'privileged', `container "${c.name}" is privileged`);
      const added_ = sc.capabilities?.add ?? [];
      const beyondBaseline = added_.filter((cap) => !BASELINE_CAPS.has(cap));
      if (beyondBaseline.length) push('capabilities', 'capabilities.add', `container "${c.name}" adds ${beyondBaseline.join(', ')}`);
      if (sc.procMount && sc.procMount !== 'Default') push('procMount', 'procMount', `container "${c.name}" sets procMount ${sc.procMount}`);
      if (sc.seccompProfile?.type === 'Unconfined') push('seccompProfile', 'seccompProfile.type', `container "${c.name}" is Unconfined`);
      if ('ports' in c && (c.ports ?? []).some((p) => p.hostPort)) push('hostPorts', 'ports', `container "${c.name}" uses a hostPort`);
      if (level !== 'restricted') return;
      if (sc.allowPrivilegeEscalation !== false)
        push('allowPrivilegeEscalation', 'allowPrivilegeEscalation', `container "${c.name}" must set allowPrivilegeEscalation=false`);
      const nonRoot = sc.runAsNonRoot ?? podSc.runAsNonRoot;
      if (nonRoot !== true) push('runAsNonRoot', 'runAsNonRoot', `container "${c.name}" must set runAsNonRoot=true`);
      if ((sc.runAsUser ?? podSc.runAsUser) === 0) push('runAsUser', 'runAsUser', `container "${c.name}" must not set runAsUser=0`);
      const seccomp = sc.seccompProfile?.type ?? podSc.seccompProfile?.type;
      if (seccomp !== 'RuntimeDefault' && seccomp !== 'Localhost')
        push('seccompProfile', 'seccompProfile.type', `container "${c.name}" must set seccompProfile.type to RuntimeDefault or Localhost`);
      if (!(sc.capabilities?.drop ?? []).includes('ALL'))
        push('capabilities', 'capabilities.drop', `container "${c.name}" must drop ALL capabilities`);
      const beyondRestricted = added_.filter((cap) => cap !== 'NET_BIND_SERVICE' && BASELINE_CAPS.has(cap));
      if (beyondRestricted.length) push('capabilities', 'capabilities.add', `container "${c.name}" may only add NET_BIND_SERVICE, not ${beyondRestricted.join(', ')}`);
    });
  }
  return out;
}
