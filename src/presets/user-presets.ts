import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { PluginError } from '../errors/plugin-error.js';
import { loadYaml } from '../output/yaml.js';
import type { NodeProfile, Preset, RunAs } from './preset.js';

/** The user preset file: $KUBECTL_EPHEMERAL_CONFIG, else $XDG_CONFIG_HOME/kubectl-ephemeral/presets.yaml. */
export function userPresetsPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.KUBECTL_EPHEMERAL_CONFIG) return env.KUBECTL_EPHEMERAL_CONFIG;
  const configHome = env.XDG_CONFIG_HOME || join(env.HOME ?? homedir(), '.config');
  return join(configHome, 'kubectl-ephemeral', 'presets.yaml');
}

/** A parsed user preset file: presets to add or override, and a policy for every preset. */
export interface UserPresetFile {
  path: string;
  /** `node: false` removes the parent's node profile; a mapping is merged over it. */
  presets: Array<Omit<Partial<Preset>, 'node'> & { name: string; extends?: string; node?: Partial<NodeProfile> | false }>;
  policy: { requireReason?: boolean; allowedImages?: string[] };
}

type Field = 'string' | 'strings' | 'boolean' | 'runAs' | 'node';
const PRESET_FIELDS: Record<string, Field> = {
  extends: 'string',
  summary: 'string',
  image: 'string',
  command: 'strings',
  aliases: 'strings',
  targetProcesses: 'boolean',
  runAs: 'runAs',
  capabilities: 'strings',
  readOnlyRootFilesystem: 'boolean',
  mirrorTarget: 'boolean',
  record: 'boolean',
  copy: 'boolean',
  crashSummary: 'boolean',
  banner: 'strings',
  requireReason: 'boolean',
  allowedImages: 'strings',
  pods: 'boolean',
  node: 'node',
};
const NODE_FIELDS: Record<string, Field> = { hostNetwork: 'boolean', hostPID: 'boolean', hostReadOnly: 'boolean', banner: 'strings' };
const POLICY_FIELDS: Record<string, Field> = { requireReason: 'boolean', allowedImages: 'strings' };
const NAME = /^[a-z][a-z0-9-]{0,30}$/;

/** The start offset of a YAML node, for line numbers in errors. */
const offsetOf = (node: unknown): number | undefined => (node as { range?: number[] } | null)?.range?.[0];

/** Reads and validates the user preset file; undefined when there is none. */
export async function loadUserPresets(path: string): Promise<UserPresetFile | undefined> {
  if (!existsSync(path)) return undefined;
  return parseUserPresets(path, readFileSync(path, 'utf8'));
}

/** Validates a preset file's text; errors name the file, the line and the field. */
export async function parseUserPresets(path: string, text: string): Promise<UserPresetFile> {
  // Loaded lazily: only users with a preset file pay for the YAML parser at startup.
  const { parseDocument, LineCounter, isMap, isSeq, isScalar } = await loadYaml();
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const fail = (offset: number | undefined, field: string, msg: string): never => {
    const line = offset === undefined ? 1 : lines.linePos(offset).line;
    throw new PluginError('config', `${path}:${line}: ${field}: ${msg}; fix the file or unset KUBECTL_EPHEMERAL_CONFIG`);
  };
  const first = doc.errors[0];
  if (first) fail(first.pos[0], 'yaml', first.message.split('\n')[0]!.toLowerCase());
  const root = doc.contents;
  const result: UserPresetFile = { path, presets: [], policy: {} };
  if (root === null || (isScalar(root) && root.value === null)) return result;
  if (!isMap(root)) return fail(offsetOf(root), '(top level)', 'expected a mapping with "presets" and "policy"');

  const readValue = (node: unknown, type: Field, field: string): unknown => {
    const at = offsetOf(node);
    if (type === 'strings') {
      if (!isSeq(node) || !node.items.every((i) => isScalar(i) && typeof i.value === 'string'))
        return fail(at, field, 'expected a list of strings');
      return node.items.map((i) => (i as { value: string }).value);
    }
    if (type === 'node') {
      if (isScalar(node) && node.value === false) return false;
      if (!isMap(node)) return fail(at, field, 'expected false or a mapping of hostNetwork, hostPID, hostReadOnly, banner');
      return readFields(node, NODE_FIELDS, field);
    }
    if (!isScalar(node)) return fail(at, field, `expected a ${type === 'boolean' ? 'boolean' : 'scalar'}`);
    const v = node.value;
    if (type === 'boolean') return typeof v === 'boolean' ? v : fail(at, field, 'expected true or false');
    if (type === 'string') return typeof v === 'string' && v !== '' ? v : fail(at, field, 'expected a non-empty string');
    if (v === 'root') return { kind: 'root' } satisfies RunAs;
    if (v === 'target') return { kind: 'target' } satisfies RunAs;
    if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return { kind: 'uid', uid: v } satisfies RunAs;
    return fail(at, field, 'expected "root", "target" or a numeric uid');
  };

  const readFields = (map: unknown, fields: Record<string, Field>, prefix: string): Record<string, unknown> => {
    if (!isMap(map)) return fail(offsetOf(map), prefix, 'expected a mapping');
    const out: Record<string, unknown> = {};
    for (const pair of map.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : '';
      const at = offsetOf(pair.key);
      const type = fields[key];
      if (!type) fail(at, `${prefix}.${key}`, `unknown field (known: ${Object.keys(fields).join(', ')})`);
      out[key] = readValue(pair.value, type!, `${prefix}.${key}`);
    }
    return out;
  };

  for (const pair of root.items) {
    const key = isScalar(pair.key) ? String(pair.key.value) : '';
    const at = offsetOf(pair.key);
    if (key === 'policy') result.policy = readFields(pair.value, POLICY_FIELDS, 'policy');
    else if (key === 'presets') {
      if (!isMap(pair.value)) fail(at, 'presets', 'expected a mapping of preset name to fields');
      for (const p of (pair.value as { items: Array<{ key: unknown; value: unknown }> }).items) {
        const name = isScalar(p.key) ? String(p.key.value) : '';
        const pAt = offsetOf(p.key);
        if (!NAME.test(name)) fail(pAt, `presets.${name}`, 'a preset name is lowercase letters, digits and dashes');
        result.presets.push({ name, ...readFields(p.value, PRESET_FIELDS, `presets.${name}`) });
      }
    } else fail(at, key, 'unknown top-level field (known: presets, policy)');
  }
  return result;
}
