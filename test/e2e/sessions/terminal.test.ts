// The terminal as a user at a keyboard sees it, on the real node: a resize of the outer terminal
// reaches the container, the shell's exit code becomes the plugin's, Ctrl-C stops the program in
// the container (not the plugin), and the outer bash gets its terminal back in cooked mode.
import { createObject, createTestNamespace, deleteTestNamespace, getPod, waitFor } from '../../support/cluster';
import { describeOnRealNode, inTerminal, sampleAppPod } from '../../support/terminal-session';

jest.setTimeout(120_000);

describeOnRealNode(__filename)('the debug session in a terminal', () => {
  let ns = '';

  beforeAll(() => {
    ns = createTestNamespace('e2e-terminal');
    createObject(sampleAppPod('web'), { namespace: ns });
    waitFor(() => getPod(ns, 'web').status?.phase === 'Running', 60_000, `pod ${ns}/web Running`);
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

  it('exit 3 in the debug shell makes the plugin exit 3', () =>
    inTerminal({}, async (t) => {
      await t.runPlugin(args());
      await t.waitForShell();
      expect(await t.endPlugin('exit 3')).toBe(3);
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
