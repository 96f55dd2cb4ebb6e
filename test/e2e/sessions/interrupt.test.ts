// Ctrl-C while a debug container starts, on the real node, typed into a real terminal 0.2 s, 0.5 s
// and 1 s after the plugin said it added the container, and 0.2 s after the command was typed (5
// runs each, no retry): exit 130; a container that was added is ended the way cleanup ends one
// (its status terminated), or one line says it is left and how to end it; nothing is left running
// unsaid. A Ctrl-C that comes after the session attached is the shell's.
import { deleteTestNamespace, getPod } from '../../support/cluster';
import { eventually } from '../../support/wait';
import { describeOnRealNode, inTerminal, sampleAppNamespace } from '../../support/terminal-session';

jest.setTimeout(600_000);

type Outcome = 'killed-at-start' | 'before-patch' | 'ended' | 'left' | 'attached';
/** What the delay counts from: the command typed, or the plugin's "added ephemeral container" line. */
type From = 'typed' | 'added';

describeOnRealNode(__filename)('Ctrl-C while the debug container starts', () => {
  let ns = '';
  const seen: Array<{ from: From; delayMs: number; outcome: Outcome; exitMs: number; said?: string }> = [];

  beforeAll(async () => {
    ns = await sampleAppNamespace('e2e-interrupt');
  });
  afterAll(() => {
    // What the runs measured, for the README's account of Ctrl-C while starting.
    if (seen.length) process.stderr.write(`interrupt outcomes: ${JSON.stringify(seen)}\n`);
    if (ns) deleteTestNamespace(ns);
  });

  const stateOf = (name: string) => {
    const pod = getPod(ns, 'web');
    return {
      added: (pod.spec.ephemeralContainers ?? []).some((c: any) => c.name === name),
      state: (pod.status?.ephemeralContainerStatuses ?? []).find((s: any) => s.name === name)?.state ?? {},
    };
  };

  const runs = [
    ...[200, 500, 1000].flatMap((delayMs) => [1, 2, 3, 4, 5].map((n) => ({ from: 'added' as From, after: 'the plugin added the container', delayMs, n }))),
    ...[1, 2, 3, 4, 5].map((n) => ({ from: 'typed' as From, after: 'the command was typed', delayMs: 200, n })),
  ];
  it.each(runs)('Ctrl-C $delayMs ms after $after (run $n): exit 130, the container ended or said to be left', ({ from, delayMs, n }) =>
    inTerminal({}, async (t) => {
      const name = `ctrlc-${from}-${delayMs}-${n}`;
      const since = t.mark();
      await t.runPlugin(['shell', 'web', '-n', ns, '--context', 'debugger', '--name', name]);
      if (from === 'added') await t.waitFor(`added ephemeral container "${name}"`, { since, timeoutMs: 60_000 });
      const typedAt = Date.now();
      await new Promise((r) => setTimeout(r, delayMs));
      t.type('\x03');
      // The plugin ends; or Node had not set up its handlers yet and died of the signal (bash then
      // drops the rest of the line: its prompt comes back without the exit code); or the session
      // had the terminal already (the container's prompt shows).
      const first = await t.waitFor(new RegExp(`plugin-exit=\\d+\\n|\\nouter\\$ $|attaching to "${name}"[\\s\\S]*[#$] `), { since, timeoutMs: 60_000, allowPluginExit: true });
      const killed = first[0] === '\nouter$ ';
      if (killed) t.type('echo "plugin-exit=$?"\r');
      else if (!first[0].startsWith('plugin-exit')) {
        // The session had the terminal already: Ctrl-C went to the shell, which stays.
        await t.waitForShell(30_000, since);
        const code = await t.endPlugin('exit 4');
        expect(code).toBe(4);
        seen.push({ from, delayMs, outcome: 'attached', exitMs: Date.now() - typedAt });
        return;
      }
      expect(await t.pluginExit(60_000)).toBe(130);
      const exitMs = Date.now() - typedAt;
      // What the plugin printed: the screen after the typed command line.
      const text = t.text(since).split('\n').slice(1).join('\n');
      const { added } = stateOf(name);
      const ending = `Ctrl-C before the session started: ending debug container "${name}" of pod "web" (Ctrl-C again leaves it running)\n`;
      const ended = `debug container "${name}" of pod "web" was ended through attach (Ctrl-C, exit); its entry stays in the pod, terminated (ephemeral containers cannot be removed)\n`;
      const fix = `end it with: kubectl ephemeral cleanup web -n ${ns} --context debugger\n`;
      let outcome: Outcome;
      if (!added) {
        // Ctrl-C came before the PATCH: nothing was added, nothing is said about it.
        expect(text).not.toContain(name);
        outcome = killed ? 'killed-at-start' : 'before-patch';
      } else if (text.includes(ended)) {
        expect(text).toContain(ending);
        // The status follows the kubelet's next relist.
        await eventually(async () => stateOf(name).state.terminated, 30_000, `the status of "${name}" to say terminated`);
        outcome = 'ended';
      } else {
        expect(text).toContain(ending);
        expect(text).toContain(fix);
        outcome = 'left';
      }
      // kubectl's own lines never reach the screen, and no error of the wait is printed besides.
      expect(text).not.toMatch(/If you don't see a command prompt|error: /);
      await t.expectCookedMode();
      seen.push({ from, delayMs, outcome, exitMs, said: text.trim() });
    }),
  );
});
