import { canAt, NOBODY_UID, POD_SECURITY_LEVELS, presetForm, type Ability, type PodSecurityLevel, type Preset, type PresetForm } from './preset.js';

/** A form's user and capabilities in a few words, for `presets` and the README ("root, +NET_RAW"). */
export function describeForm(form: PresetForm, level: PodSecurityLevel = 'privileged'): string {
  // Restricted never runs as root: a root target's user becomes 65534 there (and holds no capabilities).
  const restricted = level === 'restricted';
  const user = form.runAs.kind === 'root' ? 'root' : form.runAs.kind === 'target' ? (restricted ? `target user (${NOBODY_UID} if root)` : 'target user') : `uid ${form.runAs.uid}`;
  const caps =
    form.keepCapabilities === 'target'
      ? restricted
        ? 'no caps'
        : "target's capabilities if root, else none"
      : form.keepCapabilities.length
        ? `keeps ${form.keepCapabilities.join(',')} of the runtime's`
        : form.capabilities.length
          ? ''
          : 'no caps';
  const add = form.capabilities.length ? `+${form.capabilities.join(',')}` : '';
  return [user, caps, add].filter(Boolean).join(', ');
}

/** What the preset's form at a level can do, and what it cannot (`levelLimits`: what another level's form can). */
export function abilitiesAt(preset: Preset, level: PodSecurityLevel): { can: Ability[]; cannot: Ability[]; levelLimits: Ability[] } {
  const cannot = preset.abilities.filter((a) => !canAt(a, level));
  return { can: preset.abilities.filter((a) => canAt(a, level)), cannot, levelLimits: cannot.filter((a) => a.levels?.length) };
}

/** Abilities as one phrase: "capture packets (tcpdump -Z root), ping". */
export function describeCan(abilities: Ability[]): string {
  return abilities.map((a) => a.what).join(', ');
}

/** Missing abilities grouped by why: "capture packets (tcpdump -Z root) or ping: needs NET_RAW as root". */
export function describeCannot(abilities: Ability[]): string {
  const byReason = new Map<string, string[]>();
  for (const a of abilities) byReason.set(a.unless ?? '', [...(byReason.get(a.unless ?? '') ?? []), a.what]);
  return [...byReason].map(([why, whats]) => `${whats.join(' or ')}${why ? `: ${why}` : ''}`).join('; ');
}

/** What a preset does at one level, with what its level takes away, for a table cell ("uid 65534, no caps; cannot ping"). */
export function describeLevel(preset: Preset, level: PodSecurityLevel): string {
  const { levelLimits } = abilitiesAt(preset, level);
  return `${describeForm(presetForm(preset, level), level)}${levelLimits.length ? `; cannot ${describeCan(levelLimits)}` : ''}`;
}

/** Each level's form with what it can and cannot do, as lines for --help and the README (none without abilities). */
export function describeAbilityLines(preset: Preset, indent = '  '): string[] {
  if (!preset.abilities.length) return [];
  return POD_SECURITY_LEVELS.flatMap((l) => {
    const { can, cannot } = abilitiesAt(preset, l);
    return [
      `${indent}${l}: ${describeForm(presetForm(preset, l), l)}`,
      ...can.map((a) => `${indent}${indent}can:    ${a.what}`),
      ...cannot.map((a) => `${indent}${indent}cannot: ${describeCannot([a])}`),
    ];
  });
}
