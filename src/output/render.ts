import { loadYaml } from '../input/yaml.js';

/** Serializes for -o json|yaml (the YAML printer is loaded only when asked for). */
export async function render(value: unknown, format: 'json' | 'yaml'): Promise<string> {
  if (format === 'json') return JSON.stringify(value, null, 2);
  const { stringify } = await loadYaml();
  return stringify(value).trimEnd();
}
