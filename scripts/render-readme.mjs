// `npm run docs`: rewrites the generated blocks of README.md (presets, exit codes) from the code.
import { buildSync } from 'esbuild';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const outfile = join(tmpdir(), `readme-sections-${process.pid}.cjs`);
buildSync({ entryPoints: ['scripts/docs/readme-sections.ts'], bundle: true, platform: 'node', format: 'cjs', outfile, logLevel: 'warning' });
const { renderReadme } = createRequire(import.meta.url)(outfile);
const before = readFileSync('README.md', 'utf8');
const after = renderReadme(before);
if (after !== before) writeFileSync('README.md', after);
console.log(after === before ? 'README.md is up to date' : 'README.md updated');
