// The release as `npm run release` makes it, proven per platform as far as this machine goes:
//   - every archive: krew installs it from --archive with the rendered manifest (KREW_OS/KREW_ARCH
//     name the platform), the binary and the completion launcher where krew puts them;
//   - linux/amd64: kubectl finds and runs it, completion through the launcher, a wrong sha256 refused;
//   - linux/arm64: runs under qemu-user (the session on the real node: test/e2e/packaging);
//   - darwin: Mach-O of the right architecture, the SEA segment, the ad hoc signature's digests
//     checked by rcodesign, node-pty's pty.node and spawn-helper for that platform inside, written executable;
//   - windows: PE32+ x86-64 with the SEA resource, no broken Authenticode signature left, node-pty's
//     ConPTY files (conpty.node, conpty.dll, OpenConsole.exe) inside: PE32+ x86-64, nothing imported
//     that Windows lacks. Not run: no Windows here, and Debian's wine stops Node 24 at start.
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  archiveName,
  buildRelease,
  buildReleaseArchive,
  isolatedPath,
  KREW_ARCH,
  KREW_OS,
  krewTools,
  krewToolsUnavailable,
  PLATFORMS,
  removeTempDirs,
  REPO,
  run,
  tempDir,
  unpack,
  validateManifest,
  VERSION,
  which,
  type Platform,
} from './artifacts';
import { readPe } from './pe';
import { describeIfAvailable } from '../../support/suite-gate';

const KUBECTL = which('kubectl');
const suite = describeIfAvailable('test/integration/packaging/release.test.ts', !KUBECTL ? 'no kubectl on PATH' : krewToolsUnavailable() ?? '', 'krew is built from the Go module proxy by the packaging tests');
const exeOf = (p: Platform) => (p.os === 'windows' ? 'kubectl-ephemeral.exe' : 'kubectl-ephemeral');
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');
const SEA_FUSE_ON = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2:1';

