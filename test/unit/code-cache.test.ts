import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { codeCacheDir, commandKind, runBundle, type Bundle } from '../../src/code-cache';

const MODULE = join(__dirname, '../../src/code-cache.ts');

/**
 * runBundle in a fresh Node process (V8 reuses a script compiled earlier in the same process and
 * never reads the cache then): whether it ran from the cache (no cache to save), and its exports.
 */
function runInFreshProcess(bundle: Bundle, cacheDir: string, kind = 'preset'): { fromCache: boolean; exports: unknown } {
  const script = `const { runBundle } = await import(${JSON.stringify(MODULE)}); const r = runBundle(${JSON.stringify(bundle)}, ${JSON.stringify(cacheDir)}, ${JSON.stringify(kind)}); r.saveCache?.(); process.stdout.write(JSON.stringify({ fromCache: !r.saveCache, exports: r.exports }));`;
  const p = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  if (p.status !== 0) throw new Error(p.stderr);
  return JSON.parse(p.stdout) as { fromCache: boolean; exports: unknown };
}

describe('runBundle (main run with a V8 code cache)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ke-code-cache-'));
  const cache = join(dir, 'cache');
  mkdirSync(cache, { mode: 0o700 });
  writeFileSync(join(dir, 'helper.cjs'), 'module.exports = 41;');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  // Enough functions that V8's cache of them is worth the name; the last line reports how it ran.
  const source = [
    '(function (exports, require, module, __filename, __dirname) {',
    ...Array.from({ length: 50 }, (_, i) => `function f${i}(x) { return x + ${i}; }`),
    'module.exports = { sum: f1(require("./helper.cjs")), file: __filename, dir: __dirname, self: this === exports };',
    '})',
  ].join('\n');
  const bundle = (buildHash: string): Bundle => ({ source, filename: join(dir, 'main.cjs'), buildHash });
  const files = () => readdirSync(cache).sort();

  it('runs the bundle as a CommonJS file: exports, this, __filename, __dirname and a require beside it', () => {
    expect(runBundle(bundle('a'.repeat(64)), undefined, 'preset').exports).toEqual({ sum: 42, file: join(dir, 'main.cjs'), dir, self: true });
  });

  it('saves a cache when there is none, runs from it next time, and a new build replaces it', () => {
    const first = runInFreshProcess(bundle('b'.repeat(64)), cache);
    expect(first).toEqual({ fromCache: false, exports: { sum: 42, file: join(dir, 'main.cjs'), dir, self: true } });
    const name = `main-${'b'.repeat(16)}-${process.version}-${process.arch}.v8`;
    expect(files()).toEqual([name]);
    expect(statSync(join(cache, name)).mode & 0o777).toBe(0o600);

    expect(runInFreshProcess(bundle('b'.repeat(64)), cache)).toEqual({ ...first, fromCache: true });
    expect(readFileSync(join(cache, name), 'utf8').split('\n')[0]).toBe('{"kinds":["preset"]}');
    // Another kind of command compiles other functions: its run adds them, once.
    expect(runInFreshProcess(bundle('b'.repeat(64)), cache, 'list').fromCache).toBe(false);
    expect(readFileSync(join(cache, name), 'utf8').split('\n')[0]).toBe('{"kinds":["preset","list"]}');
    expect(runInFreshProcess(bundle('b'.repeat(64)), cache, 'list').fromCache).toBe(true);
    expect(runInFreshProcess(bundle('b'.repeat(64)), cache, 'preset').fromCache).toBe(true);

    expect(runInFreshProcess(bundle('c'.repeat(64)), cache).fromCache).toBe(false);
    expect(files()).toEqual([`main-${'c'.repeat(16)}-${process.version}-${process.arch}.v8`]);
  });

  it('runs with a cache V8 refuses and saves a good one in its place', () => {
    writeFileSync(join(cache, `main-${'d'.repeat(16)}-${process.version}-${process.arch}.v8`), 'not a code cache');
    expect(runInFreshProcess(bundle('d'.repeat(64)), cache)).toMatchObject({ fromCache: false, exports: { sum: 42 } });
    expect(runInFreshProcess(bundle('d'.repeat(64)), cache).fromCache).toBe(true);
  });
});

describe('commandKind (which runs share what they compile)', () => {
  it.each([
    [['shell', 'web', '-n', 'shop'], 'preset'],
    [['-n', 'shop', 'list'], 'list'],
    [['attach', 'web', 'debugger-shell-x'], 'attach'],
    [['__complete', 'shell', ''], '__complete'],
    [['shell', 'web', '--', 'list'], 'preset'],
  ])('%j is %s', (args, kind) => expect(commandKind(args)).toBe(kind));
});

describe('codeCacheDir (where the code cache may live)', () => {
  const home = mkdtempSync(join(tmpdir(), 'ke-code-cache-home-'));
  afterAll(() => rmSync(home, { recursive: true, force: true }));

  it('is kubectl-ephemeral/code-cache under XDG_CACHE_HOME, made private', () => {
    const dir = codeCacheDir({ XDG_CACHE_HOME: join(home, 'xdg'), HOME: home });
    expect(dir).toBe(join(home, 'xdg', 'kubectl-ephemeral', 'code-cache'));
    expect(statSync(dir!).mode & 0o777).toBe(0o700);
  });

  it('is under HOME/.cache when XDG_CACHE_HOME is unset or relative (the XDG rule)', () => {
    expect(codeCacheDir({ XDG_CACHE_HOME: 'relative', HOME: home })).toBe(join(home, '.cache', 'kubectl-ephemeral', 'code-cache'));
  });

  it('is refused when another user could write there, or it is not a directory', () => {
    const open = join(home, 'open');
    mkdirSync(join(open, 'kubectl-ephemeral', 'code-cache'), { recursive: true });
    chmodSync(join(open, 'kubectl-ephemeral'), 0o777);
    expect(codeCacheDir({ XDG_CACHE_HOME: open, HOME: home })).toBeUndefined();
    // Nothing is made inside a directory others can write to.
    const openEmpty = join(home, 'open-empty');
    mkdirSync(join(openEmpty, 'kubectl-ephemeral'), { recursive: true });
    chmodSync(join(openEmpty, 'kubectl-ephemeral'), 0o777);
    expect(codeCacheDir({ XDG_CACHE_HOME: openEmpty, HOME: home })).toBeUndefined();
    expect(readdirSync(join(openEmpty, 'kubectl-ephemeral'))).toEqual([]);

    const linked = join(home, 'linked');
    mkdirSync(join(linked, 'kubectl-ephemeral'), { recursive: true, mode: 0o700 });
    symlinkSync(tmpdir(), join(linked, 'kubectl-ephemeral', 'code-cache'));
    expect(codeCacheDir({ XDG_CACHE_HOME: linked, HOME: home })).toBeUndefined();

    const file = join(home, 'file');
    mkdirSync(join(file, 'kubectl-ephemeral'), { recursive: true, mode: 0o700 });
    writeFileSync(join(file, 'kubectl-ephemeral', 'code-cache'), '');
    expect(codeCacheDir({ XDG_CACHE_HOME: file, HOME: home })).toBeUndefined();
  });
});
