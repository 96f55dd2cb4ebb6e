import type { V1Pod, V1SecurityContext } from '@kubernetes/client-node';
import { abilitiesAt, describeCan, describeCannot } from '../presets/describe.js';
import { POD_SECURITY_LEVELS, presetForm, RUNTIME_DEFAULT_CAPABILITIES, type PodSecurityLevel } from '../presets/preset.js';
import { buildEphemeralContainer, type DebugContainerPlan, type ContainerRequest } from './debug-container.js';
import { evaluatePodSecurity } from './pod-security.js';

/** A debug container built in the form a Pod Security level allows, and the one line that says so. */
export interface LevelPlan extends DebugContainerPlan {
  /** The level whose form was built. */
  formLevel: PodSecurityLevel;
  /** "what was chosen and what will not work", when the form differs from the preset's own or lacks something. */
  choice?: string;
}

/** The stricter of two levels. */
export function stricterLevel(a: PodSecurityLevel, b: PodSecurityLevel): PodSecurityLevel {
  return POD_SECURITY_LEVELS.indexOf(a) >= POD_SECURITY_LEVELS.indexOf(b) ? a : b;
}

/**
 * Builds the strongest form of the preset that the namespace's level admits: the preset's own form,
 * else its baseline form, else its restricted one. `forced` (--level) builds that form only. When no
 * form fits, the last one tried is returned and the Pod Security gate names the violation.
 * `forcedBy` is how the user asked for the forced form (`--level`, `--profile`), for the line that names it.
 */
export function planForLevel(pod: V1Pod, req: ContainerRequest, level: PodSecurityLevel, suffix: string, forced?: PodSecurityLevel, forcedBy = '--level'): LevelPlan {
  const candidates = forced ? [forced] : POD_SECURITY_LEVELS.slice(0, POD_SECURITY_LEVELS.indexOf(level) + 1);
  const mustMeet = forced ? stricterLevel(forced, level) : level;
  let plan: LevelPlan | undefined;
  for (const formLevel of candidates) {
    const form = presetForm(req.preset, formLevel);
    plan = { ...buildEphemeralContainer(pod, { ...req, form, level: mustMeet }, suffix), formLevel };
    if (!evaluatePodSecurity(pod, plan.container, level).some((v) => v.isNew)) break;
  }
  // What this form cannot that another level's can, and then what it still can (said only with a loss).
  const { can, levelLimits } = abilitiesAt(req.preset, plan!.formLevel);
  if (plan!.formLevel !== 'privileged' || levelLimits.length) {
    const what = `the debug container runs as ${describeSecurityContext(plan!.container.securityContext)}`;
    const limits = levelLimits.length ? `it cannot ${describeCannot(levelLimits)}${can.length ? `; it can ${describeCan(can)}` : ''}` : '';
    // Forced: the form the user asked for, named as typed (the gate then says what the namespace refuses).
    const lead = forced ? `${forcedBy} ${forced}` : `Pod Security "${mustMeet}"`;
    plan!.choice = `${lead}: ${what}${limits ? `; ${limits}` : ''}`;
  }
  return plan!;
}

/** Who a security context runs as and with which capabilities, in a few words. */
export function describeSecurityContext(sc: V1SecurityContext | undefined): string {
  if (sc?.privileged) return 'privileged root';
  const uid = sc?.runAsUser;
  const user = uid === 0 ? 'root' : uid === undefined ? "the image's user" : `uid ${uid}`;
  const drop = sc?.capabilities?.drop ?? [];
  const add = sc?.capabilities?.add ?? [];
  const kept = RUNTIME_DEFAULT_CAPABILITIES.filter((c) => !drop.includes(c));
  const plus = add.length ? ` plus ${add.join(', ')}` : '';
  if (drop.includes('ALL')) return add.length ? `${user} with only ${add.join(', ')}` : `${user} without capabilities`;
  if (kept.length === RUNTIME_DEFAULT_CAPABILITIES.length) return `${user} with the runtime's default capabilities${plus}`;
  return `${user} keeping only ${kept.join(', ') || 'none'} of the runtime's default capabilities${plus}`;
}
