import { existsSync, lstatSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PluginError } from '../../../src/errors/plugin-error';
import { createPrivateFile } from '../../../src/output/private-file';

describe('createPrivateFile (capture -w)', () => {
  let dir = '';
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'ke-private-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const failure = (path: string): PluginError => {
    try {
      createPrivateFile(path, '-w');
    } catch (err) {
      return err as PluginError;
    }
    throw new Error('expected a failure');
  };

  it('creates a new file with mode 0600 and writes through its stream', async () => {
    const file = createPrivateFile(join(dir, 'out.pcap'), '-w');
    const stream = file.writeStream();
    await new Promise<void>((resolve) => stream.end('pcap', resolve));
    expect(statSync(file.path).mode & 0o777).toBe(0o600);
    expect(readFileSync(file.path, 'utf8')).toBe('pcap');
  });

  it('refuses a symlink and leaves the file it points to untouched', () => {
    const victim = join(dir, 'victim');
    writeFileSync(victim, 'precious', { mode: 0o644 });
    symlinkSync(victim, join(dir, 'link.pcap'));
    const err = failure(join(dir, 'link.pcap'));
    expect({ kind: err.kind, exit: err.exitCode, message: err.message }).toEqual({
      kind: 'cannot-create',
      exit: 73,
      message: `${join(dir, 'link.pcap')} is a symlink; -w writes only a new file and never follows links: choose another path`,
    });
    expect(readFileSync(victim, 'utf8')).toBe('precious');
    expect(statSync(victim).mode & 0o777).toBe(0o644);
  });

  it('refuses a dangling symlink (nothing is created where it points)', () => {
    symlinkSync(join(dir, 'planted'), join(dir, 'dangling.pcap'));
    expect(failure(join(dir, 'dangling.pcap')).message).toMatch(/is a symlink/);
    expect(existsSync(join(dir, 'planted'))).toBe(false);
  });

  it('never overwrites an existing file', () => {
    writeFileSync(join(dir, 'old.pcap'), 'old');
    expect(failure(join(dir, 'old.pcap')).message).toBe(`${join(dir, 'old.pcap')} already exists; -w never overwrites a file: remove it or choose another path`);
    expect(readFileSync(join(dir, 'old.pcap'), 'utf8')).toBe('old');
  });

  it('names a missing directory in one line', () => {
    const err = failure(join(dir, 'nope', 'out.pcap'));
    expect(err.message).toBe(`directory ${join(dir, 'nope')} does not exist; create it or choose another path for -w`);
    expect(err.exitCode).toBe(73);
  });

  it('remove() deletes the file it created, once, and leaves a file put in its place alone', async () => {
    const file = createPrivateFile(join(dir, 'a.pcap'), '-w');
    file.remove();
    file.remove();
    expect(existsSync(file.path)).toBe(false);

    const other = createPrivateFile(join(dir, 'b.pcap'), '-w');
    rmSync(other.path);
    writeFileSync(other.path, 'someone else');
    other.remove();
    expect(readFileSync(other.path, 'utf8')).toBe('someone else');
    expect(lstatSync(other.path).isFile()).toBe(true);
  });
});
