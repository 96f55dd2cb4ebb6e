import { constants, type Stats } from 'node:fs';
import { open } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { PluginError } from '../errors/plugin-error.js';
import { loadYaml } from '../input/yaml.js';
import { capabilityProblem, imageReferenceProblem, runAsProblem } from './validate.js';
import { formatRunAs, parseRunAsText, POD_SECURITY_LEVELS, type NodeProfile, type Preset, type PresetForm } from './preset.js';

/** The user preset file: $KUBECTL_EPHEMERAL_CONFIG, else $XDG_CONFIG_HOME/kubectl-ephemeral/presets.yaml. */
export function userPresetsPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.KUBECTL_EPHEMERAL_CONFIG) return env.KUBECTL_EPHEMERAL_CONFIG;
  const configHome = env.XDG_CONFIG_HOME || join(env.HOME ?? homedir(), '.config');
  return join(configHome, 'kubectl-ephemeral', 'presets.yaml');
}

/**
 * One preset as the file gives it, with the line of each field (key '' is the preset's own line).
 * `node: false` removes the parent's node profile; a mapping is merged over it.
 */
export type UserPreset = Omit<Partial<Preset>, 'node'> & { name: string; extends?: string; node?: Partial<NodeProfile> | false; lines: Record<string, number> };

/** A parsed user preset file: presets to add or override, and a policy for every preset. */
export interface UserPresetFile {
  path: string;
  presets: UserPreset[];
  policy: { requireReason?: boolean; allowedImages?: string[] };
}

type Field = 'string' | 'image' | 'strings' | 'boolean' | 'runAs' | 'capabilities' | 'keepCapabilities' | 'levels' | 'node' | 'abilities' | 'examples' | 'levelNames';
/** The fields a form (a preset's own, or one under `levels`) takes. */
const FORM_FIELD_TYPES: Record<keyof PresetForm, Field> = {
  runAs: 'runAs',
  capabilities: 'capabilities',
  keepCapabilities: 'keepCapabilities',
  workingDir: 'string',
};
const PRESET_FIELDS: Record<string, Field> = {
  extends: 'string',
  summary: 'string',
  image: 'image',
  command: 'strings',
  aliases: 'strings',
  targetProcesses: 'boolean',
  ...FORM_FIELD_TYPES,
  levels: 'levels',
  readOnlyRootFilesystem: 'boolean',
  mirrorTarget: 'boolean',
  record: 'boolean',
  copy: 'boolean',
  crashSummary: 'boolean',
  banner: 'strings',
  abilities: 'abilities',
  examples: 'examples',
  requireReason: 'boolean',
  allowedImages: 'strings',
  pods: 'boolean',
  node: 'node',
};
const NODE_FIELDS: Record<string, Field> = { hostNetwork: 'boolean', hostPID: 'boolean', hostReadOnly: 'boolean', banner: 'strings' };
const POLICY_FIELDS: Record<string, Field> = { requireReason: 'boolean', allowedImages: 'strings' };
const LEVEL_KEYS: Record<string, Field> = { baseline: 'levels', restricted: 'levels' };
const ABILITY_FIELDS: Record<string, Field> = { id: 'string', what: 'string', levels: 'levelNames', unless: 'string' };
const EXAMPLE_FIELDS: Record<string, Field> = { command: 'string', comment: 'string' };
const NAME = /^[a-z][a-z0-9-]{0,30}$/;

/** The start offset of a YAML node, for line numbers in errors. */
const offsetOf = (node: unknown): number | undefined => (node as { range?: number[] } | null)?.range?.[0];

/**
 * The cap on a preset file: 256 KiB, hundreds of presets (the built-ins take ~15 KB). Past it the
 * file is refused before it is read: a preset file names images and capabilities, it is never data.
 */
export const PRESET_FILE_MAX_BYTES = 256 * 1024;

/** What a file that is not a regular file is, for the error. */
function fileKind(st: Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  return 'not a regular file';
}

/**
 * The preset file's text, read with bounds: a regular file only (a directory, FIFO or device such
 * as /dev/zero is refused before any byte is read; a FIFO is opened non-blocking, so opening it
 * does not wait for a writer), at most PRESET_FILE_MAX_BYTES, read asynchronously so a signal is
 * handled while it is read. Undefined when there is none.
 */
