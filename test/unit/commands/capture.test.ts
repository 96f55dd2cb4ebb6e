import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { CAPTURE_SCRIPT, runCapture, type CaptureOptions } from '../../../src/commands/capture';
import type { CommandContext } from '../../../src/context';
import type { KubectlRunner } from '../../../src/debug/kubectl-runner';
import type { StreamAttach } from '../../../src/debug/stream-attach';
import { PluginError } from '../../../src/errors/plugin-error';
import { processPrinter } from '../../../src/output/printer';
import { PresetRegistry } from '../../../src/presets/registry';
import { aPod } from '../../support/builders';

/** A context whose cluster records that it was reached, and fails the way a missing pod does. */
function contextReachingNothing(): { ctx: CommandContext; connects: number } {
  const seen = { ctx: undefined as unknown as CommandContext, connects: 0 };
  seen.ctx = {
    printer: { out: () => undefined, info: () => undefined, debug: () => undefined, verbose: false },
    env: {},
    presets: async () => PresetRegistry.from(),
    connect: async () => {
      seen.connects++;
      throw new PluginError('not-found', 'pod "web" not found');
    },
  } as unknown as CommandContext;
  return seen;
}

const options = (write: string | undefined): CaptureOptions => ({ pod: 'web', iface: 'any', write, timeout: '2m', kube: { verbosity: 0 } });

describe('runCapture: the output before the cluster', () => {
  let dir = '';
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'ke-capture-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it.each([
    ['a missing directory', () => join(dir, 'missing', 'out.pcap'), 'not-found', /^the directory of .*missing\/out\.pcap does not exist; create it or name another -w file$/],
    ['a symlink', () => (symlinkSync(join(dir, 'victim'), join(dir, 'l.pcap')), join(dir, 'l.pcap')), 'usage', /l\.pcap already exists; -w never overwrites a file/],
    ['an existing file', () => (writeFileSync(join(dir, 'x.pcap'), ''), join(dir, 'x.pcap')), 'usage', /x\.pcap already exists; -w never overwrites a file/],
  ])('%s: refused and the cluster is never contacted', async (_what, path, kind, message) => {
    const seen = contextReachingNothing();
    await expect(runCapture(seen.ctx, options(path()))).rejects.toMatchObject({ kind, message: expect.stringMatching(message) });
    expect(seen.connects).toBe(0);
  });

  it('without -w: a usage error naming -w and the fix, before contacting the cluster', async () => {
    const seen = contextReachingNothing();
    await expect(runCapture(seen.ctx, options(undefined))).rejects.toEqual(
      new PluginError('usage', 'capture needs -w FILE (or -w - for stdout); for example: kubectl ephemeral capture web -w web.pcap'),
    );
    expect(seen.connects).toBe(0);
  });

  it('a capture that fails after the file was created removes it', async () => {
    const seen = contextReachingNothing();
    await expect(runCapture(seen.ctx, options(join(dir, 'out.pcap')))).rejects.toMatchObject({ kind: 'not-found' });
    expect(seen.connects).toBe(1);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('-w - creates no file', async () => {
    const seen = contextReachingNothing();
    await expect(runCapture(seen.ctx, options('-'))).rejects.toMatchObject({ kind: 'not-found' });
    expect(existsSync('-')).toBe(false);
  });
});

// ------------------------------------------------------------------ the capture, through its seams

const PCAP_HEADER = Buffer.from('d4c3b2a1020004000000000000000000ffff000001000000', 'hex');
const ENFORCE = 'pod-security.kubernetes.io/enforce';

/** What the fake container does once it reads "go": tcpdump's stderr, its stdout, and how it ends. */
interface Tcpdump {
  stderr: string[];
  stdout: Buffer;
  /** Ends by itself (as with --count) instead of waiting for "stop". */
  endsAlone: boolean;
  exitCode: number;
  /** The local write fails with this errno once the stream began (a full disk, a closed pipe). */
  writeError?: string;
}

/**
 * A cluster with one running pod "web" in namespace "shop", whose debug containers run a fake
 * tcpdump; and a kubectl runner whose `attach` streams that tcpdump's output. Records every call.
 */
