// The README's walkthrough ("What you see") is screens of these runs on the real node, in a real pty:
// a session's live progress line and its first and last lines, the plain lines off a terminal,
// detaching with Ctrl-P Ctrl-Q and attaching back, and crashloop without a pod (the pick list, and
// the one line without a terminal). Each run asserts what it shows; then the README's block must
// still be what these runs show (names, counts and seconds aside). KE_WRITE_WALKTHROUGH=1 rewrites
// the block from this run instead.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderReadme, WALKTHROUGH_DOC } from '../../../scripts/docs/readme-sections';
import { createObject, createTestNamespace, deleteTestNamespace, getPod, waitForPodRunning } from '../../support/cluster';
import { eventually } from '../../support/wait';
import { BUILT_PLUGIN as PLUGIN } from '../../support/plugin';
import { standaloneKubeconfig, tempDir } from '../../support/plugin';
import { screenLines } from '../../support/screen-capture';
import { describeOnRealNode, inTerminal, sampleAppPod, type Terminal } from '../../support/terminal-session';

jest.setTimeout(240_000);

/** The page that shows these screens (docs/walkthrough.md). */
const README = join(__dirname, '..', '..', '..', WALKTHROUGH_DOC);
const BUSYBOX = 'docker.io/library/busybox:1.36';
const KUBECTL_CHATTER = /If you don't see a command prompt|Session ended|kubectl attach|All commands and output from this session/;
/** Put in place of lines left out of a capture. */
const ELIDED = '...';

/**
 * A line as the README check compares it: container suffixes, numbers, pod statuses, the live
 * line's state and the kubelet's events vary from run to run; the rest is the plugin's wording.
 */