async function readPresetFile(path: string, named: boolean): Promise<string | undefined> {
  const fix = named ? 'fix KUBECTL_EPHEMERAL_CONFIG or unset it' : 'fix or remove it';
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && !named) return undefined;
    if (code === 'ENOENT') throw new PluginError('config', `${path}: no such preset file (named by KUBECTL_EPHEMERAL_CONFIG); create it or unset KUBECTL_EPHEMERAL_CONFIG`);
    throw new PluginError('config', `${path}: the preset file cannot be read (${code ?? (err as Error).message}); ${fix}`);
  }
  try {
    const st = await handle.stat();
    if (!st.isFile()) throw new PluginError('config', `${path}: ${fileKind(st)}, not a preset file: a preset file is a regular YAML file; ${fix}`);
    const tooLarge = () => new PluginError('config', `${path}: the preset file is larger than ${PRESET_FILE_MAX_BYTES / 1024} KiB; ${fix}`);
    if (st.size > PRESET_FILE_MAX_BYTES) throw tooLarge();
    // The size can change while it is read: read one byte past the cap to know.
    const buf = Buffer.alloc(PRESET_FILE_MAX_BYTES + 1);
    let got = 0;
    for (let n = -1; n !== 0 && got < buf.length; got += n) n = (await handle.read(buf, got, buf.length - got, got)).bytesRead;
    if (got > PRESET_FILE_MAX_BYTES) throw tooLarge();
    return buf.toString('utf8', 0, got);
  } finally {
    await handle.close();
  }
}

/**
 * Reads and validates the user preset file; undefined when there is none. A file the user named
 * ($KUBECTL_EPHEMERAL_CONFIG) must exist, as kubectl requires of a named kubeconfig.
 */
export async function loadUserPresets(path: string, named = false): Promise<UserPresetFile | undefined> {
  const text = await readPresetFile(path, named);
  return text === undefined ? undefined : parseUserPresets(path, text);
}

/** Validates a preset file's text; errors name the file, the line and the field. */
export async function parseUserPresets(path: string, text: string): Promise<UserPresetFile> {
  // Loaded lazily: only users with a preset file pay for the YAML parser at startup.
  const { parseDocument, LineCounter, isMap, isSeq, isScalar } = await loadYaml();
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: false });
  const lineOf = (offset: number | undefined): number => (offset === undefined ? 1 : lines.linePos(offset).line);
  const fail = (offset: number | undefined, field: string, msg: string): never => {
    const line = lineOf(offset);
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
    if (type === 'levels') {
      // Per-level forms: `levels: {baseline: {...}, restricted: {...}}`, each with the form fields only.
      const levels = readFields(node, LEVEL_KEYS, field, (n, f) => readFields(n, FORM_FIELD_TYPES, f).values);
      return levels.values;
    }
    if (type === 'abilities' || type === 'examples') {
      // A list of mappings: each ability needs what it claims, each example its command line.
      if (!isSeq(node)) return fail(at, field, 'expected a list of mappings');
      const fields = type === 'abilities' ? ABILITY_FIELDS : EXAMPLE_FIELDS;
      const required = type === 'abilities' ? ['id', 'what'] : ['command', 'comment'];
      return node.items.map((item, i) => {
        const { values } = readFields(item, fields, `${field}[${i}]`);
        const missing = required.find((k) => values[k] === undefined);
        if (missing) fail(offsetOf(item), `${field}[${i}]`, `needs "${missing}"`);
        return values;
      });
    }
    if (type === 'levelNames') {
      const names = readValue(node, 'strings', field) as string[];
      const bad = names.find((n) => !(POD_SECURITY_LEVELS as readonly string[]).includes(n));
      return bad === undefined ? names : fail(at, field, `unknown level "${bad}" (known: ${POD_SECURITY_LEVELS.join(', ')})`);
    }
    if (type === 'keepCapabilities' && isScalar(node) && node.value === 'target') return 'target';
    if (type === 'capabilities' || type === 'keepCapabilities') {
      const caps = readValue(node, 'strings', field) as string[];
      (isSeq(node) ? node.items : []).forEach((item, i) => {
        const problem = capabilityProblem(caps[i]!, type === 'capabilities' ? 'add' : 'keep');
        if (problem) fail(offsetOf(item), field, problem);
      });
      return caps;
    }
    if (type === 'strings') {
      if (!isSeq(node) || !node.items.every((i) => isScalar(i) && typeof i.value === 'string'))
        return fail(at, field, 'expected a list of strings');
      return node.items.map((i) => (i as { value: string }).value);
    }
    if (type === 'node') {
      if (isScalar(node) && node.value === false) return false;
      if (!isMap(node)) return fail(at, field, 'expected false or a mapping of hostNetwork, hostPID, hostReadOnly, banner');
      return readFields(node, NODE_FIELDS, field).values;
    }
    if (!isScalar(node)) return fail(at, field, `expected a ${type === 'boolean' ? 'boolean' : 'scalar'}`);
    const v = node.value;
    if (type === 'boolean') return typeof v === 'boolean' ? v : fail(at, field, 'expected true or false');
    if (type === 'string') return typeof v === 'string' && v !== '' ? v : fail(at, field, 'expected a non-empty string');
    if (type === 'image') {
      const problem = typeof v === 'string' ? imageReferenceProblem(v) : 'expected a string';
      return problem ? fail(at, field, problem === 'expected a string' ? problem : `${JSON.stringify(v)} is not an image reference: ${problem}`) : v;
    }
    // A uid past 2^53 is not even an exact number: read it from the source text.
    const text = typeof v === 'number' ? ((node as { source?: string }).source ?? String(v)) : v;
    const runAs = typeof text === 'string' ? parseRunAsText(text) : undefined;
    if (!runAs) return fail(at, field, 'expected "root", "target", a numeric uid or "uid:gid"');
    const range = runAsProblem(runAs);
    return range ? fail(at, field, range) : runAs;
  };

  type Read = (node: unknown, field: string) => unknown;
  function readFields(map: unknown, fields: Record<string, Field>, prefix: string, read?: Read): { values: Record<string, unknown>; lines: Record<string, number> } {
    if (!isMap(map)) return fail(offsetOf(map), prefix, 'expected a mapping');
    const values: Record<string, unknown> = {};
    const at: Record<string, number> = {};
    const seen = new Set<string>();
    for (const pair of map.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : '';
      checkUnique(seen, key, pair.key, prefix);
      // Own keys only: "constructor" or "toString" are not fields because every object inherits them.
      if (!Object.hasOwn(fields, key)) fail(offsetOf(pair.key), `${prefix}.${key}`, `unknown field (known: ${Object.keys(fields).join(', ')})`);
      const field = `${prefix}.${key}`;
      values[key] = read ? read(pair.value, field) : readValue(pair.value, fields[key]!, field);
      at[key] = lineOf(offsetOf(pair.key));
    }
    return { values, lines: at };
  }

  const checkUnique = (seen: Set<string>, key: string, node: unknown, prefix: string) => {
    if (seen.has(key)) fail(offsetOf(node), prefix ? `${prefix}.${key}` : key, 'map keys must be unique');
    seen.add(key);
  };
  const topKeys = new Set<string>();
  const presetNames = new Set<string>();
  for (const pair of root.items) {
    const key = isScalar(pair.key) ? String(pair.key.value) : '';
    const at = offsetOf(pair.key);
    checkUnique(topKeys, key, pair.key, '');
    if (key === 'policy') result.policy = readFields(pair.value, POLICY_FIELDS, 'policy').values;
    else if (key === 'presets') {
      if (!isMap(pair.value)) fail(at, 'presets', 'expected a mapping of preset name to fields');
      for (const p of (pair.value as { items: Array<{ key: unknown; value: unknown }> }).items) {
        const name = isScalar(p.key) ? String(p.key.value) : '';
        const pAt = offsetOf(p.key);
        checkUnique(presetNames, name, p.key, 'presets');
        if (!NAME.test(name)) fail(pAt, `presets.${name}`, 'a preset name is lowercase letters, digits and dashes');
        const { values, lines: at } = readFields(p.value, PRESET_FIELDS, `presets.${name}`);
        result.presets.push({ name, ...values, lines: { '': lineOf(pAt), ...at } });
      }
    } else fail(at, key, 'unknown top-level field (known: presets, policy)');
  }
  return result;
}

