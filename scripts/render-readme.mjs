// `npm run docs`: rewrites the generated blocks of README.md and docs/*.md (presets, exit codes,
// permissions, the commands' flag tables) from the code; DOC_BLOCKS says which file holds which.
import { buildSync } from 'esbuild';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const outfile = join(tmpdir(), `readme-sections-${process.pid}.cjs`);
buildSync({ entryPoints: ['scripts/docs/readme-sections.ts'], bundle: true, platform: 'node', format: 'cjs', outfile, logLevel: 'warning',
  // yargs is ESM and finds its files through import.meta.url, which a CommonJS bundle has not.
  define: { 'import.meta.url': '__importMetaUrl' },
  banner: { js: 'const __importMetaUrl = require("node:url").pathToFileURL(__filename).href;' },
});
const { renderDoc, readmeSections, DOC_BLOCKS } = createRequire(import.meta.url)(outfile);
const sections = readmeSections();
for (const file of Object.keys(DOC_BLOCKS)) {
  const before = readFileSync(file, 'utf8');
  const after = renderDoc(file, before, sections);
  if (after !== before) writeFileSync(file, after);
  console.log(after === before ? `${file} is up to date` : `${file} updated`);
}
