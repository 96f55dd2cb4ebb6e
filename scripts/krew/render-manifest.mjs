// Renders the krew manifest (scripts/krew/ephemeral.yaml.tmpl) for one version, with the sha256 of
// each platform's archive found in a directory. A platform without an archive there gets an
// all-zero sha256 and a comment saying so (only with --allow-missing, for a partial build such as
// `release.sh archive` of one platform); `npm run release` renders with all five.
//
//   node scripts/krew/render-manifest.mjs --archives dist/release [--version v0.1.0]
//     [--repo owner/name] [--out krew-manifest.yaml] [--allow-missing]
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * krew's platforms, in manifest order: the one list (scripts/krew/platforms.json) that release.sh,
 * scripts/sea/targets.mjs and the packaging tests read too.
 */
export const PLATFORMS = JSON.parse(readFileSync(join(root, 'scripts/krew/platforms.json'), 'utf8'));

/** Where GitHub releases live unless --repo or KE_RELEASE_REPO says otherwise. */
export const DEFAULT_REPO = 'kubectl-ephemeral/kubectl-ephemeral';
const MISSING_SHA = '0'.repeat(64);

/** The archive name of a platform; release.sh and the workflow build exactly these. */
export function archiveName(version, { os, arch }) {
  return `kubectl-ephemeral_${version}_${os}_${arch}.${os === 'windows' ? 'zip' : 'tar.gz'}`;
}

function sha256(file) {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

function platformBlock(version, repo, platform, sha, note) {
  const exe = platform.os === 'windows' ? 'kubectl-ephemeral.exe' : 'kubectl-ephemeral';
  // The completion launcher is a sh script: not for Windows.
  const files = platform.os === 'windows' ? [exe, 'LICENSE', 'README.md'] : [exe, 'kubectl_complete-ephemeral', 'LICENSE', 'README.md'];
  return [
    '  - selector:',
    '      matchLabels:',
    `        os: ${platform.os}`,
    `        arch: ${platform.arch}`,
    `    uri: https://github.com/${repo}/releases/download/${version}/${archiveName(version, platform)}`,
    `    sha256: "${sha}"${note ? `  # ${note}` : ''}`, // quoted: YAML reads some hex strings as numbers
    '    files:',
    ...files.flatMap((f) => [`      - from: ${f}`, '        to: .']),
    `    bin: ${exe}`,
  ].join('\n');
}

/** The manifest text; throws when an archive is missing and allowMissing is off. */
export function renderManifest({ version, repo = DEFAULT_REPO, archives, allowMissing = false }) {
  if (!/^v\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/.test(version)) throw new Error(`version "${version}" is not v-prefixed semver`);
  const missing = [];
  const blocks = PLATFORMS.map((p) => {
    const file = join(archives, archiveName(version, p));
    if (existsSync(file)) return platformBlock(version, repo, p, sha256(file));
    missing.push(archiveName(version, p));
    return platformBlock(version, repo, p, MISSING_SHA, 'NOT A REAL CHECKSUM: no archive was built here; the release workflow renders the published manifest');
  });
  if (missing.length && !allowMissing) throw new Error(`missing archives in ${archives}: ${missing.join(', ')}`);
  const template = readFileSync(join(root, 'scripts/krew/ephemeral.yaml.tmpl'), 'utf8');
  const header = missing.length
    ? `# Rendered by scripts/krew/render-manifest.mjs from the archives in one local build; an all-zero\n# sha256 marks a platform not built there. The release workflow publishes the full manifest.\n`
    : `# Rendered by scripts/krew/render-manifest.mjs from the release archives.\n`;
  const text = header + template.replaceAll('{{VERSION}}', version).replaceAll('{{REPO}}', repo).replace('{{PLATFORMS}}', blocks.join('\n'));
  const left = text.match(/\{\{[A-Z_]+\}\}/);
  if (left) throw new Error(`template placeholder ${left[0]} not filled`);
  return { text, missing };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      archives: { type: 'string' },
      version: { type: 'string' },
      repo: { type: 'string' },
      out: { type: 'string' },
      'allow-missing': { type: 'boolean', default: false },
    },
  });
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const version = values.version ?? `v${pkg.version}`;
  const { text, missing } = renderManifest({
    version,
    repo: values.repo ?? process.env.KE_RELEASE_REPO ?? DEFAULT_REPO,
    archives: resolve(values.archives ?? join(root, 'dist/release')),
    allowMissing: values['allow-missing'],
  });
  const out = resolve(values.out ?? join(root, 'krew-manifest.yaml'));
  writeFileSync(out, text);
  process.stderr.write(`render-manifest: wrote ${out} for ${version}${missing.length ? ` (no archive, zero sha256: ${missing.join(', ')})` : ''}\n`);
}
