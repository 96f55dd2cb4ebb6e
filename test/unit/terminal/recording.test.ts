import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AsciicastWriter, checkRecordingTarget, defaultRecordingFileName, defaultSessionsDir, sessionsDirProblem } from '../../../src/terminal/recording';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'recording-test-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const header = { namespace: 'shop', pod: 'web-1', container: 'dbg' };
const events = (file: string) => readFileSync(file, 'utf8').trimEnd().split('\n').slice(1).map((l) => JSON.parse(l) as [number, string, string]);

describe('defaultSessionsDir', () => {
  it.each([
    [{ XDG_STATE_HOME: '/state' }, '/state/kubectl-ephemeral/sessions'],
    [{}, '/home/u/.local/state/kubectl-ephemeral/sessions'],
    // The XDG spec: a relative path in the variable is invalid and ignored.
    [{ XDG_STATE_HOME: 'rel' }, '/home/u/.local/state/kubectl-ephemeral/sessions'],
  ])('%j -> %s', (env, expected) => {
    expect(defaultSessionsDir(env, '/home/u')).toBe(expected);
  });
});

describe('defaultRecordingFileName', () => {
  it('starts with the UTC time so names sort by start, and keeps only safe characters', () => {
    expect(defaultRecordingFileName('web-1', 'dbg/x y', new Date('2025-03-04T05:06:07.890Z'))).toBe('2025-03-04T050607Z_web-1_dbg_x_y.cast');
  });
});

describe('AsciicastWriter', () => {
  it('keeps a UTF-8 character split across chunks whole', async () => {
    const file = join(dir, 'a.cast');
    const w = AsciicastWriter.open({ file, header, input: true }, { cols: 80, rows: 24 });
    const euro = Buffer.from('€', 'utf8');
    w.output(euro.subarray(0, 1));
    w.output(Buffer.concat([euro.subarray(1), Buffer.from('!')]));
    w.input(Buffer.from('é', 'utf8').subarray(0, 1));
    await w.close();
    // The dangling input byte is flushed at close as a replacement character rather than lost.
    expect(events(file).map((e) => [e[1], e[2]])).toEqual([['o', '€!'], ['i', '\ufffd']]);
  });

  it('writes a header players accept and escapes control characters', async () => {
    const file = join(dir, 'b.cast');
    const clock = { now: () => new Date(1_700_000_000_123), monotonicNs: () => 0n };
    const w = AsciicastWriter.open({ file, header: { ...header, title: 'custom' } }, { cols: 132, rows: 43 }, { TERM: 'xterm', SHELL: '/bin/zsh' }, clock);
    w.output('\x1b[31mred\x1b[0m\r\n"q"');
    w.resize({ cols: 100, rows: 50 });
    await w.close();
    const [first] = readFileSync(file, 'utf8').split('\n');
    expect(JSON.parse(first!)).toEqual({
      version: 2,
      width: 132,
      height: 43,
      timestamp: 1_700_000_000,
      title: 'custom',
      env: { TERM: 'xterm', SHELL: '/bin/zsh' },
      kubectl_ephemeral: { cluster: null, context: null, namespace: 'shop', pod: 'web-1', container: 'dbg', preset: null, image: null, user: null },
    });
    expect(events(file).map((e) => [e[1], e[2]])).toEqual([['o', '\x1b[31mred\x1b[0m\r\n"q"'], ['r', '100x50']]);
  });

  it('creates the file 0600 and missing directories 0700, and never overwrites', async () => {
    const file = join(dir, 'x', 'y', 'c.cast');
    const w = AsciicastWriter.open({ file, header }, { cols: 80, rows: 24 });
    await w.close();
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'x', 'y')).mode & 0o777).toBe(0o700);
    expect(() => AsciicastWriter.open({ file, header }, { cols: 80, rows: 24 })).toThrow(/EEXIST/);
  });

  it('refuses to follow a file planted at the path', () => {
    const file = join(dir, 'd.cast');
    writeFileSync(file, 'someone else\n');
    expect(() => AsciicastWriter.open({ file, header }, { cols: 80, rows: 24 })).toThrow(/EEXIST/);
    expect(readFileSync(file, 'utf8')).toBe('someone else\n');
  });

  it('keeps output only unless asked for input: a password typed with echo off stays out', async () => {
    const file = join(dir, 'f.cast');
    const w = AsciicastWriter.open({ file, header }, { cols: 80, rows: 24 });
    w.output('Password: ');
    w.input('hunter2\r');
    w.output('\r\nok\r\n');
    await w.close();
    expect(events(file).map((e) => [e[1], e[2]])).toEqual([['o', 'Password: '], ['o', '\r\nok\r\n']]);
    expect(readFileSync(file, 'utf8')).not.toContain('hunter2');
  });

  it('stamps each event with its time from the start, in seconds, from the monotonic clock', async () => {
    const file = join(dir, 'e.cast');
    const ticks = [5_000_000_000n, 5_000_000_000n, 5_030_000_000n, 7_250_000_000n];
    const clock = { now: () => new Date(1_700_000_000_000), monotonicNs: () => ticks.shift()! };
    const w = AsciicastWriter.open({ file, header, input: true }, { cols: 80, rows: 24 }, {}, clock);
    w.output('a');
    w.input('b');
    w.resize({ cols: 90, rows: 30 });
    await w.close();
    expect(readFileSync(file, 'utf8').trimEnd().split('\n').slice(1)).toEqual(['[0.000000, "o", "a"]', '[0.030000, "i", "b"]', '[2.250000, "r", "90x30"]']);
  });
});

