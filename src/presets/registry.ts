import { PluginError } from '../errors/plugin-error.js';
import { BUILTIN_PRESETS } from './builtin.js';
import type { NodeProfile, Preset } from './preset.js';
import type { UserPresetFile } from './user-presets.js';

/** The node profile a new user preset starts from: /host read-write, no host namespace shared. */
const NO_HOST_ACCESS: NodeProfile = { hostNetwork: false, hostPID: false, hostReadOnly: false, banner: [] };

/** All presets known to this run: the built-ins, then the user's file on top. */
export class PresetRegistry {
  private constructor(readonly presets: readonly Preset[]) {}

  /** The registry of built-in presets merged with a user preset file. */
  static from(file?: UserPresetFile): PresetRegistry {
    const byName = new Map(BUILTIN_PRESETS.map((p) => [p.name, p]));
    for (const user of file?.presets ?? []) {
      const { extends: parentName, node, ...fields } = user;
      const parent = byName.get(parentName ?? user.name);
      if (parentName && !parent)
        throw new PluginError('config', `${file!.path}: presets.${user.name}.extends: no preset named "${parentName}"`);
      if (!parent && !fields.image)
        throw new PluginError('config', `${file!.path}: presets.${user.name}.image: a new preset needs an image (or "extends")`);
      const base = parent ?? BUILTIN_PRESETS.find((p) => p.name === 'shell')!;
      const merged: Preset = {
        ...base,
        ...(parent && parent.name !== user.name ? { aliases: [] } : {}),
        ...fields,
        // A node mapping is merged over the parent's profile (a new preset starts from no host namespaces).
        node: node === false ? undefined : node ? { ...(parent?.node ?? NO_HOST_ACCESS), ...node } : base.node,
        name: user.name,
        source: file!.path,
      } as Preset;
      if (!merged.pods && !merged.node)
        throw new PluginError('config', `${file!.path}: presets.${user.name}: "pods: false" needs a "node" mapping, or the preset debugs nothing`);
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
        if (other && other !== p.name)
          throw new PluginError('config', `${p.source}: presets.${p.name}: name or alias "${n}" is already preset "${other}"`);
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
