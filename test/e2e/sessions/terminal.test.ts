// The terminal as a user at a keyboard sees it, on the real node: a resize of the outer terminal
// reaches the container, the shell's exit code becomes the plugin's, Ctrl-C stops the program in
// the container (not the plugin), and the outer bash gets its terminal back in cooked mode.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deleteTestNamespace } from '../../support/cluster';
import { describeOnRealNode, inTerminal, sampleAppNamespace } from '../../support/terminal-session';

jest.setTimeout(120_000);

describeOnRealNode(__filename)('the debug session in a terminal', () => {
  let ns = '';

  beforeAll(async () => {
    ns = await sampleAppNamespace('e2e-terminal');
  });
  afterAll(() => {
    if (ns) deleteTestNamespace(ns);
  });

  const debug = ['process', 'web', '-n', '', '--context', 'debugger'];
  const args = () => debug.map((a, i) => (i === 3 ? ns : a));

  it('stty size in the container follows a resize of the outer terminal', () =>
    inTerminal({ cols: 120, rows: 40 }, async (t) => {
      await t.runPlugin(args());
      await t.waitForShell();
      expect(await t.command('stty size')).toMatch(/^40 120$/m);
      t.resize(100, 30);
      // SIGWINCH goes plugin -> kubectl's pty -> kubectl -> API server -> kubelet -> container tty.
      let after = '';
      const end = Date.now() + 10_000;
      while (!/^30 100$/m.test(after) && Date.now() < end) after = await t.command('stty size');
      expect(after).toMatch(/^30 100$/m);
      expect(await t.endPlugin('exit')).toBe(0);
      await t.expectCookedMode();
    }));

  it('exit 3 in the debug shell makes the plugin exit 3, and the first and last lines are the plugin\'s own', () =>
    inTerminal({}, async (t) => {
      await t.runPlugin(args());
      await t.waitForShell();
      const name = (await t.waitFor(/attaching to "(debugger-process-[a-z0-9]+)" of pod "web" \(exit the shell to end it, Ctrl-P Ctrl-Q to detach and leave it running\)\n/))[1]!;
      expect(await t.endPlugin('exit 3')).toBe(3);
      const screen = t.text();
      expect(screen).not.toMatch(/If you don't see a command prompt|Session ended|kubectl attach|All commands and output from this session/);
      // The last line before bash's own is the true one: the container ended, with this code.
      const lines = screen.split('\n');
      expect(lines[lines.findIndex((l) => l.startsWith('plugin-exit=')) - 1]).toBe(`container "${name}" exited with code 3`);
      await t.expectCookedMode();
    }));

  it('with stdout redirected to a file, kubectl\'s lines do not land in it either', () =>
    inTerminal({}, async (t) => {
      const out = `${t.home}/session.out`;
      // Typed into the terminal as a user would; the session's output goes to the file.
      await t.runPlugin(args(), { stdout: out });
      await t.waitFor(/attaching to "debugger-process-[a-z0-9]+"/, { timeoutMs: 60_000 });
      t.type('echo redirected-$((6*7)); exit 4\r');
      expect(await t.pluginExit()).toBe(4);
      const file = await t.command(`cat ${out}`);
      expect(file).toMatch(/^redirected-42\r?$/m);
      expect(file).not.toMatch(/If you don't see a command prompt|Session ended|kubectl attach|All commands and output from this session/);
    }));

  it('-t=false on a terminal: no TTY in the container, lines go in as typed, Ctrl-D ends the shell', () =>
    inTerminal({}, async (t) => {
      await t.runPlugin([...args(), '-t=false']);
      await t.waitFor(/attaching to "debugger-process-[a-z0-9]+" of pod "web" \(stdin is passed in, output and exit code out\)\n/, { timeoutMs: 60_000 });
      t.type('tty; echo "n=$((6*7))"\r');
      await t.waitFor(/^not a tty\nn=42$/m, { what: 'the answer of a shell without a TTY' });
      // Ctrl-D at the start of a line: end of input, which closes the container's stdin (stdinOnce).
      t.type('\x04');
      expect(await t.pluginExit()).toBe(0);
      await t.expectCookedMode();
    }));

  it('attaches once the kubelet has the container, ahead of the pod status (issue 12), and the shell answers at once', () =>
    inTerminal({}, async (t) => {
      // The kubelet runs the container 0.1-0.3 s after the PATCH and says so in the status at its
      // next relist, up to a second later. The race is run three times; every session must work
      // whichever way it went, and the early way must win at least once.
      const ways: string[] = [];
      for (let i = 0; i < 3; i++) {
        const since = t.mark();
        await t.runPlugin([...args(), '-v']);
        await t.waitForShell(60_000, since);
        const early = /\[debug\] the kubelet has "debugger-process-[a-z0-9]+" \((its Started event|an attach probe), \d+ ms after start\): before the pod status says running/.exec(t.text(since));
        ways.push(early?.[1] ?? 'the status');
        // A kubectl attach that came too soon is retried, never shown.
        expect(t.text(since)).not.toMatch(/^error: /m);
        expect(await t.command('echo early-$((40+2))')).toMatch(/^early-42$/m);
        expect(await t.endPlugin('exit')).toBe(0);
      }
      process.stderr.write(`attached by: ${ways.join(', ')}\n`);
      expect(ways.filter((w) => w !== 'the status').length).toBeGreaterThanOrEqual(1);
    }));

  it('an image whose shell is missing: the kubelet\'s reason at once (exit 76), whatever the early attach saw', () =>
    inTerminal({}, async (t) => {
      const since = t.mark();
      // The node's sandbox image has no sh: the runtime cannot start the preset's command.
      await t.runPlugin([...args(), '--image', 'localhost/kubectl-ephemeral/pause:3.10']);
      expect(await t.pluginExit(60_000)).toBe(76);
      const text = t.text(since);
      expect(text).toMatch(/error: container "debugger-process-[a-z0-9]+" cannot start: (RunContainerError|StartError|CreateContainerError)[^\n]*"sh": executable file not found/);
      expect(text).not.toMatch(/still running|attach again/);
      await t.expectCookedMode();
    }));

  it('a preset whose command exits at once: its output and exit code, no attach error, the terminal untouched', () =>
    inTerminal({}, async (t) => {
      // The early session starts kubectl attach before the container runs; this one never gets to.
      mkdirSync(join(t.home, '.config', 'kubectl-ephemeral'), { recursive: true });
      writeFileSync(
        join(t.home, '.config', 'kubectl-ephemeral', 'presets.yaml'),
        'presets:\n  quick:\n    extends: process\n    command: [sh, -c, "echo bye-$((40+2)); exit 3"]\n',
      );
      const since = t.mark();
      await t.runPlugin(['quick', ...args().slice(1), '-v']);
      expect(await t.pluginExit(60_000)).toBe(3);
      const text = t.text(since);
      // Ended before an attach landed (the wait saw it first, or the attach gave up): its output either way.
      expect(text).toMatch(/(already exited[^\n]*|ended before an attach could reach it); its output:\n(?:\[debug\][^\n]*\n)*bye-42$/m);
      expect(text).not.toMatch(/^error: /m);
      expect(text).not.toMatch(/attaching to/);
      await t.expectCookedMode();
    }));

  it('Ctrl-C stops sleep 100 in the container and the debug shell carries on', () =>
    inTerminal({}, async (t) => {
      await t.runPlugin(args());
      await t.waitForShell();
      const since = t.mark();
      // The marker is printed by the shell right before it runs sleep (the arithmetic keeps the echo
      // of the typed line from matching): Ctrl-C is typed only once the list has reached the sleep.
      t.type('echo sleep-$((1+1))-starting; sleep 100; echo "sleep-ended-$((40+2))-$?"\r');
      await t.waitFor(/^sleep-2-starting\r?$/m, { since, timeoutMs: 30_000, what: 'the marker printed before sleep 100' });
      t.type('\x03');
      // busybox sh aborts the whole list on SIGINT: the echo after sleep never runs, the prompt returns.
      await t.waitFor(/\^C\n[\s\S]*[#$] /, { since, timeoutMs: 10_000, what: 'the prompt after Ctrl-C' });
      expect(t.text(since)).not.toContain('sleep-ended-42');
      expect(t.pluginRunning()).toBe(true);
      expect(await t.command('echo still-$((6*7))')).toMatch(/^still-42$/m);
      expect(await t.command('ps -o pid,args | grep -c "[s]leep 100"')).toMatch(/^0$/m);
      expect(t.pluginRunning()).toBe(true);
      expect(await t.endPlugin('exit')).toBe(0);
      await t.expectCookedMode();
    }));
});
