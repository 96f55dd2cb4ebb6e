// `kubectl ephemeral forensics POD` on the real node: a shell as the app's user in its process
// namespace (its own root filesystem read-only) sees the app's processes and files, and the session
// is recorded (0600, with a header naming pod, container and preset).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { deleteTestNamespace } from '../../support/cluster';
import { describeOnRealNode, inTerminal, sampleAppNamespace } from '../../support/terminal-session';

jest.setTimeout(120_000);

describeOnRealNode(__filename)('forensics POD: a recorded shell as the app\'s user next to the app', () => {
  let ns = '';

  beforeAll(async () => {
    ns = await sampleAppNamespace('e2e-forensics');
  });
  afterAll(() => {
    if (ns) deleteTestNamespace(ns);
  });

  it("shows the app's httpd in ps and its files under /proc/1/root, and leaves a 0600 recording naming pod, container and preset", () =>
    inTerminal({}, async (t) => {
      const sessions = join(t.home, '.local', 'state', 'kubectl-ephemeral', 'sessions');
      await t.runPlugin(['forensics', 'web', '-n', ns, '--context', 'debugger']);
      // Said before anything is recorded: where, and that keystrokes are not kept.
      const rec = await t.waitFor(/this session is recorded to (\S+\.cast) \(output only; --record-input adds keystrokes\)\n/, { timeoutMs: 60_000 });
      expect(rec[1]!.startsWith(`${sessions}/`)).toBe(true);
      const name = (await t.waitFor(/attaching to "(debugger-forensics-[a-z0-9]+)"/))[1]!;
      await t.waitForShell();

      const ps = await t.command('ps');
      expect(ps).toMatch(/^\s*1\s+1000\s+\/bin\/httpd -f/m);
      expect(await t.command('id -u')).toMatch(/^1000$/m); // the target's user
      const ls = await t.command('ls /proc/1/root/app');
      expect(ls.split(/\s+/)).toEqual(expect.arrayContaining(['VERSION', 'config', 'index.html']));
      expect(await t.command('touch /forensics-was-here 2>&1')).toMatch(/Read-only file system/);

      expect(await t.endPlugin('exit')).toBe(0);
      await t.expectCookedMode();

      const files = readdirSync(sessions).filter((f) => f.endsWith('.cast'));
      expect(files).toHaveLength(1);
      const file = join(sessions, files[0]!);
      expect(file).toBe(rec[1]);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      const [headerLine, ...events] = readFileSync(file, 'utf8').trimEnd().split('\n');
      const header = JSON.parse(headerLine!);
      expect(header).toMatchObject({ version: 2, width: 120, height: 40, kubectl_ephemeral: { namespace: ns, pod: 'web', container: name, preset: 'forensics', user: 'debugger' } });
      // What the shell printed is in it (the echo of typed commands included); no keystroke events.
      expect(events.map((l) => JSON.parse(l)[1])).not.toContain('i');
      const printed = events.map((l) => JSON.parse(l)).filter((e) => e[1] === 'o').map((e) => e[2]).join('');
      expect(printed).toContain('ls /proc/1/root/app');
      expect(printed).toContain('index.html');
    }));
});
