// Leaving and coming back on the real node: `attach POD NAME` reaches a shell started with
// --no-attach, and Ctrl-P Ctrl-Q leaves a session with the shell running, to be attached again
// with its state (a variable set before detaching) intact. The session's first and last lines are
// the plugin's own: none of kubectl's reaches the screen.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { deleteTestNamespace, getPod } from '../../support/cluster';
import { runPlugin } from '../../support/plugin';
import { eventually } from '../../support/wait';
import { describeOnRealNode, inTerminal, sampleAppNamespace } from '../../support/terminal-session';

jest.setTimeout(180_000);

const KUBECTL_CHATTER = /If you don't see a command prompt|Session ended|kubectl attach|All commands and output from this session/;

describeOnRealNode(__filename)('attach POD NAME: back into a running debug container', () => {
  let ns = '';

  beforeAll(async () => {
    ns = await sampleAppNamespace('e2e-attach');
  });
  afterAll(() => {
    if (ns) deleteTestNamespace(ns);
  });

  const state = (name: string) => (getPod(ns, 'web').status?.ephemeralContainerStatuses ?? []).find((s: any) => s.name === name)?.state ?? {};

  it('--no-attach prints the container name and the attach command; attach then shows the same shell', () =>
    inTerminal({}, async (t) => {
      await t.runPlugin(['shell', 'web', '-n', ns, '--context', 'debugger', '--no-attach']);
      const hint = await t.waitFor(/^(debugger-shell-[a-z0-9]+)\n[\s\S]*attach with: (kubectl ephemeral attach web (\S+) -n (\S+) --context debugger)\n/m, { timeoutMs: 60_000 });
      const name = hint[1]!;
      expect(hint[3]).toBe(name);
      expect(hint[4]).toBe(ns);
      expect(await t.pluginExit()).toBe(0);

      // The shell has been waiting on its terminal since: attach connects to it.
      const since = t.mark();
      await t.runPlugin(['attach', 'web', name, '-n', ns, '--context', 'debugger']);
      await t.waitFor(`attaching to "${name}" of pod "web" (exit the shell to end it, Ctrl-P Ctrl-Q to detach and leave it running)`, { timeoutMs: 30_000 });
      // No Enter typed: kubectl's resize on attach makes the shell draw its prompt again.
      await t.waitForShell(20_000, since);
      expect(await t.command('echo attached-$((6*7)); id -u')).toMatch(/^attached-42\n65534$/m);
      expect(await t.endPlugin('exit 5')).toBe(5);
      expect(t.text(since)).toContain(`container "${name}" exited with code 5\n`);
      expect(t.text(since)).not.toMatch(KUBECTL_CHATTER);
      await t.expectCookedMode();
    }));

  it('Ctrl-P Ctrl-Q detaches with the shell running, exit 0 and the re-attach command; attach brings back the same shell', () =>
    inTerminal({}, async (t) => {
      const first = t.mark();
      await t.runPlugin(['shell', 'web', '-n', ns, '--context', 'debugger']);
      await t.waitForShell();
      const name = (await t.waitFor(/attaching to "(debugger-shell-[a-z0-9]+)"/, { since: first }))[1]!;
      await t.command('KEPT=kept-$((6*7)); cd /tmp');
      t.type('\x10\x11');
      expect(await t.pluginExit()).toBe(0);
      const line = `detached; container "${name}" is still running; attach again with: kubectl ephemeral attach web ${name} -n ${ns} --context debugger\n`;
      expect(t.text(first)).toContain(line);
      expect(t.text(first)).not.toMatch(KUBECTL_CHATTER);
      await t.expectCookedMode();
      // The plugin has exited; the container still runs. The session began at the kubelet's Started
      // event, so a short one can end before the status says running: wait for the status.
      await eventually(async () => state(name).running, 30_000, `the status of "${name}" to say running`);

      const again = t.mark();
      // Recorded this time: the header names who attached, as a new session's does (issue 29).
      const cast = join(t.home, 'again.cast');
      await t.runPlugin(['attach', 'web', name, '-n', ns, '--context', 'debugger', `--record=${cast}`]);
      await t.waitFor(`attaching to "${name}"`, { since: again, timeoutMs: 30_000 });
      // The prompt comes back by itself (no Enter typed), as it was left.
      await t.waitForShell(20_000, again);
      expect(await t.command('echo "$KEPT in $(pwd)"')).toMatch(/^kept-42 in \/tmp$/m);
      expect(await t.endPlugin('exit 6')).toBe(6);
      expect(t.text(again)).toContain(`container "${name}" exited with code 6\n`);
      expect(JSON.parse(readFileSync(cast, 'utf8').split('\n')[0]!).kubectl_ephemeral).toMatchObject({ pod: 'web', container: name, user: 'debugger' });
      expect(t.text(again)).not.toMatch(KUBECTL_CHATTER);
      await t.expectCookedMode();
    }));

  it('--detach-keys changes the sequence; Ctrl-P Ctrl-Q then reach the shell', () =>
    inTerminal({}, async (t) => {
      const first = t.mark();
      await t.runPlugin(['shell', 'web', '-n', ns, '--context', 'debugger', '--detach-keys', 'ctrl-x,x']);
      await t.waitForShell();
      const name = (await t.waitFor(/attaching to "(debugger-shell-[a-z0-9]+)" of pod "web" \(exit the shell to end it, Ctrl-X x to detach/, { since: first }))[1]!;
      // The old keys are ordinary input now (Ctrl-P recalls history in the shell, harmlessly).
      t.type('\x10\x11');
      expect(await t.command('echo still-$((2*21))')).toMatch(/^still-42$/m);
      expect(t.pluginRunning()).toBe(true);
      t.type('\x18x');
      expect(await t.pluginExit()).toBe(0);
      expect(t.text(first)).toContain(`detached; container "${name}" is still running`);
      await eventually(async () => state(name).running, 30_000, `the status of "${name}" to say running`);

      // A pipe cannot drive that TTY container (kubectl would end in "error stream protocol error"): one line, 64.
      const piped = await runPlugin(['attach', 'web', name, '-n', ns, '--context', 'debugger'], { input: 'echo hi\n' });
      expect(piped.code).toBe(64);
      expect(piped.stderr).toBe(
        `error: ephemeral container "${name}" of pod "web" has a TTY and stdin is not a terminal; attach from a terminal, or pipe into a new session (kubectl ephemeral <preset> web < FILE)\n`,
      );
      expect(state(name).running).toBeDefined();
    }));
});
