// Jest transform: TypeScript and ESM dependencies to CommonJS with esbuild (fast, no type check:
// `npm run typecheck` does that). import.meta.url is shimmed the same way as in the bundle.
const { transformSync } = require('esbuild');
const crypto = require('node:crypto');

module.exports = {
  getCacheKey(src, file) {
    return crypto.createHash('sha1').update(src).update(file).update('v1').digest('hex');
  },
  process(src, file) {
    const loader = file.endsWith('.ts') ? 'ts' : 'js';
    const out = transformSync(src, {
      loader, format: 'cjs', target: 'node22', sourcemap: 'inline', sourcefile: file,
      define: { 'import.meta.url': '__importMetaUrl' },
      banner: 'const __importMetaUrl = require("node:url").pathToFileURL(__filename).href;',
      supported: { 'dynamic-import': false },
    });
    return { code: out.code };
  },
};
