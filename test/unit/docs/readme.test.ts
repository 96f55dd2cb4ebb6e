import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DOC_BLOCKS, headingAnchor, readmeSections, renderDoc, WALKTHROUGH_DOC } from '../../../scripts/docs/readme-sections';
import { BUILTIN_PRESETS } from '../../../src/presets/builtin';
import { parseCommandLine } from '../../../src/cli/root';
import { buildDebugRequest } from '../../../src/debug/request';
import { PresetRegistry } from '../../../src/presets/registry';

const REPO = join(__dirname, '..', '..', '..');
const read = (file: string) => readFileSync(join(REPO, file), 'utf8');
/** README.md and every page under docs/. */
const DOCS = ['README.md', ...readdirSync(join(REPO, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
const readme = read('README.md');
/** Pages for users (development and architecture are for contributors). */
const USER_DOCS = DOCS.filter((f) => !/docs\/(development|architecture)\.md$/.test(f));

describe('README and docs/', () => {
  it.each(Object.keys(DOC_BLOCKS))('%s: generated blocks match the code (run `npm run docs` after changing presets, flags, permissions or exit codes)', (file) => {
    const text = read(file);
    expect(renderDoc(file, text)).toBe(text);
  });

  it('documents every preset and every exit code', () => {
    const presets = read('docs/presets.md');
    for (const p of BUILTIN_PRESETS) expect(presets).toContain(`### \`${p.name}\``);
    expect(readme).toContain(readmeSections()['exit-codes']);
    expect(readmeSections()['exit-codes']).toMatch(/\| 77 \| forbidden/);
  });

  it('the README is short, for users, and keeps the two set-up commands', () => {
    expect(readme.split('\n').length).toBeLessThanOrEqual(300);
    expect(readme).toMatch(/## Quick start from source[\s\S]*npm ci && npm run demo[\s\S]*npm ci && npm test/);
  });

  it('every page under docs/ is linked from the README', () => {
    for (const file of DOCS.filter((f) => f !== 'README.md')) expect(readme).toContain(`](${file}`);
  });

  // A link to a page or a heading that does not exist fails here, so moving text cannot strand one.
  const links = DOCS.flatMap((file) => [...read(file).matchAll(/\]\(([^)\s]+)\)/g)].map((m) => [file, m[1]!] as const)).filter(([, href]) => !/^[a-z]+:/.test(href));
  it.each(links)('%s links to %s, which exists', (file, href) => {
    const [path, hash] = href.split('#') as [string, string | undefined];
    const target = path ? join(file, '..', path) : file;
    const text = read(target);
    if (hash) expect(anchors(text)).toContain(hash);
  });

  // The paths the pages name (the architecture's above all) exist, so a moved file cannot leave a page behind.
  const paths = DOCS.flatMap((file) =>
    [
      ...[...read(file).matchAll(/`((?:src|scripts|test|\.github|\.ci)\/[^`\s<*{]*)[`\s]/g)].map((m) => m[1]!),
      ...[...read(file).matchAll(/`((?:completion|cli|commands|debug|plan|presets|kube|terminal|output|errors|input)\/[\w.-]+\.ts)`/g)].map((m) => `src/${m[1]!}`),
    ].map((path) => [file, path] as const),
  );
  it.each(paths)('%s names %s, which exists', (_file, path) => {
    expect(existsSync(join(REPO, path))).toBe(true);
  });

  it('user pages name no issue of this project and none of its machines', () => {
    for (const file of USER_DOCS) {
      const text = read(file).replace(/kubernetes\/kubernetes#\d+/g, '');
      expect([file, text.match(/\bissue \d+|\(#\d+\)|this project's (VM|machine)|\bVM\b/gi)]).toEqual([file, null]);
    }
  });

  it('the walkthrough blocks live in the page the e2e walkthrough writes', () => {
    for (const file of DOCS) expect([file, file === WALKTHROUGH_DOC || !read(file).includes('<!-- walkthrough-')]).toEqual([file, true]);
  });

  it('the krew manifest names the same access review as the docs: the one the preflight sends', () => {
    const manifest = read('krew-manifest.yaml');
    const reviews = (text: string) => [...new Set(text.match(/SelfSubject\w*Review/g) ?? [])];
    for (const review of reviews(manifest)) expect(DOCS.some((f) => read(f).includes(review))).toBe(true);
    expect(manifest).toContain('SelfSubjectRulesReview');
    expect(readme).toContain('SelfSubjectRulesReview');
    expect(read('src/kube/cluster-api.ts')).toContain("kind: 'SelfSubjectRulesReview'");
  });

  it('the README copies the completion launcher as the manifest\'s caveats do, for this version', () => {
    const version = JSON.parse(read('package.json')).version as string;
    const store = `/store/ephemeral/v${version.replace(/^v/, '')}/kubectl_complete-ephemeral`;
    expect(readme).toContain(`cp "\${KREW_ROOT:-$HOME/.krew}"${store} "\${KREW_ROOT:-$HOME/.krew}"/bin/`);
    expect(read('krew-manifest.yaml')).toContain(store);
  });

  it("every command and preset the krew manifest's description names is in the README", () => {
    const description = /\n  description: \|\n([\s\S]*?)\n  \w+:/.exec(read('krew-manifest.yaml'))![1]!;
    const named = [...description.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);
    expect(named.length).toBeGreaterThan(2);
    for (const word of named) expect([word, readme.includes(word)]).toEqual([word, true]);
    for (const p of BUILTIN_PRESETS) expect(description).toContain(p.name);
  });

  // Every `kubectl ephemeral ...` line of the docs is a command the plugin accepts as written: it
  // parses, and a preset command passes validation (what runs against a cluster is in the e2e suite).
  const examples = DOCS.flatMap((file) =>
    read(file)
      .split('\n')
      .filter((l) => l.startsWith('kubectl ephemeral '))
      .map((l) => [file, l.replace(/\s+#.*$/, '').replace(/\s+\|.*$/, '').trim()] as const),
  );
  it.each(examples)('%s: %s', async (_file, line) => {
    const words = (line.match(/"[^"]*"|'[^']*'|\S+/g) ?? []).slice(2).map((w) => w.replace(/^(["'])(.*)\1$/, '$2'));
    const registry = PresetRegistry.from();
    const parsed = await parseCommandLine(words, registry, () => undefined);
    if (parsed.command === 'debug') await expect(buildDebugRequest(parsed.options, registry.get(parsed.options.preset))).resolves.toBeDefined();
    // --version and --help print and are done; everything else is a command to run.
    expect(parsed.command === 'done').toBe(/ --(version|help)$/.test(line));
  });
});

/** The anchors GitHub gives a page's headings (a repeated heading gets -1, -2 ...). */
function anchors(text: string): string[] {
  const seen = new Map<string, number>();
  return text
    .replace(/```[\s\S]*?```/g, '')
    .split('\n')
    .filter((l) => /^#{1,6} /.test(l))
    .map((l) => {
      const base = headingAnchor(l.replace(/^#+ /, ''));
      const n = seen.get(base) ?? 0;
      seen.set(base, n + 1);
      return n ? `${base}-${n}` : base;
    });
}