class FakeCapture {
  readonly calls: string[] = [];
  readonly sent: string[] = [];
  readonly interrupts: Array<() => Promise<void | number>> = [];
  readonly stdout: string[] = [];
  readonly stderr: string[] = [];
  added: any;
  /** The pod's audit annotation as the fake API server holds it. */
  trail: string | undefined;
  mayPatch = true;
  level = 'baseline';
  tcpdump: Tcpdump = { stderr: ['tcpdump: listening on any, link-type LINUX_SLL2'], stdout: PCAP_HEADER, endsAlone: false, exitCode: 0 };
  private pod: any = aPod('web').inNamespace('shop').withContainer('app').withStatus({ phase: 'Running' }).build();

  private setState(name: string, state: object): void {
    const others = (this.pod.status.ephemeralContainerStatuses ?? []).filter((s: any) => s.name !== name);
    this.pod.status.ephemeralContainerStatuses = [...others, { name, image: '', imageID: '', ready: false, restartCount: 0, state }];
  }

  context(): CommandContext {
    const api = {
      getPod: async () => structuredClone(this.pod),
      getNamespace: async () => ({ metadata: { name: 'shop', labels: { [ENFORCE]: this.level } } }),
      whoAmI: async () => 'alice',
      canI: async (_ns: string, verb: string, resource: string) => ({ allowed: verb === 'patch' && resource === 'pods' && this.mayPatch }),
      updateAnnotation: async (_ns: string, _pod: string, _key: string, update: (v: string | undefined, a: Record<string, string>) => string | undefined) => {
        this.calls.push('annotate');
        this.trail = update(this.trail, {}) ?? this.trail;
        return true;
      },
      addEphemeralContainer: async (_ns: string, _pod: string, c: any) => {
        this.calls.push(`add ${c.name}`);
        this.added = c;
        this.pod.spec.ephemeralContainers = [...(this.pod.spec.ephemeralContainers ?? []), c];
        this.setState(c.name, { running: { startedAt: '2026-11-30T09:00:00Z' } });
        return { ...structuredClone(this.pod), metadata: { ...this.pod.metadata, resourceVersion: '7' } };
      },
      // The one waiter watches: here each watch sees the pod as it is now.
      watchPod: async (_ns: string, _name: string, _rv: unknown, _deadline: number, check: (p: any) => unknown) => check(structuredClone(this.pod)),
    };
    const conn = { api: api as never, target: { namespace: 'shop' } as never, close: () => this.calls.push('close') };
    const runner: KubectlRunner = {
      run: async () => {
        throw new Error('capture runs no kubectl command');
      },
      sendKeys: async () => {
        throw new Error('capture types no keys');
      },
      streamAttach: (args, sink, closeSink, onStderr) => this.attach(args, sink, closeSink, onStderr),
    };
    return {
      printer: processPrinter(false, {}, { stdout: { write: (t: string) => this.stdout.push(t) }, stderr: { write: (t: string) => this.stderr.push(t) } }),
      env: {},
      presets: async () => PresetRegistry.from(),
      connect: async () => conn,
      runner,
      suffix: () => 'abcde',
      now: () => Date.now(),
      signal: new AbortController().signal,
      onInterrupt: (cleanup: () => Promise<void | number>) => {
        this.interrupts.push(cleanup);
        return () => this.interrupts.splice(this.interrupts.indexOf(cleanup), 1);
      },
    } as unknown as CommandContext;
  }

  /** kubectl attach to the fake container: nothing flows before "go"; "stop" (or --count) ends tcpdump. */
  private attach(args: string[], sink: Writable, closeSink: boolean, onStderr: (line: string) => void): StreamAttach {
    this.calls.push(`attach ${args.join(' ')}`);
    let bytes = 0;
    let end: (code: number) => void = () => undefined;
    const done = new Promise<number>((resolve) => (end = resolve));
    const container = args[args.indexOf('-c') + 1]!;
    const finish = () => {
      this.setState(container, { terminated: { exitCode: this.tcpdump.exitCode, reason: this.tcpdump.exitCode ? 'Error' : 'Completed' } });
      if (closeSink) sink.end(() => end(0));
      else end(0);
    };
    return {
      send: (line) => {
        this.sent.push(line);
        if (line === 'go') {
          this.tcpdump.stderr.forEach(onStderr);
          if (this.tcpdump.stdout.length) sink.write(this.tcpdump.stdout);
          bytes += this.tcpdump.stdout.length;
          if (this.tcpdump.writeError) sink.emit('error', Object.assign(new Error(`write ${this.tcpdump.writeError}`), { code: this.tcpdump.writeError }));
          if (this.tcpdump.endsAlone) finish();
        }
        if (line === 'stop') finish();
      },
      done,
      kill: () => this.calls.push('kill'),
      bytes: () => bytes,
    };
  }

