import { readFile, stat } from 'node:fs/promises';
import { PluginError, usageError } from '../errors/plugin-error.js';
import { loadYaml } from '../input/yaml.js';
import { CUSTOM_FORBIDDEN_FIELDS, type PartialContainer } from '../plan/container-merge.js';

/** A container spec is a few kilobytes; past this the file is not one (and is not read whole). */
const MAX_CUSTOM_BYTES = 256 * 1024;

/**
 * kubectl debug --custom FILE: a partial container spec in JSON, else YAML, that may not set what
 * the tool owns (kubectl's Validate: name, command, image, lifecycle, volumeDevices).
 */
export async function readCustomSpec(path: string): Promise<PartialContainer> {
  let text: string;
  try {
    const size = (await stat(path)).size;
    if (size > MAX_CUSTOM_BYTES) throw usageError(`--custom ${path} is ${size} bytes; a partial container spec fits in ${MAX_CUSTOM_BYTES / 1024} KiB: name the right file`);
    text = await readFile(path, 'utf8');
  } catch (err) {
    if (err instanceof PluginError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new PluginError(code === 'ENOENT' ? 'not-found' : 'usage', `cannot read --custom ${path} (${code ?? (err as Error).message}); pass a JSON or YAML file with a partial container spec`);
  }
  const spec = await parseSpec(text, path);
  const forbidden = CUSTOM_FORBIDDEN_FIELDS.filter((f) => f in spec);
  if (forbidden.length)
    throw usageError(`--custom ${path} sets ${forbidden.join(', ')}: name, command, image, lifecycle and volumeDevices are not modifiable via a custom spec (as in kubectl debug); use --name, --image or the words after --`);
  return spec;
}

async function parseSpec(text: string, path: string): Promise<PartialContainer> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    try {
      value = (await loadYaml()).parse(text, { maxAliasCount: 0 });
    } catch (err) {
      throw usageError(`--custom ${path} does not contain a valid container spec (${(err as Error).message.split('\n')[0]}); write it as JSON or YAML`);
    }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw usageError(`--custom ${path} does not contain a valid container spec (not a mapping of container fields); write it as JSON or YAML, e.g. {"securityContext": {"runAsUser": 0}}`);
  return value as PartialContainer;
}
