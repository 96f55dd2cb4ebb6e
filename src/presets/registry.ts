import { PluginError } from '../errors/plugin-error.js';
import { BUILTIN_PRESETS } from './builtin.js';
import type { NodeProfile, Preset } from './preset.js';
import type { UserPresetFile } from './user-presets.js';

/**
 * The plugin's own commands (and yargs' help and version): a preset with one of these names or
 * aliases could never be reached, so the preset file may not use them.
 */
export const COMMAND_NAMES: readonly string[] = ['presets', 'list', 'attach', 'sessions', 'capture', 'collect', 'cleanup', 'permissions', 'help', 'version', 'completion', '__complete'];

/** The fields that decide what a session can do: changing one drops the parent's abilities. */
const JOB_FIELDS = ['image', 'command', 'runAs', 'capabilities', 'keepCapabilities', 'workingDir', 'levels', 'targetProcesses', 'mirrorTarget', 'readOnlyRootFilesystem'] as const;

/** The node profile a new user preset starts from: /host read-write, no host namespace shared. */
const NO_HOST_ACCESS: NodeProfile = { hostNetwork: false, hostPID: false, hostReadOnly: false, banner: [] };

/** All presets known to this run: the built-ins, then the user's file on top. */
export class PresetRegistry {
  private constructor(readonly presets: readonly Preset[]) {}

  /** The registry of built-in presets merged with a user preset file. */
  static from(file?: UserPresetFile): PresetRegistry {
    const byName = new Map(BUILTIN_PRESETS.map((p) => [p.name, p]));
    const lineOf = new Map<string, UserPresetFile['presets'][number]['lines']>();
    const fail = (name: string, field: string, msg: string): never => {
      const lines = lineOf.get(name) ?? {};
      throw new PluginError('config', `${file!.path}:${lines[field] ?? lines[''] ?? 1}: presets.${name}${field ? `.${field}` : ''}: ${msg}; fix the file or unset KUBECTL_EPHEMERAL_CONFIG`);
    };
    for (const user of file?.presets ?? []) {
      const { extends: parentName, lines, node, ...fields } = user;
      lineOf.set(user.name, lines);
      if (COMMAND_NAMES.includes(user.name)) fail(user.name, '', `"${user.name}" is a kubectl ephemeral command; name the preset otherwise`);
      const parent = byName.get(parentName ?? user.name);
      if (parentName && !parent) fail(user.name, 'extends', `no preset named "${parentName}" (define it above, or extend a built-in)`);
      if (!parent && !fields.image) fail(user.name, 'image', 'a new preset needs an image (or "extends")');
      const base = parent ?? BUILTIN_PRESETS.find((p) => p.name === 'shell')!;
      // Per-level forms merge field by field with the parent's: overriding baseline keeps restricted.
      const levels = { ...base.levels };
      for (const [l, form] of Object.entries(fields.levels ?? {}) as Array<[keyof Preset['levels'], Preset['levels'][keyof Preset['levels']]]>)
        levels[l] = { ...base.levels[l], ...form };
      // Claims are kept only where they still hold: abilities when nothing that decides them changed,
      // examples (they name the preset) when the user's entry overrides a preset of its own name.
      const sameJob = parent !== undefined && !JOB_FIELDS.some((f) => f in fields);
      const merged: Preset = {
        ...base,
        ...(sameJob ? {} : { abilities: [] }),
        ...(parent?.name === user.name ? {} : { examples: [] }),
        ...(parent && parent.name !== user.name ? { aliases: [] } : {}),
        ...fields,
        levels,
        // A node mapping is merged over the parent's profile (a new preset starts from no host namespaces).
        node: node === false ? undefined : node ? { ...(parent?.node ?? NO_HOST_ACCESS), ...node } : base.node,
        name: user.name,
        source: file!.path,
      } as Preset;
      if (!merged.pods && !merged.node) fail(user.name, 'pods', '"pods: false" needs a "node" mapping, or the preset debugs nothing');
      byName.set(user.name, merged);
    }
    const policy = file?.policy ?? {};
    const presets = [...byName.values()].map((p) => ({
      ...p,
      requireReason: p.requireReason || policy.requireReason === true,
      allowedImages: p.allowedImages.length ? p.allowedImages : (policy.allowedImages ?? []),
    }));
    const seen = new Map<string, string>();
    for (const p of presets)
      for (const n of [p.name, ...p.aliases]) {
        const other = seen.get(n);
        if (other && other !== p.name) fail(p.name, n === p.name ? '' : 'aliases', `name or alias "${n}" is already preset "${other}"`);
        if (COMMAND_NAMES.includes(n)) fail(p.name, 'aliases', `"${n}" is a kubectl ephemeral command; choose another alias`);
        seen.set(n, p.name);
      }
    return new PresetRegistry(presets);
  }

  /** The preset with this name or alias, or undefined. */
  find(nameOrAlias: string): Preset | undefined {
    return this.presets.find((p) => p.name === nameOrAlias || p.aliases.includes(nameOrAlias));
  }

  /** Like find, but a usage error listing the choices when absent. */
  get(nameOrAlias: string): Preset {
    const p = this.find(nameOrAlias);
    if (!p) throw new PluginError('usage', `unknown preset "${nameOrAlias}"; choose one of: ${this.names().join(', ')}`);
    return p;
  }

  /** Every name and alias, for completion and help. */
  names(): string[] {
    return this.presets.flatMap((p) => [p.name, ...p.aliases]);
  }
}