  /** Waits for the capture to be streaming, as Ctrl-C would find it. */
  async streaming(): Promise<void> {
    while (!this.sent.includes('go')) await new Promise((r) => setImmediate(r));
  }
}

describe('runCapture: the capture through the kubectl runner', () => {
  let dir = '';
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'ke-capture-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const capture = (extra: Partial<CaptureOptions> = {}): CaptureOptions => ({ pod: 'web', iface: 'eth0', write: join(dir, 'out.pcap'), timeout: '2m', kube: { verbosity: 0 }, ...extra });

  it('streams tcpdump into the -w file (mode 0600), says where, and exits 0', async () => {
    const fake = new FakeCapture();
    fake.tcpdump.endsAlone = true;
    const opts = capture({ count: 5, filter: 'tcp port 8080' });
    await expect(runCapture(fake.context(), opts)).resolves.toBe(0);
    expect(readFileSync(opts.write!)).toEqual(PCAP_HEADER);
    expect(statSync(opts.write!).mode & 0o777).toBe(0o600);
    const name = fake.added.name as string;
    expect(name).toMatch(/-abcde$/);
    expect(fake.calls).toEqual([`add ${name}`, 'annotate', `attach web -c ${name} -n shop`, 'close']);
    // Its entry in the pod's audit trail, and the trail as it was pinned in the container.
    expect(JSON.parse(fake.trail!)).toEqual([expect.objectContaining({ container: name, preset: 'network', user: 'alice', prev: '' })]);
    expect(fake.added.env).toContainEqual({ name: 'KUBECTL_EPHEMERAL_TRAIL' });
    expect(fake.sent).toEqual(['go']);
    expect(fake.added.stdinOnce).toBe(true);
    expect(fake.added.command).toEqual(['sh', '-c', CAPTURE_SCRIPT]);
    expect(fake.added.env).toEqual(expect.arrayContaining([
      { name: 'CAPTURE_IFACE', value: 'eth0' },
      { name: 'CAPTURE_FILTER', value: 'tcp port 8080' },
      { name: 'CAPTURE_COUNT', value: '5' },
    ]));
    expect(fake.stdout).toEqual([]);
    expect(fake.stderr).toEqual([
      `Pod Security "baseline": the debug container runs as root keeping only NET_RAW, SETGID of the runtime's default capabilities\n`,
      `capturing on eth0 in pod "web" with ephemeral container "${name}" (filter: tcp port 8080); Ctrl-C stops\n`,
      'tcpdump: listening on any, link-type LINUX_SLL2\n',
      `${PCAP_HEADER.length} bytes of pcap written to ${opts.write}\n`,
    ]);
  });

  it("prints tcpdump's stderr with control characters escaped", async () => {
    const fake = new FakeCapture();
    fake.tcpdump.endsAlone = true;
    fake.tcpdump.stderr = ['\x1b]0;owned\x07tcpdump: \x1b[2Jlistening on eth0'];
    await expect(runCapture(fake.context(), capture())).resolves.toBe(0);
    expect(fake.stderr).toContain('^[]0;owned^Gtcpdump: ^[[2Jlistening on eth0\n');
    expect(fake.stderr.join('')).not.toContain('\x1b');
  });

  it('--duration sends "stop" when it is up, and the capture ends with exit 0', async () => {
    const fake = new FakeCapture();
    const opts = capture({ duration: '50ms' });
    await expect(runCapture(fake.context(), opts)).resolves.toBe(0);
    expect(fake.sent).toEqual(['go', 'stop']);
    expect(readFileSync(opts.write!)).toEqual(PCAP_HEADER);
  });

  it('Ctrl-C stops tcpdump and keeps a valid file: the interrupt and the command both end with 0', async () => {
    const fake = new FakeCapture();
    const opts = capture();
    const running = runCapture(fake.context(), opts);
    await fake.streaming();
    expect(fake.interrupts).toHaveLength(1);
    await expect(fake.interrupts[0]!()).resolves.toBe(0);
    await expect(running).resolves.toBe(0);
    expect(fake.sent).toEqual(['go', 'stop']);
    expect(fake.interrupts).toEqual([]);
    expect(readFileSync(opts.write!)).toEqual(PCAP_HEADER);
  });

  it('a tcpdump that fails: tool-failed (exit 71) naming its exit code, and the -w file removed', async () => {
    const fake = new FakeCapture();
    fake.tcpdump = { stderr: ['tcpdump: eth9: No such device exists'], stdout: Buffer.alloc(0), endsAlone: true, exitCode: 1 };
    const failed = runCapture(fake.context(), capture({ iface: 'eth9' }));
    await expect(failed).rejects.toMatchObject({ kind: 'tool-failed', exitCode: 71, message: expect.stringMatching(/^tcpdump in "[^"]+-abcde" failed \(exit 1\); its message is above; check -f and -i; with --image, /) });
    expect(fake.stderr).toContain('tcpdump: eth9: No such device exists\n');
    expect(readdirSync(dir)).toEqual([]);
  });

  it('a stream that is not a pcap: tool-failed, and the -w file removed', async () => {
    const fake = new FakeCapture();
    fake.tcpdump = { stderr: [], stdout: Buffer.from('sh: tcpdump: not found\n'), endsAlone: true, exitCode: 0 };
    const opts = capture();
    await expect(runCapture(fake.context(), opts)).rejects.toMatchObject({ kind: 'tool-failed', message: `${opts.write} is not a pcap file (kubectl attach exited 0); rerun with -v` });
    expect(readdirSync(dir)).toEqual([]);
  });

  it('-w -: the stream goes to stdout, which is left open', async () => {
    const fake = new FakeCapture();
    fake.tcpdump = { ...fake.tcpdump, stdout: Buffer.alloc(0), endsAlone: true };
    let sink: Writable | undefined;
    const ctx = fake.context();
    const streamAttach = ctx.runner.streamAttach;
    ctx.runner.streamAttach = (args, s, closeSink, onStderr) => {
      sink = s;
      expect(closeSink).toBe(false);
      return streamAttach(args, s, closeSink, onStderr);
    };
    await expect(runCapture(ctx, capture({ write: '-' }))).resolves.toBe(0);
    expect(sink).toBe(process.stdout);
    expect(fake.stderr.at(-1)).toBe('0 bytes of pcap written to stdout\n');
  });

  it('restricted: refused by the Pod Security gate before any container is added, and the file removed', async () => {
    const fake = new FakeCapture();
    fake.level = 'restricted';
    await expect(runCapture(fake.context(), capture())).rejects.toMatchObject({
      kind: 'policy-rejected',
      message: expect.stringMatching(/^namespace "shop" enforces Pod Security "restricted": .*tcpdump needs root with NET_RAW, which restricted forbids/),
    });
    expect(fake.calls).toEqual(['close']);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('without "patch pods": a note, and no write is tried', async () => {
    const fake = new FakeCapture();
    fake.mayPatch = false;
    fake.tcpdump.endsAlone = true;
    await expect(runCapture(fake.context(), capture())).resolves.toBe(0);
    expect(fake.calls).not.toContain('annotate');
    expect(fake.stderr).toContain('note: audit annotation kubectl-ephemeral.dev/audit not written (no "patch pods": the ClusterRole kubectl-ephemeral-audit); the container env still records preset, user and reason\n');
  });

  it.each([
    ['ENOSPC', 'no space left on the device (ENOSPC)'],
    ['EPIPE', 'the reader closed the pipe (EPIPE)'],
    ['EIO', 'an input/output error (EIO)'],
  ])('a write that fails with %s: write-failed (exit 74) in one line, the partial file removed, the container stopped', async (code, why) => {
    const fake = new FakeCapture();
    fake.tcpdump.writeError = code;
    const opts = capture();
    const failed = runCapture(fake.context(), opts);
    await expect(failed).rejects.toMatchObject({
      kind: 'write-failed',
      exitCode: 74,
      message: `cannot write ${opts.write}: ${why}; the partial file was removed; the capture container "${fake.added?.name ?? 'debugger-network-abcde'}" stopped`,
    });
    expect(fake.sent).toEqual(['go', 'stop']);
    expect(readdirSync(dir)).toEqual([]);
  });
});
