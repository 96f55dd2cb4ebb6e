import { NOBODY_UID, POD_SECURITY_LEVELS, presetForm, type PodSecurityLevel, type Preset, type PresetForm } from './preset.js';

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

/** What a preset does at one level, with what does not work there ("uid 65534, no caps; no tcpdump and ping"). */
export function describeLevel(preset: Preset, level: PodSecurityLevel): string {
  const form = presetForm(preset, level);
  return `${describeForm(form, level)}${form.unavailable ? `; no ${form.unavailable}` : ''}`;
}

/** The per-level descriptions, laxest first. */
export function describeLevels(preset: Preset): Array<[PodSecurityLevel, string]> {
  return POD_SECURITY_LEVELS.map((l) => [l, describeLevel(preset, l)]);
}