describe('the sessions directory must be the user\'s own', () => {
  const sessions = () => join(dir, 'kubectl-ephemeral', 'sessions');
  const make = (mode: number) => {
    mkdirSync(sessions(), { recursive: true, mode: 0o700 });
    chmodSync(sessions(), mode);
  };
  const me = process.getuid!();

  it('absent (it is created 0700) or 0700 and owned: fine', () => {
    expect(sessionsDirProblem(sessions())).toBeUndefined();
    make(0o700);
    expect(sessionsDirProblem(sessions())).toBeUndefined();
  });

  it.each([
    [0o777, 'is writable by its group and everyone (mode 0777)'],
    [0o775, 'is writable by its group (mode 0775)'],
    [0o703, 'is writable by everyone (mode 0703)'],
  ])('mode %o: refused', (mode, problem) => {
    make(mode);
    expect(sessionsDirProblem(sessions())).toBe(`${sessions()} ${problem}`);
  });

  it('a symlink, a file, another owner, or a parent writable by others: refused', () => {
    mkdirSync(join(dir, 'elsewhere'));
    mkdirSync(join(dir, 'kubectl-ephemeral'), { mode: 0o700 });
    symlinkSync(join(dir, 'elsewhere'), sessions());
    expect(sessionsDirProblem(sessions())).toBe(`${sessions()} is a symlink`);
    rmSync(sessions());
    writeFileSync(sessions(), '');
    expect(sessionsDirProblem(sessions())).toBe(`${sessions()} is not a directory`);
    rmSync(sessions());
    make(0o700);
    expect(sessionsDirProblem(sessions(), me + 1)).toBe(`${sessions()} belongs to uid ${me}, not to you (uid ${me + 1})`);
    chmodSync(join(dir, 'kubectl-ephemeral'), 0o777);
    expect(sessionsDirProblem(sessions())).toBe(`${join(dir, 'kubectl-ephemeral')} is writable by its group and everyone (mode 0777)`);
  });

  it('checkRecordingTarget: the default directory is checked (exit 78), and so is opening a recording in it', () => {
    const env = { XDG_STATE_HOME: dir };
    make(0o777);
    expect(() => checkRecordingTarget(true, env)).toThrow(
      expect.objectContaining({ kind: 'config', exitCode: 78, message: expect.stringMatching(/^the sessions directory is not safely yours: .* is writable by its group and everyone \(mode 0777\); make it yours alone/) }),
    );
    expect(() => AsciicastWriter.open({ file: join(sessions(), 'x.cast'), header }, { cols: 80, rows: 24 }, env)).toThrow(expect.objectContaining({ kind: 'config' }));
    chmodSync(sessions(), 0o700);
    expect(() => checkRecordingTarget(true, env)).not.toThrow();
  });

  it('checkRecordingTarget: --record=FILE that exists, or under a file, is a usage error (64) before anything is created', () => {
    const existing = join(dir, 'taken.cast');
    writeFileSync(existing, 'earlier session');
    expect(() => checkRecordingTarget(existing)).toThrow(
      expect.objectContaining({ kind: 'usage', exitCode: 64, message: `${existing} already exists; --record never overwrites a file: pass --record=FILE with a new file in a writable directory, or --no-record` }),
    );
    expect(() => checkRecordingTarget(join(existing, 'sub', 'x.cast'))).toThrow(expect.objectContaining({ kind: 'usage', message: `cannot record to ${join(existing, 'sub', 'x.cast')} (ENOTDIR); pass --record=FILE with a new file in a writable directory, or --no-record` }));
    expect(() => checkRecordingTarget(join(dir, 'new', 'deeper', 'x.cast'))).not.toThrow();
    expect(() => checkRecordingTarget(false)).not.toThrow();
    expect(readFileSync(existing, 'utf8')).toBe('earlier session');
  });
});
