import type { V1EphemeralContainer } from '@kubernetes/client-node';

/** The strategic merge patch that adds exactly one ephemeral container (merged by name): what the PATCH sends and --dry-run prints. */
export function ephemeralContainerPatch(container: V1EphemeralContainer): { spec: { ephemeralContainers: V1EphemeralContainer[] } } {
  return { spec: { ephemeralContainers: [container] } };
}
