import type { V1EphemeralContainer, V1Pod } from '@kubernetes/client-node';
import { TRAIL_ANCHOR_ENV } from './audit-trail.js';
import { ephemeralState } from './container-state.js';
import { STAMP_ENV } from './debug-container.js';

/** Why an existing debug container was or was not reused, for the notice and -v. */
export type ReuseChoice = { reuse: V1EphemeralContainer } | { reuse: undefined; why: string };

/** Deep equality for JSON data, blind to key order (the server may reorder keys). */
function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const kb = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  return ka.length === kb.length && ka.every((k) => sameJson((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

/** The stamp env without the reason and the trail anchor: a new --reason or a longer trail does not make a different container. */
const withoutReason = (env: V1EphemeralContainer['env']) => (env ?? []).filter((e) => e.name !== STAMP_ENV.reason && e.name !== TRAIL_ANCHOR_ENV);

/**
 * Whether `existing` is the container the plan would create, apart from its name and reason: every
 * field the plan sets has the same value there (the server adds defaults the plan leaves unset,
 * such as imagePullPolicy and terminationMessagePath, which do not matter).
 */
function sameContainer(planned: V1EphemeralContainer, existing: V1EphemeralContainer): boolean {
  const { name: _n, env, ...fields } = planned;
  if (!sameJson(withoutReason(env), withoutReason(existing.env))) return false;
  return Object.entries(fields).every(([k, v]) => v === undefined || sameJson(v, (existing as unknown as Record<string, unknown>)[k]));
}

/**
 * The running debug container of the same user, preset and image (and the same target, user,
 * capabilities, mounts and terminal mode) to attach to instead of adding one more: ephemeral
 * containers cannot be removed (k/k #84764), so each new one stays in the pod for good. The match
 * started last wins; a container that exited is never reused (its shell is gone).
 */
export function chooseReusable(pod: V1Pod, planned: V1EphemeralContainer): ReuseChoice {
  const stamp = (c: V1EphemeralContainer, name: string) => c.env?.find((e) => e.name === name)?.value;
  if (!stamp(planned, STAMP_ENV.user)) return { reuse: undefined, why: 'the API server did not say who you are, so no container can be proven yours' };
  const same = (pod.spec?.ephemeralContainers ?? []).filter((c) => sameContainer(planned, c));
  if (same.length === 0) return { reuse: undefined, why: 'no debug container of yours with this preset and image' };
  const started = (c: V1EphemeralContainer) => {
    const s = ephemeralState(pod, c.name);
    return s.phase === 'running' ? (s.startedAt ?? '') : undefined;
  };
  const running = same.filter((c) => started(c) !== undefined);
  if (running.length === 0) return { reuse: undefined, why: `your earlier ${same.length === 1 ? 'one has' : `${same.length} have`} exited` };
  // By start time: the API server's strategic merge puts a new container first, not last, in the list.
  return { reuse: running.reduce((newest, c) => (started(c)! > started(newest)! ? c : newest)) };
}
