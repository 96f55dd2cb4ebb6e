import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readmeSections, renderReadme } from '../../../scripts/docs/readme-sections';
import { BUILTIN_PRESETS } from '../../../src/presets/builtin';
import { parseCommandLine } from '../../../src/cli/root';
import { buildDebugRequest } from '../../../src/debug/request';
import { PresetRegistry } from '../../../src/presets/registry';

const readme = readFileSync(join(__dirname, '../../../README.md'), 'utf8');

describe('README', () => {
  it('generated blocks match the code (run `npm run docs` after changing presets or exit codes)', () => {
    expect(renderReadme(readme)).toBe(readme);
  });

  it('documents every preset and every exit code', () => {
    for (const p of BUILTIN_PRESETS) expect(readme).toContain(`### \`${p.name}\``);
    expect(readmeSections()['exit-codes']).toMatch(/\| 77 \| forbidden/);
  });

  it('keeps the quick start with the two set-up commands', () => {
    expect(readme).toMatch(/## Quick start[\s\S]*npm run demo[\s\S]*npm test/);
  });

  // Every `kubectl ephemeral ...` line of the README is a command the plugin accepts as written: it
  // parses, and a preset command passes validation (what runs against a cluster is in the e2e suite).
  const examples = readme
    .split('\n')
    .filter((l) => l.startsWith('kubectl ephemeral '))
    .map((l) => l.replace(/\s+#.*$/, '').replace(/\s+\|.*$/, '').trim());
  it.each(examples)('%s', async (line) => {
    const words = (line.match(/"[^"]*"|'[^']*'|\S+/g) ?? []).slice(2).map((w) => w.replace(/^(["'])(.*)\1$/, '$2'));
    const registry = PresetRegistry.from();
    const parsed = await parseCommandLine(words, registry, () => undefined);
    if (parsed.command === 'debug') await expect(buildDebugRequest(parsed.options, registry.get(parsed.options.preset))).resolves.toBeDefined();
    // --version and --help print and are done; everything else is a command to run.
    expect(parsed.command === 'done').toBe(/ --(version|help)$/.test(line));
  });
});