/** A form's fields as the preset file writes them (fresh arrays: the YAML printer must not alias them). */
function formToFile(form: Partial<PresetForm>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (form.runAs) out.runAs = formatRunAs(form.runAs);
  if (form.capabilities) out.capabilities = [...form.capabilities];
  if (form.keepCapabilities) out.keepCapabilities = form.keepCapabilities === 'target' ? 'target' : [...form.keepCapabilities];
  if (form.workingDir) out.workingDir = form.workingDir;
  return out;
}

/** Presets as a preset file that parseUserPresets accepts, field for field: what `presets -o yaml` prints. */
export function toPresetFile(presets: readonly Preset[]): { presets: Record<string, Record<string, unknown>> } {
  const out: Record<string, Record<string, unknown>> = {};
  for (const p of presets) {
    const levels = Object.fromEntries(Object.entries(p.levels).map(([l, form]) => [l, formToFile(form ?? {})]));
    out[p.name] = {
      summary: p.summary,
      image: p.image,
      ...(p.command ? { command: [...p.command] } : {}),
      aliases: [...p.aliases],
      targetProcesses: p.targetProcesses,
      ...formToFile(p),
      ...(Object.keys(levels).length ? { levels } : {}),
      readOnlyRootFilesystem: p.readOnlyRootFilesystem,
      mirrorTarget: p.mirrorTarget,
      record: p.record,
      copy: p.copy,
      crashSummary: p.crashSummary,
      banner: [...p.banner],
      ...(p.abilities.length ? { abilities: p.abilities.map((a) => ({ ...a, ...(a.levels ? { levels: [...a.levels] } : {}) })) } : {}),
      ...(p.examples.length ? { examples: p.examples.map((e) => ({ ...e })) } : {}),
      requireReason: p.requireReason,
      allowedImages: [...p.allowedImages],
      pods: p.pods,
      ...(p.node ? { node: { hostNetwork: p.node.hostNetwork, hostPID: p.node.hostPID, hostReadOnly: p.node.hostReadOnly, banner: [...p.node.banner] } } : {}),
    };
  }
  return { presets: out };
}