/** The native files table the build embedded (scripts/sea/native-addon.cjs's NATIVE). */
function nativeTable(exe: Buffer, p: Platform): { dir: string; files: Array<{ name: string; size: number; mode: number; sha256: string }> } {
  const plat = p.os === 'windows' ? 'win32' : p.os;
  const arch = p.arch === 'amd64' ? 'x64' : p.arch;
  const m = exe.toString('latin1').match(new RegExp(`\\{dir:"(native-${plat}-${arch}-[0-9a-f]{16})",files:\\[([^\\]]*)\\]\\}`));
  if (!m) throw new Error(`no native table for ${plat}-${arch} in the executable`);
  const files = [...m[2]!.matchAll(/\{name:"([^"]+)",size:(\d+),mode:(\d+),sha256:"([0-9a-f]{64})"\}/g)].map((f) => ({ name: f[1]!, size: Number(f[2]), mode: Number(f[3]), sha256: f[4]! }));
  return { dir: m[1]!, files };
}

/** Mach-O 64-bit: its CPU type (0x01000007 x86_64, 0x0100000c arm64) and file type (2 executable, 8 bundle). */
function machO(buf: Buffer): { cpu: number; type: number } {
  expect(buf.readUInt32LE(0)).toBe(0xfeedfacf);
  return { cpu: buf.readUInt32LE(4), type: buf.readUInt32LE(12) };
}
const MACHO_CPU = { amd64: 0x01000007, arm64: 0x0100000c } as const;
/** IMAGE_FILE_MACHINE_AMD64. */
const PE_AMD64 = 0x8664;

suite('the release: five archives and the manifest from one command', () => {
  let tools: string;
  let release: ReturnType<typeof buildRelease>;
  let home: string;

  /** A user's environment: krew's bin and kubectl on PATH, no node; KREW_OS/ARCH pick the platform. */
  const krewEnv = (root: string, p: { os: string; arch: string } = { os: KREW_OS, arch: KREW_ARCH }): NodeJS.ProcessEnv => ({
    PATH: `${join(root, 'bin')}:${isolatedPath({ kubectl: KUBECTL!, 'kubectl-krew': join(tools, 'kubectl-krew') })}`,
    HOME: home,
    KREW_ROOT: root,
    KREW_NO_UPGRADE_CHECK: '1',
    KREW_OS: p.os,
    KREW_ARCH: p.arch,
    KUBECONFIG: join(home, 'no-such-kubeconfig'),
  });
  const kubectl = (args: string[], env: NodeJS.ProcessEnv) => run(KUBECTL!, args, { env, cwd: home });

  beforeAll(() => {
    tools = krewTools();
    release = buildRelease();
    home = tempDir('home');
  }, 1_800_000);

  afterAll(removeTempDirs);

  describe('the manifest', () => {
    it('carries each archive\'s real sha256 (the one in its .sha256 file), none zero', () => {
      const text = readFileSync(release.manifest, 'utf8');
      for (const p of PLATFORMS) {
        const archive = release.archive(p);
        const sha = sha256(readFileSync(archive));
        expect(readFileSync(`${archive}.sha256`, 'utf8')).toBe(`${sha}  ${archiveName(p)}\n`);
        expect(text).toContain(`os: ${p.os}\n        arch: ${p.arch}\n    uri: https://github.com/kubectl-ephemeral/kubectl-ephemeral/releases/download/${VERSION}/${archiveName(p)}\n    sha256: "${sha}"\n`);
      }
      expect(text).not.toContain('0'.repeat(64));
    });

    it('passes validate-krew-manifest, and so does the committed krew-manifest.yaml (no zero sha256 left in it)', () => {
      const r = validateManifest(tools, release.manifest);
      expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: expect.stringContaining('no overlapping spec.platform[].selector') });
      const committed = join(REPO, 'krew-manifest.yaml');
      expect(readFileSync(committed, 'utf8')).toContain(`version: ${VERSION}\n`);
      expect(readFileSync(committed, 'utf8')).not.toContain('0'.repeat(64));
      expect(validateManifest(tools, committed).status).toBe(0);
    });

    it('its caveats point to `kubectl ephemeral permissions` and the completion copy, not to files of a checkout', () => {
      const caveats = readFileSync(release.manifest, 'utf8').split('  caveats: |\n')[1]!.split('  platforms:')[0]!;
      expect(caveats).toContain('kubectl ephemeral permissions -o yaml');
      expect(caveats).toContain(`cp "\${KREW_ROOT:-$HOME/.krew}"/store/ephemeral/${VERSION}/kubectl_complete-ephemeral \\`);
      expect(caveats).not.toMatch(/scripts\//);
      // One completion story: the README gives the same copy, on one line.
      const copy = /cp "\$\{KREW_ROOT[^\n]*\\\n\s+"\$\{KREW_ROOT:-\$HOME\/\.krew\}"\/bin\//.exec(caveats)![0].replace(/\\\n\s+/, '');
      expect(readFileSync(join(REPO, 'README.md'), 'utf8')).toContain(`\n${copy}\n`);
    });
  });

  describe.each(PLATFORMS.map((p) => [`${p.os}/${p.arch}`, p] as const))('%s: kubectl krew install --archive', (_name, p) => {
    it('installs it (KREW_OS/KREW_ARCH), links the binary into $KREW_ROOT/bin and keeps the completion launcher in the store', () => {
      const root = tempDir(`krew-${p.os}-${p.arch}`);
      const r = kubectl(['krew', 'install', `--manifest=${release.manifest}`, `--archive=${release.archive(p)}`], krewEnv(root, p));
      expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: expect.stringContaining('Installed plugin: ephemeral') });
      const store = join(root, 'store', 'ephemeral', VERSION);
      const expected = [exeOf(p), 'LICENSE', 'README.md', ...(p.os === 'windows' ? [] : ['kubectl_complete-ephemeral'])];
      for (const f of expected) expect(existsSync(join(store, f))).toBe(true);
      if (p.os !== 'windows') for (const f of [exeOf(p), 'kubectl_complete-ephemeral']) expect(statSync(join(store, f)).mode & 0o111).toBe(0o111);
      // krew links `bin:` only (kubectl-ephemeral, .exe on Windows): never the completion launcher.
      expect(existsSync(join(root, 'bin', exeOf(p)))).toBe(true);
      expect(existsSync(join(root, 'bin', 'kubectl_complete-ephemeral'))).toBe(false);
    });
  });

  describe(`${KREW_OS}/${KREW_ARCH} (this machine): installed by krew and run by kubectl`, () => {
    let root: string;
    let env: NodeJS.ProcessEnv;
    beforeAll(() => {
      root = tempDir('krew-root');
      env = krewEnv(root);
      const r = kubectl(['krew', 'install', `--manifest=${release.manifest}`, `--archive=${release.archive({ os: KREW_OS, arch: KREW_ARCH } as Platform)}`], env);
      if (r.status !== 0) throw new Error(r.stderr);
    });

    it('kubectl plugin list finds it; --version prints the package version with no node on PATH', () => {
      expect(kubectl(['plugin', 'list'], env).stdout).toContain(join(root, 'bin', 'kubectl-ephemeral'));
      const r = kubectl(['ephemeral', '--version'], env);
      expect({ status: r.status, stdout: r.stdout.trim(), stderr: r.stderr }).toEqual({ status: 0, stdout: VERSION, stderr: '' });
    });

    it('kubectl ephemeral presets and permissions work with no checkout', () => {
      const presets = kubectl(['ephemeral', 'presets'], env);
      expect(presets.status).toBe(0);
      for (const preset of ['network', 'forensics', 'crashloop']) expect(presets.stdout).toMatch(new RegExp(`^${preset}\\b`, 'm'));
      const perms = kubectl(['ephemeral', 'permissions', '-o', 'yaml'], env);
      expect(perms.status).toBe(0);
      expect(perms.stdout).toContain('kind: ClusterRole\nmetadata:\n  name: kubectl-ephemeral-debugger\n');
    });

    it('completion: the launcher copied from the store next to the plugin (the caveats\' step) completes through kubectl', () => {
      copyFileSync(join(root, 'store', 'ephemeral', VERSION, 'kubectl_complete-ephemeral'), join(root, 'bin', 'kubectl_complete-ephemeral'));
      const lines = kubectl(['__complete', 'ephemeral', ''], env).stdout.trim().split('\n');
      expect(lines).toEqual(expect.arrayContaining(['network', 'net', 'forensics', 'presets', 'attach', 'permissions']));
      expect(lines[lines.length - 1]).toBe(':4');
      expect(kubectl(['__complete', 'ephemeral', 'pre'], env).stdout.trim().split('\n')).toEqual(['presets', ':4']);
      // The copy runs the kubectl-ephemeral beside it (krew's link, remade on every install), not
      // the store's version directory: it works with the store's launcher gone.
      rmSync(join(root, 'store', 'ephemeral', VERSION, 'kubectl_complete-ephemeral'));
      expect(kubectl(['__complete', 'ephemeral', 'pre'], env).stdout.trim().split('\n')).toEqual(['presets', ':4']);
    });

    it('refuses an archive whose sha256 does not match the manifest, and installs nothing', () => {
      const bad = join(tempDir('manifest-bad'), 'krew-manifest.yaml');
      const text = readFileSync(release.manifest, 'utf8');
      const tampered = text.replace(new RegExp(`(os: ${KREW_OS}\\n\\s+arch: ${KREW_ARCH}\\n[^\\n]*\\n\\s+sha256: )"[0-9a-f]{64}"`), `$1"${'f'.repeat(64)}"`);
      expect(tampered).not.toBe(text);
      writeFileSync(bad, tampered);
      const other = tempDir('krew-root-bad');
      const r = kubectl(['krew', 'install', `--manifest=${bad}`, `--archive=${release.archive({ os: KREW_OS, arch: KREW_ARCH } as Platform)}`], krewEnv(other));
      expect(r.status).not.toBe(0);
      expect(r.stderr).toMatch(/checksum does not match|sha256/i);
      expect(existsSync(join(other, 'bin', 'kubectl-ephemeral'))).toBe(false);
    });
  });

  describe('every executable: a single executable of the release runtime with its SEA blob', () => {
    it.each(PLATFORMS.map((p) => [`${p.os}/${p.arch}`, p] as const))('%s: the SEA fuse is on and the blob names the plugin version and its platform\'s native files', (_n, p) => {
      const exe = readFileSync(join(unpack(release.archive(p)), exeOf(p)));
      expect(exe.includes(SEA_FUSE_ON)).toBe(true);
      expect(exe.includes(`"${VERSION}"`)).toBe(true);
      expect(nativeTable(exe, p).dir).toMatch(/^native-/);
    });
  });

  describe('reproducible: the same commit built again, in another directory, gives the same archive', () => {
    // The tar.gz of this machine's platform and the zip (the two archive paths of release.sh);
    // darwin's ad hoc signature and the cross-built ones were found identical too (docs/development.md).
    it.each([['linux', 'amd64'], ['windows', 'amd64']] as const)('%s/%s: the same sha256', (os, arch) => {
      const again = buildReleaseArchive({ os, arch });
      expect(sha256(readFileSync(again.archive))).toBe(sha256(readFileSync(release.archive({ os, arch }))));
    }, 900_000);
  });

  describe('linux/arm64', () => {
    let dir: string;
    let exe: Buffer;
    const qemu = () => {
      const r = run('bash', [join(REPO, 'scripts/sea/host-tools.sh'), 'qemu'], { timeoutMs: 600_000 });
      if (r.status !== 0) throw new Error(r.stderr);
      return which('qemu-aarch64-static')!;
    };
    beforeAll(() => {
      dir = unpack(release.archive({ os: 'linux', arch: 'arm64' }));
      exe = readFileSync(join(dir, 'kubectl-ephemeral'));
    });

    it('is an aarch64 ELF executable carrying an aarch64 pty.node', () => {
      expect(exe.subarray(0, 4).toString('latin1')).toBe('\x7fELF');
      expect(exe.readUInt16LE(18)).toBe(0xb7); // EM_AARCH64
      const [pty] = nativeTable(exe, { os: 'linux', arch: 'arm64' }).files;
      expect(pty).toMatchObject({ name: 'pty.node', mode: 0o755 });
      const start = exe.indexOf(Buffer.from('\x7fELF', 'latin1'), 64);
      // The addon travels verbatim: find it by its hash among the ELF images inside.
      let found: Buffer | undefined;
      for (let at = start; at >= 0 && !found; at = exe.indexOf(Buffer.from('\x7fELF', 'latin1'), at + 1)) {
        const candidate = exe.subarray(at, at + pty!.size);
        if (sha256(candidate) === pty!.sha256) found = candidate;
      }
      expect(found?.readUInt16LE(18)).toBe(0xb7);
    });

    it('runs under qemu-user with no node: --version, presets and permissions', () => {
      const bin = qemu();
      const env = { PATH: isolatedPath({}), HOME: tempDir('arm64-home'), QEMU_LD_PREFIX: '/usr/aarch64-linux-gnu' };
      const version = run(bin, [join(dir, 'kubectl-ephemeral'), '--version'], { env, timeoutMs: 120_000 });
      expect({ status: version.status, stdout: version.stdout.trim(), stderr: version.stderr }).toEqual({ status: 0, stdout: VERSION, stderr: '' });
      const presets = run(bin, [join(dir, 'kubectl-ephemeral'), 'presets'], { env, timeoutMs: 120_000 });
      expect(presets.stdout).toMatch(/^network\b/m);
      expect(run(bin, [join(dir, 'kubectl-ephemeral'), 'permissions'], { env, timeoutMs: 120_000 }).stdout).toMatch(/^CLUSTERROLE /);
    }, 300_000);
  });

  describe.each([['amd64'], ['arm64']] as const)('darwin/%s', (arch) => {
    let exe: Buffer;
    let file: string;
    beforeAll(() => {
      file = join(unpack(release.archive({ os: 'darwin', arch })), 'kubectl-ephemeral');
      exe = readFileSync(file);
    });

    it('is a Mach-O executable for that architecture with the NODE_SEA segment', () => {
      expect(machO(exe)).toEqual({ cpu: MACHO_CPU[arch], type: 2 });
      expect(exe.includes(Buffer.from('NODE_SEA\0', 'latin1'))).toBe(true);
    });

    it('its ad hoc signature checks out (rcodesign): every code page digest matches, and one changed byte is caught', () => {
      const rcodesign = run('bash', [join(REPO, 'scripts/sea/host-tools.sh'), 'rcodesign'], { timeoutMs: 1_200_000 }).stdout.trim().split('\n').pop()!;
      const info = run(rcodesign, ['print-signature-info', file], { timeoutMs: 120_000 }).stdout;
      expect(info).toContain('flags: CodeSignatureFlags(ADHOC)');
      expect(info).toContain('identifier: kubectl-ephemeral');
      // The signature covers the whole file up to itself.
      expect(/signed_entity_size: (\d+)/.exec(info)![1]).toBe(/macho_signature_start_offset: (\d+)/.exec(info)![1]);
      // rcodesign 0.29's verify cannot parse the empty CMS blob every ad hoc signature carries
      // (Apple's codesign writes the same): that is the one problem it may report, no digest one.
      const problems = (r: { stdout: string; stderr: string }) =>
        `${r.stdout}${r.stderr}`.split('\n').filter((l) => l && !/known to be buggy|^Error: problems reported during verification$/.test(l));
      expect(problems(run(rcodesign, ['verify', file], { timeoutMs: 120_000 }))).toEqual(['CMS error: missing further values (at position 0)']);
      const tampered = join(tempDir('tampered'), 'kubectl-ephemeral');
      const copy = Buffer.from(exe);
      copy.writeUInt8(copy.readUInt8(0x10000) ^ 0xff, 0x10000); // inside __TEXT, a signed code page
      writeFileSync(tampered, copy);
      expect(problems(run(rcodesign, ['verify', tampered], { timeoutMs: 120_000 }))).toEqual(expect.arrayContaining([expect.stringMatching(/^code digest mismatch for entry \d+/)]));
    }, 1_300_000);

    it('carries node-pty\'s pty.node and spawn-helper for darwin-' + arch + ', written executable beside each other, loadable by that runtime', () => {
      const { files } = nativeTable(exe, { os: 'darwin', arch });
      expect(files.map((f) => [f.name, f.mode])).toEqual([['pty.node', 0o755], ['spawn-helper', 0o755]]);
      const prebuilds = join(REPO, 'node_modules', 'node-pty', 'prebuilds', `darwin-${arch === 'amd64' ? 'x64' : 'arm64'}`);
      for (const f of files) {
        const built = readFileSync(join(prebuilds, f.name));
        expect(sha256(built)).toBe(f.sha256);
        expect(exe.includes(built)).toBe(true);
        // Same architecture as the runtime; an addon is a bundle (8), the helper an executable (2).
        expect(machO(built)).toEqual({ cpu: MACHO_CPU[arch], type: f.name === 'pty.node' ? 8 : 2 });
      }
    });
  });

  describe('windows/amd64', () => {
    let exe: Buffer;
    beforeAll(() => {
      exe = readFileSync(join(unpack(release.archive({ os: 'windows', arch: 'amd64' })), 'kubectl-ephemeral.exe'));
    });

    it('is a PE32+ x86-64 console executable with the NODE_SEA_BLOB resource and no stale Authenticode signature', () => {
      // Data directory 4, the certificate table: dropped before injecting (it would no longer match).
      expect(readPe(exe)).toMatchObject({ machine: PE_AMD64, magic: 0x20b, dll: false, subsystem: 3, certificate: [0, 0] });
      expect(exe.includes(Buffer.from('NODE_SEA_BLOB', 'utf16le'))).toBe(true);
    });

    it("carries node-pty's ConPTY files for win32-x64 as the addon finds them: conpty.node, conpty\\conpty.dll beside it, OpenConsole.exe beside that", () => {
      const { files } = nativeTable(exe, { os: 'windows', arch: 'amd64' });
      // Written to the cache under these names (scripts/sea/native-addon.cjs): conpty.node loads
      // conpty\\conpty.dll from its own directory, which starts OpenConsole.exe from its own.
      expect(files.map((f) => f.name)).toEqual(['conpty.node', 'conpty/conpty.dll', 'conpty/OpenConsole.exe']);
      const prebuilds = join(REPO, 'node_modules', 'node-pty', 'prebuilds', 'win32-x64');
      for (const f of files) {
        const built = readFileSync(join(prebuilds, f.name));
        expect(sha256(built)).toBe(f.sha256);
        expect(exe.includes(built)).toBe(true);
        const image = readPe(built);
        expect({ file: f.name, machine: image.machine, dll: image.dll }).toEqual({ file: f.name, machine: PE_AMD64, dll: f.name !== 'conpty/OpenConsole.exe' });
        // Nothing a Windows machine may lack: no static node.exe (the host is kubectl-ephemeral.exe),
        // no Visual C++ runtime DLL.
        expect(image.imports.filter((d) => /^(node\.exe|vcruntime|msvcp)/i.test(d))).toEqual([]);
      }
      // The addon reaches N-API through a delay-loaded node.exe, which node-gyp's hook resolves to
      // whatever executable loaded it: the renamed runtime loads it as node.exe would.
      expect(readPe(readFileSync(join(prebuilds, 'conpty.node'))).delayImports).toEqual(['node.exe']);
    });

    it('runs node-pty through the ConPTY DLL: neither winpty nor the console-list helper is carried', () => {
      expect(exe.toString('latin1')).toMatch(/useConpty:(!0|true),useConptyDll:(!0|true)/); // src/terminal/pty-loader.ts, minified
      for (const absent of ['pty.node', 'winpty.dll', 'winpty-agent.exe', 'conpty_console_list.node'])
        expect(nativeTable(exe, { os: 'windows', arch: 'amd64' }).files.map((f) => f.name)).not.toContain(absent);
      expect(readFileSync(release.manifest, 'utf8')).toContain('On Windows the session runs through ConPTY');
    });
  });
});
