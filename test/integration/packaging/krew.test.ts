// The plugin as krew ships it: the committed and the freshly rendered manifest pass krew-index's
// validator, `kubectl krew install --manifest --archive` installs the release archive offline,
// kubectl finds and runs the plugin and its completion launcher, and a wrong sha256 is refused.
import { readFileSync, existsSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  buildReleaseArchive,
  isolatedPath,
  KREW_ARCH,
  KREW_OS,
  krewTools,
  krewToolsUnavailable,
  removeTempDirs,
  REPO,
  renderManifest,
  run,
  tempDir,
  validateManifest,
  VERSION,
  which,
} from './artifacts';
import { describeIfAvailable } from '../../support/suite-gate';

const KUBECTL = which('kubectl');
const suite = describeIfAvailable('test/integration/packaging/krew.test.ts', !KUBECTL ? 'no kubectl on PATH' : krewToolsUnavailable() ?? '', 'krew is built from the Go module proxy by the packaging tests');

suite('krew packaging (offline)', () => {
  let tools: string;
  let archive: string;
  let manifest: string;
  let krewRoot: string;
  let home: string;
  let userEnv: NodeJS.ProcessEnv;

  /** Runs kubectl as a user whose PATH has krew's bin and kubectl, and no node. */
  const kubectl = (args: string[], env: NodeJS.ProcessEnv = userEnv) => run(KUBECTL!, args, { env, cwd: home });

  const krewEnv = (root: string): NodeJS.ProcessEnv => ({
    PATH: `${join(root, 'bin')}:${isolatedPath({ kubectl: KUBECTL!, 'kubectl-krew': join(tools, 'kubectl-krew') })}`,
    HOME: home,
    KREW_ROOT: root,
    KREW_NO_UPGRADE_CHECK: '1',
    KREW_OS,
    KREW_ARCH,
    KUBECONFIG: join(home, 'no-such-kubeconfig'),
  });

  beforeAll(() => {
    tools = krewTools();
    const release = buildReleaseArchive();
    archive = release.archive;
    manifest = renderManifest(release.dir, join(tempDir('manifest'), 'krew-manifest.yaml'));
    home = tempDir('home');
    krewRoot = tempDir('krew-root');
    userEnv = krewEnv(krewRoot);
  }, 600_000);

  afterAll(removeTempDirs);

  it('the committed krew-manifest.yaml is for the package.json version and passes validate-krew-manifest', () => {
    const committed = join(REPO, 'krew-manifest.yaml');
    const text = readFileSync(committed, 'utf8');
    expect(text).toContain(`version: ${VERSION}\n`);
    expect(text).not.toMatch(/\{\{|\}\}/);
    const r = validateManifest(tools, committed);
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: expect.stringContaining('structural validation OK') });
  });

  it('the manifest rendered with this archive passes validate-krew-manifest', () => {
    const r = validateManifest(tools, manifest);
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: expect.stringContaining('no overlapping spec.platform[].selector') });
  });

  it('kubectl krew install --manifest --archive installs it offline, with LICENSE and the completion launcher', () => {
    const r = kubectl(['krew', 'install', `--manifest=${manifest}`, `--archive=${archive}`]);
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: expect.stringContaining('Installed plugin: ephemeral') });
    const store = join(krewRoot, 'store', 'ephemeral', VERSION);
    for (const f of ['kubectl-ephemeral', 'kubectl_complete-ephemeral', 'LICENSE', 'README.md']) expect(existsSync(join(store, f))).toBe(true);
  });

  it('kubectl plugin list finds kubectl-ephemeral in $KREW_ROOT/bin', () => {
    const r = kubectl(['plugin', 'list']);
    expect(r.stdout).toContain(join(krewRoot, 'bin', 'kubectl-ephemeral'));
  });

  it('kubectl ephemeral --version prints the package version, with no node on PATH', () => {
    const r = kubectl(['ephemeral', '--version']);
    expect({ status: r.status, stdout: r.stdout.trim(), stderr: r.stderr }).toEqual({ status: 0, stdout: VERSION, stderr: '' });
  });

  it('kubectl ephemeral presets lists the built-in presets', () => {
    const r = kubectl(['ephemeral', 'presets']);
    expect(r.status).toBe(0);
    for (const preset of ['network', 'forensics', 'crashloop']) expect(r.stdout).toMatch(new RegExp(`^${preset}\\b`, 'm'));
  });

  it('kubectl __complete ephemeral lists presets and commands through kubectl_complete-ephemeral on PATH', () => {
    // krew links only the plugin binary; the caveats tell users to link the launcher like this.
    const link = join(krewRoot, 'bin', 'kubectl_complete-ephemeral');
    if (!existsSync(link)) symlinkSync(join(krewRoot, 'store', 'ephemeral', VERSION, 'kubectl_complete-ephemeral'), link);
    const r = kubectl(['__complete', 'ephemeral', '']);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toEqual(expect.arrayContaining(['network', 'net', 'forensics', 'presets', 'attach']));
    expect(lines[lines.length - 1]).toBe(':4');
    const pre = kubectl(['__complete', 'ephemeral', 'pre']).stdout.trim().split('\n');
    expect(pre).toEqual(['presets', ':4']);
  });

  it('refuses an archive whose sha256 does not match the manifest, and installs nothing', () => {
    const root = tempDir('krew-root-bad');
    const bad = join(tempDir('manifest-bad'), 'krew-manifest.yaml');
    const wrong = 'f'.repeat(64);
    const text = readFileSync(manifest, 'utf8');
    const tampered = text.replace(new RegExp(`(os: ${KREW_OS}\\n\\s+arch: ${KREW_ARCH}\\n[^\\n]*\\n\\s+sha256: )"[0-9a-f]{64}"`), `$1"${wrong}"`);
    expect(tampered).not.toBe(text);
    writeFileSync(bad, tampered);
    const r = kubectl(['krew', 'install', `--manifest=${bad}`, `--archive=${archive}`], krewEnv(root));
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/checksum does not match|sha256/i);
    expect(existsSync(join(root, 'bin', 'kubectl-ephemeral'))).toBe(false);
  });
});
