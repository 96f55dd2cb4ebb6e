// Recordings on the real node keep what the shell printed, and what was typed only when asked: a
// password read with echo off never reaches the file unless --record-input says so.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { deleteTestNamespace, getPod } from '../../support/cluster';
import { describeOnRealNode, inTerminal, sampleAppNamespace } from '../../support/terminal-session';

jest.setTimeout(120_000);

const SECRET = 'hunter2-s3cret';

function events(file: string): Array<[number, string, string]> {
  return readFileSync(file, 'utf8').trimEnd().split('\n').slice(1).map((l) => JSON.parse(l) as [number, string, string]);
}

describeOnRealNode(__filename)('recorded sessions', () => {
  let ns = '';

  beforeAll(async () => {
    ns = await sampleAppNamespace('e2e-recording');
  });
  afterAll(() => {
    if (ns) deleteTestNamespace(ns);
  });

  async function typePassword(t: Parameters<Parameters<typeof inTerminal>[1]>[0]): Promise<void> {
    // busybox read -s turns echo off, as a password prompt does.
    const since = t.mark();
    t.type('read -s -p "Password: " PW\r');
    await t.waitFor('Password: ', { since, what: 'the password prompt' });
    t.type(`${SECRET}\r`);
    expect(await t.command('echo "length=${#PW}"')).toMatch(new RegExp(`^length=${SECRET.length}$`, 'm'));
  }

  it('--record: said at the start, output kept, the password typed with echo off is not in the file', () =>
    inTerminal({}, async (t) => {
      const file = join(t.home, 'out-only.cast');
      await t.runPlugin(['shell', 'web', '-n', ns, '--context', 'debugger', `--record=${file}`]);
      await t.waitFor(`this session is recorded to ${file} (output only; --record-input adds keystrokes)\n`, { timeoutMs: 60_000 });
      await t.waitForShell();
      await typePassword(t);
      expect(await t.endPlugin('exit')).toBe(0);
      const all = events(file);
      expect(all.filter((e) => e[1] === 'i')).toEqual([]);
      const printed = all.filter((e) => e[1] === 'o').map((e) => e[2]).join('');
      expect(printed).toContain(`length=${SECRET.length}`);
      expect(readFileSync(file, 'utf8')).not.toContain(SECRET);
    }));

  it('--record-input: keystrokes too, the password included, as announced', () =>
    inTerminal({}, async (t) => {
      const file = join(t.home, 'with-input.cast');
      await t.runPlugin(['shell', 'web', '-n', ns, '--context', 'debugger', `--record=${file}`, '--record-input']);
      await t.waitFor(`this session is recorded to ${file} (output and keystrokes)\n`, { timeoutMs: 60_000 });
      await t.waitForShell();
      await typePassword(t);
      expect(await t.endPlugin('exit')).toBe(0);
      const typed = events(file).filter((e) => e[1] === 'i').map((e) => e[2]).join('');
      expect(typed).toContain(`${SECRET}\r`);
    }));

  it('a recording file that exists already: one line, exit 64, before any container is created (issue 25)', () =>
    inTerminal({}, async (t) => {
      const file = join(t.home, 'taken.cast');
      await t.command(`echo someone-else > ${file}`);
      const before = (getPod(ns, 'web').spec.ephemeralContainers ?? []).length;
      await t.runPlugin(['shell', 'web', '-n', ns, '--context', 'debugger', `--record=${file}`]);
      expect(await t.pluginExit(60_000)).toBe(64);
      expect(t.text()).toContain(`error: ${file} already exists; --record never overwrites a file: pass --record=FILE with a new file in a writable directory, or --no-record\n`);
      expect(readFileSync(file, 'utf8')).toBe('someone-else\n');
      expect((getPod(ns, 'web').spec.ephemeralContainers ?? []).length).toBe(before);
      await t.expectCookedMode();
    }));
});
