// `kubectl ephemeral attach POD NAME` on the real node: a debug container started with --no-attach
// is attached later, typed into, and answers.
import { createObject, createTestNamespace, deleteTestNamespace, getPod, waitFor } from '../../support/cluster';
import { describeOnRealNode, inTerminal, sampleAppPod } from '../../support/terminal-session';

jest.setTimeout(120_000);

describeOnRealNode(__filename)('attach POD NAME: back into a running debug container', () => {
  let ns = '';

  beforeAll(() => {
    ns = createTestNamespace('e2e-attach');
    createObject(sampleAppPod('web'), { namespace: ns });
    waitFor(() => getPod(ns, 'web').status?.phase === 'Running', 60_000, `pod ${ns}/web Running`);
  });
  afterAll(() => {
    if (ns) deleteTestNamespace(ns);
  });

  it('--no-attach prints the container name and the attach command; attach then shows the same shell', () =>
    inTerminal({}, async (t) => {
      await t.runPlugin(['shell', 'web', '-n', ns, '--context', 'debugger', '--no-attach']);
      const hint = await t.waitFor(/^(debugger-shell-[a-z0-9]+)\n[\s\S]*attach with: (kubectl ephemeral attach web (\S+) -n (\S+) --context debugger)\n/m, { timeoutMs: 60_000 });
      const name = hint[1]!;
      expect(hint[3]).toBe(name);
      expect(hint[4]).toBe(ns);
      expect(await t.pluginExit()).toBe(0);

      // The shell has been waiting on its terminal since: attach connects to it.
      await t.runPlugin(['attach', 'web', name, '-n', ns, '--context', 'debugger']);
      await t.waitFor(`attaching to "${name}" of pod "web"`, { timeoutMs: 30_000 });
      await t.waitFor(/If you don't see a command prompt, try pressing enter\./, { timeoutMs: 30_000 });
      t.type('\r');
      await t.waitForShell();
      expect(await t.command('echo attached-$((6*7)); id -u')).toMatch(/^attached-42\n65534$/m);
      expect(await t.endPlugin('exit 5')).toBe(5);
      await t.expectCookedMode();
    }));
});
