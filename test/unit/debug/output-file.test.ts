import { existsSync, lstatSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createOutputFile } from '../../../src/debug/output-file';

describe('createOutputFile (what capture and collect write into)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ke-output-file-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('creates the file 0600 whatever the umask, and streams into it', async () => {
    const old = process.umask(0o277);
    try {
      const f = createOutputFile(join(dir, 'a.tar'), '-w');
      await new Promise<void>((resolve) => f.stream.end('bytes', () => resolve()));
      expect(statSync(join(dir, 'a.tar')).mode & 0o777).toBe(0o600);
      expect(readFileSync(join(dir, 'a.tar'), 'utf8')).toBe('bytes');
    } finally {
      process.umask(old);
    }
  });

  it.each([
    ['an existing file', () => writeFileSync(join(dir, 'b.tar'), 'keep'), 'b.tar', 'usage', `${join(dir, 'b.tar')} already exists; -w never overwrites a file: name a new one`],
    ['a symlink to nowhere', () => symlinkSync(join(dir, 'nowhere'), join(dir, 'c.tar')), 'c.tar', 'usage', `${join(dir, 'c.tar')} already exists; -w never overwrites a file: name a new one`],
    ['a missing directory', () => undefined, 'no/such/d.tar', 'not-found', `the directory of ${join(dir, 'no/such/d.tar')} does not exist; create it or name another -w file`],
  ])('refuses %s and touches nothing', (_name, prepare, name, kind, message) => {
    prepare();
    const before = existsSync(join(dir, name)) ? lstatSync(join(dir, name)) : undefined;
    expect(() => createOutputFile(join(dir, name), '-w')).toThrow(expect.objectContaining({ kind, message }));
    expect(existsSync(join(dir, 'nowhere'))).toBe(false);
    if (before) expect(lstatSync(join(dir, name)).mtimeMs).toBe(before.mtimeMs);
  });

  it('remove() deletes the file it created', () => {
    const f = createOutputFile(join(dir, 'e.tar'), '-w');
    f.remove();
    expect(existsSync(join(dir, 'e.tar'))).toBe(false);
  });
});
