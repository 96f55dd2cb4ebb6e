import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readmeSections, renderReadme } from '../../../scripts/docs/readme-sections';
import { BUILTIN_PRESETS } from '../../../src/presets/builtin';

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
});
