// Jest transform: TypeScript and ESM dependencies to CommonJS with esbuild (fast, no type check:
// `npm run typecheck` does that). import.meta.url is shimmed the same way as in the bundle.
const { buildSync, transformSync } = require('esbuild');
const crypto = require('node:crypto');

const importMeta = {
  define: { 'import.meta.url': '__importMetaUrl' },
  banner: 'const __importMetaUrl = require("node:url").pathToFileURL(__filename).href;',
};

module.exports = {
  getCacheKey(src, file) {
    return crypto.createHash('sha1').update(src).update(file).update('v4').digest('hex');
  },
  process(src, file) {
    if (file.includes('/node_modules/')) {
      // An ESM package (yargs 18) is bundled whole from this entry, as the plugin's own bundle
      // does: a file-by-file transform gets ESM-to-ESM default imports wrong.
      const out = buildSync({
        entryPoints: [file], bundle: true, write: false, format: 'cjs', platform: 'node', target: 'node22',
        define: importMeta.define, banner: { js: importMeta.banner }, logLevel: 'silent',
      });
      return { code: out.outputFiles[0].text };
    }
    const out = transformSync(src, {
      loader: file.endsWith('.ts') ? 'ts' : 'js', format: 'cjs', target: 'node22', sourcemap: 'inline', sourcefile: file,
      define: importMeta.define, banner: importMeta.banner,
      // Lazy import() becomes require(): jest's CommonJS runtime has no dynamic import.
      supported: { 'dynamic-import': false },
    });
    return { code: out.code };
  },
};
