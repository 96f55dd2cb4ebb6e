import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CollectArchive, type CollectHeader, type CollectSummary } from '../../../src/plan/collect-archive';

const header: CollectHeader = {
  cluster: 'local',
  context: 'debugger',
  namespace: 'shop',
  pod: 'web',
  podUid: '1234',
  container: 'app',
  image: 'shop/web:1',
  imageDigest: 'sha256:abc',
  node: 'node-1',
  time: '2025-12-01T10:00:00.000Z',
  user: 'alice',
  reason: 'INC-42',
  pluginVersion: 'v0.1.0',
  collector: { container: 'debugger-collect-abcde', image: 'busybox:1.36' },
  paths: ['/tmp'],
  environment: false,
  maxBytes: 1 << 20,
};

/** A stream as the collector writes it: header lines and raw payloads. */
const stream = (...parts: Array<string | Buffer>) => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : p)));
const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

function convert(input: Buffer, opts: { chunk?: number; maxBytes?: number; problem?: string } = {}): { tar: Buffer; summary: CollectSummary } {
  const out: Buffer[] = [];
  const archive = new CollectArchive({ ...header, maxBytes: opts.maxBytes ?? header.maxBytes }, (b) => out.push(Buffer.from(b)));
  const step = opts.chunk ?? input.length;
  for (let i = 0; i < input.length; i += step) archive.push(input.subarray(i, i + step));
  const summary = archive.finish(opts.problem);
  return { tar: Buffer.concat(out), summary };
}

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
/** Extracts with the system's tar (GNU tar reads what any user's tar would). */
function extract(tar: Buffer): string {
  const dir = mkdtempSync(join(tmpdir(), 'ke-collect-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'a.tar'), tar);
  execFileSync('tar', ['-xf', 'a.tar'], { cwd: dir });
  return dir;
}
const listing = (tar: Buffer) => {
  const dir = extract(tar);
  return execFileSync('tar', ['-tvf', join(dir, 'a.tar'), '--numeric-owner'], { encoding: 'utf8' });
};

const script = 'echo planted\n';
const binary = Buffer.from([0, 1, 2, 255, 10, 13, 0]);
const longName = `/tmp/${'deep/'.repeat(30)}f\u00e9`;
const sample = stream(
  'noise before the start\nKEC1\n',
  'I target-uid 0\nI collector-uid 0\n',
  'O 16 processes.tsv\n', 'PID\tCOMMAND\n1\ta\n',
  'D 41ed 0 0 1764496800 /tmp\n',
  `F ${script.length} 81ed 0 0 1764496800 /tmp/evil.sh\n`, script,
  `F ${binary.length} 8180 1000 1000 1764496801 /tmp/new\\nline \\\\ name\n`, binary,
  'L a1ff 0 0 1764496800 /tmp/link\n/etc/shadow\n',
  `F 3 81a4 0 0 1764496800 ${longName}\n`, 'abc',
  'C /tmp/evil.sh\n',
  'S special-file /tmp/fifo\n',
  'S max-size mountinfo\n',
  'E\n',
);

describe('CollectArchive', () => {
  it('writes a tar that tar reads: every member, mode, owner, mtime and symlink as sent, the manifest last', () => {
    const { tar } = convert(sample);
    expect(listing(tar).split('\n').filter(Boolean).map((l) => l.replace(/\s+/g, ' '))).toEqual([
      '-r--r--r-- 0/0 484 2025-12-01 10:00 evidence/header.json',
      '-r--r--r-- 0/0 16 2025-12-01 10:00 evidence/collected/processes.tsv',
      'drwxr-xr-x 0/0 0 2025-11-30 10:00 evidence/rootfs/tmp/',
      '-rwxr-xr-x 0/0 13 2025-11-30 10:00 evidence/rootfs/tmp/evil.sh',
      '-rw------- 1000/1000 7 2025-11-30 10:00 evidence/rootfs/tmp/new\\nline \\\\ name',
      'lrwxrwxrwx 0/0 0 2025-11-30 10:00 evidence/rootfs/tmp/link -> /etc/shadow',
      `-rw-r--r-- 0/0 3 2025-11-30 10:00 evidence/rootfs${longName}`,
      expect.stringMatching(/^-r--r--r-- 0\/0 \d+ 2025-12-01 10:00 evidence\/SHA256SUMS$/),
      expect.stringMatching(/^-r--r--r-- 0\/0 \d+ 2025-12-01 10:00 evidence\/manifest.json$/),
    ]);
  });

  it('holds the content byte for byte, and the manifest and SHA256SUMS hash what it holds', () => {
    const { tar, summary } = convert(sample);
    const dir = extract(tar);
    expect(readFileSync(join(dir, 'evidence/rootfs/tmp/evil.sh'), 'utf8')).toBe(script);
    expect(readFileSync(join(dir, 'evidence/rootfs/tmp/new\nline \\ name'))).toEqual(binary);
    const manifest = JSON.parse(readFileSync(join(dir, 'evidence/manifest.json'), 'utf8'));
    expect(manifest).toMatchObject({ format: 'kubectl-ephemeral-collect/v1', header, complete: true, collector: { 'target-uid': '0', 'collector-uid': '0' } });
    for (const e of manifest.entries.filter((x: any) => x.sha256)) expect(sha(readFileSync(join(dir, e.path)))).toBe(e.sha256);
    expect(manifest.entries.find((e: any) => e.path === 'evidence/rootfs/tmp/evil.sh')).toEqual({
      path: 'evidence/rootfs/tmp/evil.sh',
      source: '/tmp/evil.sh',
      type: 'file',
      size: 13,
      mode: '0755',
      uid: 0,
      gid: 0,
      mtime: '2025-11-30T10:00:00.000Z',
      sha256: sha(script),
      changedWhileRead: true,
    });
    expect(manifest.entries.find((e: any) => e.type === 'symlink')).toMatchObject({ source: '/tmp/link', linkTarget: '/etc/shadow' });
    expect(manifest.skipped).toEqual([
      { path: '/tmp/fifo', reason: 'special-file' },
      { path: 'evidence/collected/mountinfo', reason: 'max-size' },
    ]);
    expect(execFileSync('sha256sum', ['-c', 'evidence/SHA256SUMS'], { cwd: dir, encoding: 'utf8' })).toMatch(/evidence\/rootfs\/tmp\/evil.sh: OK/);
    expect(summary).toMatchObject({ complete: true, sha256: sha(tar), bytes: tar.length, contentBytes: 16 + 13 + 7 + 3 });
  });

  it('makes the same archive however the stream is cut into chunks', () => {
    const whole = convert(sample).tar;
    for (const chunk of [1, 2, 7, 511, 512, 513]) expect(sha(convert(sample, { chunk }).tar)).toBe(sha(whole));
  });

  it('holds --max-size even when the collector sends more, recording the skip, and keeps the framing', () => {
    const input = stream('KEC1\n', 'F 10 81a4 0 0 1 /tmp/a\n', '0123456789', 'F 10 81a4 0 0 1 /tmp/b\n', 'abcdefghij', 'F 2 81a4 0 0 1 /tmp/c\n', 'xy', 'E\n');
    const { tar, summary } = convert(input, { maxBytes: 12 });
    const dir = extract(tar);
    expect(readFileSync(join(dir, 'evidence/rootfs/tmp/a'), 'utf8')).toBe('0123456789');
    expect(readFileSync(join(dir, 'evidence/rootfs/tmp/c'), 'utf8')).toBe('xy');
    expect(summary.skipped).toEqual([{ path: '/tmp/b', reason: 'max-size' }]);
    expect(summary).toMatchObject({ complete: true, contentBytes: 12 });
  });

  it.each([
    ['a stream without its end', stream('KEC1\n', 'F 4 81a4 0 0 1 /tmp/a\n', 'ab'), undefined, 'the stream ended before the collector finished'],
    ['a stream cut by the caller', stream('KEC1\n'), 'interrupted (Ctrl-C or a signal)', 'interrupted (Ctrl-C or a signal)'],
    ['nothing at all', stream(''), undefined, 'the collector sent nothing'],
    ['a malformed record', stream('KEC1\n', 'Z what\n', 'F 1 81a4 0 0 1 /tmp/a\n', 'a', 'E\n'), undefined, 'malformed record from the collector: "Z what"'],
    ['a fatal record', stream('KEC1\n', 'I target-uid 1000\n', 'X unreadable-root\n'), undefined, 'the collector stopped: unreadable-root'],
  ])('marks %s incomplete and still ends a readable archive', (_name, input, problem, why) => {
    const { tar, summary } = convert(input, { problem });
    expect(summary).toMatchObject({ complete: false, problem: why });
    const manifest = JSON.parse(readFileSync(join(extract(tar), 'evidence/manifest.json'), 'utf8'));
    expect(manifest).toMatchObject({ complete: false, problem: why });
  });

  it('pads a member cut short to its declared size and says so', () => {
    const { tar, summary } = convert(stream('KEC1\n', 'F 4 81a4 0 0 1 /tmp/a\n', 'ab'));
    expect(readFileSync(join(extract(tar), 'evidence/rootfs/tmp/a'))).toEqual(Buffer.from('ab\0\0'));
    expect(summary.entries.find((e) => e.source === '/tmp/a')).toMatchObject({ changedWhileRead: true, sha256: sha(Buffer.from('ab\0\0')) });
    expect(summary.skipped).toEqual([{ path: 'evidence/rootfs/tmp/a', reason: 'stream-ended' }]);
  });

  it('never writes a member outside evidence/: dot-dot names are skipped, their bytes consumed', () => {
    const { tar, summary } = convert(stream('KEC1\n', 'F 3 81a4 0 0 1 /tmp/../../etc/x\n', 'bad', 'O 2 ../x\n', 'no', 'E\n'));
    expect(summary.skipped).toEqual([{ path: '/tmp/../../etc/x', reason: 'unsafe-name' }]);
    expect(summary).toMatchObject({ complete: false, problem: 'malformed record from the collector: "O 2 ../x"' });
    expect(listing(tar)).not.toMatch(/\.\./);
  });
});