function comparable(line: string): string {
  return line
    .replace(/debugger-(\w+)-[a-z0-9]{5}/g, 'debugger-$1-?')
    .replace(/^(waiting for "[^"]+") .*$/, '$1 ?')
    .replace(/^(container "[^"]+": )\w+: .*$/, '$1?')
    .replace(/; now .*$/, '; now ?')
    .replace(/\b(Init:)?(CrashLoopBackOff|Error|Completed|Running|PodInitializing)\b/g, 'STATUS')
    .replace(/\d+/g, 'N')
    .replace(/\s+/g, ' ');
}

/**
 * Lines a run shows or not depending on timing: the live line (drawn only while there is something
 * to wait for), the kubelet's events, and a command's output read from the log when the container
 * ended before the attach. The unit test test/unit/docs/walkthrough.test.ts still checks their format.
 */
const TIMING = [/^waiting for "/, /^container "[^"]+": \w+: /, /^container "[^"]+" already exited \(.*\); its output:$/];

/** How the README names the test's namespace (its real name is random). */
const SHOWN_NAMESPACE = 'shop';

/** An init container that fails, as in the Kubernetes docs' example. */
function initLoopPod(name: string): object {
  const pod = sampleAppPod(name) as any;
  pod.spec.initContainers = [
    { name: 'init-myservice', image: BUSYBOX, imagePullPolicy: 'IfNotPresent', command: ['sh', '-c', 'echo waiting for $SERVICE; exit 1'], env: [{ name: 'SERVICE', value: 'myservice' }] },
  ];
  return pod;
}

describeOnRealNode(__filename)('README walkthrough: what a user sees, captured from real runs', () => {
  let ns = '';
  const home = tempDir('ke-e2e-walkthrough-');
  let env: Record<string, string> = {};
  /** The captured blocks, in the README's order. */
  const blocks: Array<{ name: string; lines: string[] }> = [];

  beforeAll(async () => {
    ns = await createTestNamespace('e2e-walkthrough');
    // The user's own kubeconfig: the debugger's context, with the namespace set, as its current one.
    const kubeconfig = standaloneKubeconfig('debugger');
    kubeconfig.contexts[0].context.namespace = ns;
    env = { KUBECONFIG: home.file('config', JSON.stringify(kubeconfig)) };
    createObject(sampleAppPod('web'), { namespace: ns });
    createObject(sampleAppPod('crashy', { command: ['sh', '-c', 'echo crashy booting; exit 3'] }), { namespace: ns });
    createObject(initLoopPod('initloop'), { namespace: ns });
    await waitForPodRunning(ns, 'web');
  });
  afterAll(() => {
    if (ns) deleteTestNamespace(ns);
    home.remove();
  });

  /** Types a command at the outer prompt as a user would (the plugin by its kubectl name on screen). */
  function run(t: Terminal, words: string): number {
    const since = t.mark();
    t.type(`${words.replace(/\bkubectl ephemeral /, `${PLUGIN} `)}\r`);
    return since;
  }
  /** Waits for the outer prompt after `since` and asks bash for the exit code; resolves with it. */
  async function exitCode(t: Terminal, since: number, status = '$?'): Promise<number> {
    await t.waitFor(/\nouter\$ $/, { since, timeoutMs: 90_000, what: 'the outer prompt' });
    const at = t.mark();
    t.type(`echo "exit code ${status}"\r`);
    return Number((await t.waitFor(/exit code (\d+)\n[^\n]*outer\$ $/, { since: at }))[1]);
  }
  /** The screen since a mark, as shown in the README; `notes` are put in at marks (keys typed that do not echo). */
  function shown(t: Terminal, since: number, notes: Array<{ at: number; text: string }> = []): string[] {
    let raw = t.rawText(since);
    for (const n of [...notes].sort((a, b) => b.at - a.at)) raw = raw.slice(0, n.at - since) + n.text + raw.slice(n.at - since);
    const lines = screenLines(raw).map((l) => l.split(PLUGIN).join('kubectl ephemeral').split(ns).join(SHOWN_NAMESPACE).replace(/^outer\$ ?/, '$ '));
    // The outer prompt was on screen before the mark; the last one waits for the next command.
    lines[0] = `$ ${lines[0]}`;
    while (lines.length && /^\$ ?$/.test(lines[lines.length - 1]!)) lines.pop();
    return lines;
  }
  /** Types a line into the debug shell and waits for its prompt to come back. */
  async function shell(t: Terminal, line: string, output?: RegExp): Promise<void> {
    const at = t.mark();
    t.type(`${line}\r`);
    await t.waitFor(new RegExp(`${output ? output.source : ''}[\\s\\S]*\\n[^\\n]*\\$ $`), { since: at, what: `the prompt after "${line}"` });
  }
  const attached = (preset: string) => new RegExp(`attaching to "(debugger-${preset}-[a-z0-9]+)" of pod "(\\w+)" \\(exit the shell to end it, Ctrl-P Ctrl-Q to detach and leave it running\\)\\n[\\s\\S]*\\$ $`);

  it('a session on a terminal: the live progress line, then only the plugin\'s first and last lines around the shell', () =>
    inTerminal({ env, cols: 110 }, async (t) => {
      const since = run(t, 'kubectl ephemeral shell web');
      await t.waitFor(attached('shell'), { since, timeoutMs: 90_000 });
      await shell(t, 'id', /uid=65534\(nobody\)/);
      t.type('exit 3\r');
      expect(await exitCode(t, since)).toBe(3);
      const raw = t.rawText(since);
      // The live line: redrawn in place (CR, erase line), its elapsed time and the kubelet's events.
      const frames = [...raw.matchAll(/\r\x1b\[K(waiting for [^\r\n]*)/g)].map((m) => screenLines(m[1]!)[0]!);
      expect(frames.length).toBeGreaterThan(0);
      for (const f of frames) expect(f).toMatch(/^waiting for "debugger-shell-[a-z0-9]+" \d+s: \S/);
      // Each draw fits the terminal's 110 columns (a longer one is cut with an ellipsis).
      expect(frames.filter((f) => [...f].length > 110)).toEqual([]);
      const lines = shown(t, since);
      expect(lines.join('\n')).not.toMatch(KUBECTL_CHATTER);
      expect(lines).toContainEqual(expect.stringMatching(/^container "debugger-shell-[a-z0-9]+" exited with code 3$/));
      blocks.push({ name: 'walkthrough-session', lines });
      blocks.push({ name: 'walkthrough-frames', lines: frames });
    }));

  it('off a terminal: the same progress as plain lines, one per change', () =>
    inTerminal({ env, cols: 160 }, async (t) => {
      // A script on stdin (not `-- id`): what it prints comes after the attach, never before it.
      const since = run(t, 'echo id | kubectl ephemeral shell web 2>&1 | cat');
      expect(await exitCode(t, since, '${PIPESTATUS[1]}')).toBe(0);
      const lines = shown(t, since);
      expect(t.rawText(since)).not.toContain('\x1b[K');
      // Which states and events a run sees depends on timing: at least one, each a whole plain line.
      const progress = lines.filter((l) => /^(waiting for container "debugger-shell-[a-z0-9]+": |container "debugger-shell-[a-z0-9]+": \w+: )/.test(l));
      expect(progress.length).toBeGreaterThan(0);
      expect(lines).toContainEqual(expect.stringMatching(/^uid=65534\(nobody\)/));
      blocks.push({ name: 'walkthrough-plain', lines });
    }));

  it('Ctrl-P Ctrl-Q leaves the shell running; the printed attach command brings back the same shell', () =>
    inTerminal({ env, cols: 160 }, async (t) => {
      const since = run(t, 'kubectl ephemeral shell web');
      const name = (await t.waitFor(attached('shell'), { since, timeoutMs: 90_000 }))[1]!;
      await shell(t, 'cd /tmp; NOTE="set before detaching"');
      const keys = t.mark();
      t.type('\x10\x11');
      expect(await exitCode(t, since)).toBe(0);
      const again = (await t.waitFor(new RegExp(`detached; container "${name}" is still running; attach again with: (kubectl ephemeral attach web ${name} -n ${ns})\\n`), { since }))[1]!;
      await eventually(async () => getPod(ns, 'web').status?.ephemeralContainerStatuses?.some((s: any) => s.name === name && s.state?.running), 30_000, `${name} running`);
      const back = run(t, again);
      await t.waitFor(attached('shell'), { since: back, timeoutMs: 60_000 });
      await shell(t, 'echo "$NOTE, in $(pwd)"', /set before detaching, in \/tmp/);
      t.type('exit\r');
      expect(await exitCode(t, back)).toBe(0);
      const lines = shown(t, since, [{ at: keys, text: '<Ctrl-P Ctrl-Q>' }]);
      expect(lines.join('\n')).not.toMatch(KUBECTL_CHATTER);
      blocks.push({ name: 'walkthrough-detach', lines });
    }));

  it('crashloop without a pod: a pick list on a terminal, one line naming the pods without one', async () => {
    await eventually(async () => (getPod(ns, 'crashy').status?.containerStatuses?.[0]?.restartCount ?? 0) >= 1, 90_000, `${ns}/crashy to restart`);
    await eventually(async () => (getPod(ns, 'initloop').status?.initContainerStatuses?.[0]?.restartCount ?? 0) >= 1, 90_000, `${ns}/initloop to restart`);
    await inTerminal({ env, cols: 160 }, async (t) => {
      const since = run(t, 'kubectl ephemeral crashloop');
      await t.waitFor('pick a pod [1-2]: ', { since, timeoutMs: 60_000 });
      t.type('1\r');
      await t.waitFor(/attaching to "debugger-crashloop-[a-z0-9]+" of pod "crashy"/, { since });
      await t.waitFor(/\$ $/, { since });
      t.type('exit\r');
      expect(await exitCode(t, since)).toBe(0);
      const lines = shown(t, since);
      expect(lines.join('\n')).not.toMatch(KUBECTL_CHATTER);
      expect(lines.join('\n')).toMatch(/== previous logs \(last 20 lines\)\ncrashy booting\n/);
      // The events differ from run to run (and the local node adds its own warnings): left out.
      const events = lines.indexOf('== recent events');
      const next = lines.findIndex((l) => l.startsWith('added ephemeral container'));
      expect(events).toBeGreaterThan(0);
      blocks.push({ name: 'walkthrough-crashloop', lines: [...lines.slice(0, events + 1), ELIDED, ...lines.slice(next)] });

      const plain = run(t, 'kubectl ephemeral crashloop < /dev/null');
      expect(await exitCode(t, plain)).toBe(64);
      const line = shown(t, plain);
      expect(line[1]).toMatch(/^error: name the pod to debug \(no terminal to pick on\): 2 pod\(s\) with a failing container in namespace "shop": crashy .*; initloop .*; run kubectl ephemeral crashloop POD -n shop$/);
      blocks.push({ name: 'walkthrough-crashloop-plain', lines: line });
    });
  });

  it('the README shows these screens (KE_WRITE_WALKTHROUGH=1 writes them from this run)', () => {
    expect(blocks.map((b) => b.name)).toEqual(['walkthrough-session', 'walkthrough-frames', 'walkthrough-plain', 'walkthrough-detach', 'walkthrough-crashloop', 'walkthrough-crashloop-plain']);
    const readme = readFileSync(README, 'utf8');
    const fresh = Object.fromEntries(blocks.map((b) => [b.name, ['```text', ...b.lines, '```'].join('\n')]));
    if (process.env.KE_WRITE_WALKTHROUGH === '1') {
      writeFileSync(README, renderReadme(readme, fresh));
      return;
    }
    for (const b of blocks) {
      const block = new RegExp(`<!-- ${b.name}:start -->\\n\`\`\`text\\n([\\s\\S]*?)\\n\`\`\`\\n<!-- ${b.name}:end -->`).exec(readme);
      if (!block) throw new Error(`${WALKTHROUGH_DOC} has no ${b.name} block; run this suite with KE_WRITE_WALKTHROUGH=1`);
      const now = new Set(b.lines.map(comparable));
      // Every line the README shows is one this run showed too (names, numbers and the kubelet's event aside).
      const stale = block[1]!.split('\n').filter((l) => l !== ELIDED && !TIMING.some((t) => t.test(l)) && !now.has(comparable(l)));
      if (stale.length) throw new Error(`${WALKTHROUGH_DOC}'s ${b.name} shows lines this run did not:\n${stale.join('\n')}\n--- this run ---\n${b.lines.join('\n')}\n(KE_WRITE_WALKTHROUGH=1 rewrites it)`);
    }
  });
});
