import type { V1EphemeralContainer, V1Pod } from '@kubernetes/client-node';
import { PluginError } from '../errors/plugin-error.js';
import { evaluatePodSecurity, type PodSecurityLevel } from '../plan/pod-security.js';

/**
 * The one Pod Security gate: refuses what admission would refuse, naming the policy and the field,
 * before anything is sent. `fix` is what the user can do instead (it differs per command).
 */
export function checkPodSecurity(pod: V1Pod, container: V1EphemeralContainer | undefined, level: PodSecurityLevel, ns: string, fix: string): void {
  const podName = pod.metadata?.name ?? '';
  const violations = evaluatePodSecurity(pod, container, level);
  if (violations.length === 0) return;
  const earlier = violations.filter((x) => !x.isNew && x.container && pod.spec?.ephemeralContainers?.some((e) => e.name === x.container));
  if (earlier.length) {
    const names = [...new Set(earlier.map((x) => x.container))].join(', ');
    throw new PluginError(
      'policy-rejected',
      `pod "${podName}" already holds ephemeral container ${names} that violates Pod Security "${level}" of namespace "${ns}" (${earlier[0]!.message}, ${earlier[0]!.field}); Pod Security checks the whole pod, so every new debug container is rejected until the pod is replaced; debug a new replica or a copy (crashloop --copy)`,
    );
  }
  const mine = violations.filter((x) => x.isNew);
  const first = mine[0] ?? violations[0]!;
  // A debug container added to a pod that itself breaks the level (it predates the label): no
  // container can fix that. Without a container the pod is what is being created: the caller's fix.
  const why = mine.length || !container
    ? fix
    : 'Pod Security checks the whole pod, so no debug container can be added until the pod complies or the namespace admits it';
  throw new PluginError(
    'policy-rejected',
    `namespace "${ns}" enforces Pod Security "${level}": ${mine.length ? 'the debug container' : `pod "${podName}"`} violates ${first.check} (${first.field}: ${first.message}); ${why}`,
  );
}

/** The fix a preset session suggests when no form of the preset fits the namespace's level; `explicit.level` is the flag that forced a form, as typed. */
export function presetLevelFix(level: PodSecurityLevel, explicit: { privileged?: boolean; runAs?: boolean; level?: string }): string {
  if (explicit.privileged) return `drop --privileged: Pod Security "${level}" forbids it`;
  if (explicit.runAs) return `drop --run-as or choose a user "${level}" allows${level === 'restricted' ? ' (non-root)' : ''}`;
  if (explicit.level) return `drop ${explicit.level} to let the plugin choose the form "${level}" allows`;
  return `this preset has no form that "${level}" allows; use one that does (kubectl ephemeral presets -o wide) or debug in a namespace with a laxer level`;
}
