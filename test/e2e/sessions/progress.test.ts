// Progress while the kubelet works on the debug container, on the real node: the image comes from
// a registry on loopback that holds the pull until the test lets it go (then answers "not found"),
// so the wait lasts exactly as long as the test needs. On a terminal one line shows the elapsed
// time and the kubelet's event, redrawn in place and cleared before the plugin's next line; with
// stderr not a terminal, plain lines; with -q, nothing.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createObject, createTestNamespace, deleteTestNamespace, waitForPodRunning } from '../../support/cluster';
import { describeRun, startPlugin } from '../../support/plugin';
import { eventually } from '../../support/wait';
import { describeOnRealNode, inTerminal, sampleAppPod } from '../../support/terminal-session';

jest.setTimeout(180_000);

/** A registry that answers nothing until release(), then 404 for every manifest. */
class HeldRegistry {
  private held: ServerResponse[] = [];
  private released = false;
  requests = 0;
  private readonly server: Server;

  constructor() {
    this.server = createServer((_req: IncomingMessage, res: ServerResponse) => {
      this.requests++;
      if (this.released) this.answer(res);
      else this.held.push(res);
    });
  }

  async listen(): Promise<number> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    return (this.server.address() as AddressInfo).port;
  }

  release(): void {
    this.released = true;
    this.held.splice(0).forEach((res) => this.answer(res));
  }

  close(): void {
    this.release();
    this.server.close();
  }

  private answer(res: ServerResponse): void {
    res.writeHead(404, { 'Content-Type': 'application/json' });
    res.end('{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}');
  }
}

describeOnRealNode(__filename)('progress while the debug container starts', () => {
  let ns = '';
  let registry: HeldRegistry;
  let port = 0;
  // The kubelet drops a pod's events after a burst (its spam filter keys on the pod): one pod per test.
  let pods = 0;

  const registries: HeldRegistry[] = [];
  // A registry per test: a released one answers at once, and containerd remembers nothing of it.
  async function newRegistry(): Promise<void> {
    registry = new HeldRegistry();
    registries.push(registry);
    port = await registry.listen();
  }

  beforeAll(async () => {
    ns = await createTestNamespace('e2e-progress');
    await newRegistry();
  });
  afterAll(() => {
    registries.forEach((r) => r.close());
    if (ns) deleteTestNamespace(ns);
  });

  async function freshPod(): Promise<string> {
    const name = `web-${++pods}`;
    createObject(sampleAppPod(name), { namespace: ns });
    await waitForPodRunning(ns, name);
    return name;
  }

  const image = () => `localhost:${port}/slow/busybox:1`;

  it('on a terminal: one live line with the elapsed time and the kubelet\'s Pulling, redrawn in place, cleared before the error', () =>
    inTerminal({}, async (t) => {
      const pod = await freshPod();
      const since = t.mark();
      await t.runPlugin(['shell', pod, '-n', ns, '--context', 'debugger', '--image', image()]);
      const pulling = new RegExp(`waiting for "(debugger-shell-[a-z0-9]+)" (\\d+)s: (?:ContainerCreating; )?Pulling: Pulling image "localhost:${port}/slow/busybox:1"`);
      const first = await t.waitFor(pulling, { since, timeoutMs: 60_000, what: 'the live line with the Pulling event' });
      const name = first[1]!;
      // The clock moves while the pull is held: the same line again, two seconds on.
      const later = Number(first[2]) + 2;
      await t.waitFor(new RegExp(`waiting for "${name}" (${later}|[${later + 1}-9]|\\d\\d+)s: (?:ContainerCreating; )?Pulling`), { since, timeoutMs: 30_000, what: 'the elapsed time to grow' });
      const raw = t.rawText(since);
      // Redrawn in place: each draw returns to the start of the line and erases it; no newline between draws.
      const draws = raw.split('\r\x1b[K').filter((d) => d.startsWith(`waiting for "${name}"`));
      expect(draws.length).toBeGreaterThanOrEqual(3);
      expect(draws.slice(0, -1).every((d) => !d.includes('\n'))).toBe(true);
      // Colour is on (no NO_COLOR in this terminal): the elapsed time is dim.
      expect(raw).toMatch(new RegExp(`waiting for "${name}" \\x1b\\[2m\\d+s\\x1b\\[0m: `));

      registry.release();
      expect(await t.pluginExit(60_000)).toBe(76);
      const end = t.rawText(since);
      // The live line is erased before the error line, which starts at column 0.
      expect(end).toMatch(/\r\x1b\[Kerror: container "debugger-shell-[a-z0-9]+" cannot start: ErrImagePull/);
    }));

  it('NO_COLOR: the same live line without colour', () =>
    inTerminal({ env: { NO_COLOR: '1' } }, async (t) => {
      await newRegistry();
      const pod = await freshPod();
      const since = t.mark();
      await t.runPlugin(['shell', pod, '-n', ns, '--context', 'debugger', '--image', image()]);
      await t.waitFor(/waiting for "debugger-shell-[a-z0-9]+" \d+s: (?:ContainerCreating; )?Pulling: /, { since, timeoutMs: 60_000 });
      registry.release();
      expect(await t.pluginExit(60_000)).toBe(76);
      const raw = t.rawText(since);
      expect(raw).toContain('\r\x1b[Kwaiting for "');
      // No SGR (colour) sequence anywhere in what the plugin wrote.
      expect(raw).not.toMatch(/\x1b\[[0-9;]*m/);
    }));

  it('-q on a terminal: no progress at all, only the error', () =>
    inTerminal({}, async (t) => {
      await newRegistry();
      const pod = await freshPod();
      const since = t.mark();
      await t.runPlugin(['shell', pod, '-n', ns, '--context', 'debugger', '--image', image(), '-q']);
      // The kubelet is pulling (its event is in the API): the plugin has been waiting for a while.
      await eventually(async () => registry.requests > 0, 60_000, 'the kubelet to ask the registry');
      registry.release();
      expect(await t.pluginExit(60_000)).toBe(76);
      const text = t.text(since);
      expect(text).not.toMatch(/waiting for|added ephemeral container|Pulling/);
      expect(text).toMatch(/error: container "debugger-shell-[a-z0-9]+" cannot start: ErrImagePull/);
    }));

  it('stderr not a terminal: plain lines, one per change, no escape sequence', async () => {
    await newRegistry();
    const pod = await freshPod();
    const run = startPlugin(['shell', pod, '-n', ns, '--context', 'debugger', '--image', image()], { timeoutMs: 120_000 });
    let stderr = '';
    run.child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    await eventually(async () => /: Pulling: Pulling image/.test(stderr), 60_000, `the Pulling line; stderr so far:\n${stderr}`);
    registry.release();
    const r = await run.done;
    if (r.code !== 76) throw new Error(`expected exit 76, got ${describeRun(r)}`);
    const name = /added ephemeral container "(debugger-shell-[a-z0-9]+)"/.exec(r.stderr)![1]!;
    // Whole lines, in whichever order the pod watch and the event list told them.
    const lines = r.stderr.split('\n');
    expect(lines).toContain(`waiting for container "${name}": ContainerCreating`);
    expect(lines).toContain(`container "${name}": Pulling: Pulling image "localhost:${port}/slow/busybox:1"`);
    expect(r.stderr).not.toMatch(/[\r\x1b]/);
  });
});
