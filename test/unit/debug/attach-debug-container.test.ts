// The session's first and last lines and what they say about recordings, with the terminal
// session and the API replaced: the relay itself is tested in test/unit/terminal, the real
// session on the node in test/e2e/sessions.
import type { V1Pod } from '@kubernetes/client-node';
import type { CommandContext, Connection } from '../../../src/context';
import { attachDebugContainer, type AttachTarget } from '../../../src/debug/attach-debug-container';
import { PluginError } from '../../../src/errors/plugin-error';
import { quietPrinter, type Printer } from '../../../src/output/printer';
import type { AttachSessionOptions, AttachSessionResult } from '../../../src/terminal/attach-session';
import { aPod } from '../../support/builders';
import { Readable, Writable } from 'node:stream';

function world(opts: { result?: AttachSessionResult; fail?: Error; state?: object; quiet?: boolean; split?: boolean }) {
  const lines: string[] = [];
  const base: Printer = { verbose: false, live: false, color: false, status: () => {}, out: (t) => lines.push(`out: ${t}`), info: (t) => lines.push(`info: ${t}`), warn: (t) => lines.push(`warn: ${t}`), debug: () => {} };
  const attached: AttachSessionOptions[] = [];
  const pod = aPod('web').inNamespace('shop').build() as V1Pod;
  pod.status = { ephemeralContainerStatuses: [{ name: 'dbg', image: 'busybox', imageID: '', ready: false, restartCount: 0, state: opts.state ?? { running: {} } }] } as V1Pod['status'];
  const conn = {
    target: { namespace: 'shop', contextName: 'ctx', clusterName: 'c' },
    api: {
      watchPod: async (_ns: string, _pod: string, _rv: unknown, _deadline: number, check: (p: V1Pod) => unknown) => check(pod),
      // The container's log, as the kubelet streams it: everything from the first byte, then the end.
      // Asked for one stream, an API server without PodLogsQuerySplitStreams refuses (undefined),
      // unless the test says it serves them apart.
      followLogs: async (_ns: string, _pod: string, _c: string, _signal: unknown, stream?: string) =>
        stream === undefined ? Readable.from([Buffer.from('first\n'), Buffer.from('second\n')]) : opts.split ? Readable.from([Buffer.from(stream === 'Stdout' ? 'out-only\n' : 'err-only\n')]) : undefined,
    },
  } as unknown as Connection;
  const ctx = {
    printer: opts.quiet ? quietPrinter(base) : base,
    env: { XDG_STATE_HOME: '/state' },
    kubectl: 'kubectl',
    now: () => Date.parse('2026-11-30T10:00:00Z'),
    attach: async (o: AttachSessionOptions) => {
      attached.push(o);
      if (opts.fail) throw opts.fail;
      return opts.result ?? { exitCode: 0 };
    },
  } as unknown as CommandContext;
  return { lines, attached, ctx, conn };
}

const target = (over: Partial<AttachTarget> = {}): AttachTarget => ({ pod: 'web', container: 'dbg', record: false, recordInput: false, stdin: true, tty: true, detachKeys: 'ctrl-p,ctrl-q', ...over });
const AGAIN = 'kubectl ephemeral attach web dbg -n shop';

describe('attachDebugContainer', () => {
  it('a shell that exited: our first line, then its exit code as the last line and the result', async () => {
    const w = world({ state: { terminated: { exitCode: 3, reason: 'Error' } } });
    expect(await attachDebugContainer(w.ctx, w.conn, { verbosity: 0 }, target())).toBe(3);
    expect(w.lines).toEqual(['info: attaching to "dbg" of pod "web" (exit the shell to end it, Ctrl-P Ctrl-Q to detach and leave it running)', 'info: container "dbg" exited with code 3']);
    expect(w.attached[0]).toMatchObject({ args: ['attach', 'web', '-c', 'dbg', '-n', 'shop'], stdin: true, tty: true, detachKeys: Buffer.from([16, 17]) });
  });

  it('detached: exit 0 and the command that attaches again', async () => {
    const w = world({ result: { exitCode: 0, detached: true } });
    expect(await attachDebugContainer(w.ctx, w.conn, { verbosity: 0, context: 'prod' }, target())).toBe(0);
    // On a line of its own: the keys leave the cursor after the shell prompt.
    expect(w.lines.at(-1)).toBe(`info: \ndetached; container "dbg" is still running; attach again with: ${AGAIN} --context prod`);
  });

  it('left running (detached, or the attach failed): the owner is told, so a pod copy is kept; an exit is not', async () => {
    for (const result of [{ exitCode: 0, detached: true }, { exitCode: 1 }]) {
      let told = 0;
      const w = world({ result });
      await attachDebugContainer(w.ctx, w.conn, { verbosity: 0 }, target({ onLeftRunning: () => told++ }));
      expect(told).toBe(1);
    }
    let told = 0;
    const exited = world({ state: { terminated: { exitCode: 0, reason: 'Completed' } } });
    await attachDebugContainer(exited.ctx, exited.conn, { verbosity: 0 }, target({ onLeftRunning: () => told++ }));
    expect(told).toBe(0);
  });

  it('kubectl ended with the container still running: says so, with kubectl\'s failure', async () => {
    const w = world({ result: { exitCode: 1 } });
    expect(await attachDebugContainer(w.ctx, w.conn, { verbosity: 0 }, target())).toBe(1);
    expect(w.lines.at(-1)).toBe(`info: container "dbg" is still running (kubectl attach failed with code 1); attach again with: ${AGAIN}`);
  });

  it('a pipe: no detach keys, and the first line says what flows', async () => {
    const w = world({ state: { terminated: { exitCode: 0, reason: 'Completed' } } });
    await attachDebugContainer(w.ctx, w.conn, { verbosity: 0 }, target({ tty: false }));
    expect(w.lines[0]).toBe('info: attaching to "dbg" of pod "web" (stdin is passed in, output and exit code out)');
    expect(w.attached[0]!.detachKeys).toEqual(Buffer.alloc(0));
  });

  it('a recording: announced before the session with its file, output only by default', async () => {
    const w = world({ state: { terminated: { exitCode: 0 } } });
    await attachDebugContainer(w.ctx, w.conn, { verbosity: 0 }, target({ record: true }));
    const file = '/state/kubectl-ephemeral/sessions/2026-11-30T100000Z_web_dbg.cast';
    expect(w.lines[0]).toBe(`warn: this session is recorded to ${file} (output only; --record-input adds keystrokes)`);
    expect(w.attached[0]!.recording).toMatchObject({ file, input: false });
  });

  it('--record-input: announced as keeping keystrokes, and passed on', async () => {
    const w = world({ state: { terminated: { exitCode: 0 } } });
    await attachDebugContainer(w.ctx, w.conn, { verbosity: 0 }, target({ record: '/tmp/s.cast', recordInput: true }));
    expect(w.lines[0]).toBe('warn: this session is recorded to /tmp/s.cast (output and keystrokes)');
    expect(w.attached[0]!.recording).toMatchObject({ file: '/tmp/s.cast', input: true });
  });

  it('a recording that failed during the session is reported, not dropped', async () => {
    const w = world({ result: { exitCode: 0, recordingError: Object.assign(new Error('EFBIG: file too large, write'), { code: 'EFBIG' }) }, state: { terminated: { exitCode: 0 } } });
    expect(await attachDebugContainer(w.ctx, w.conn, { verbosity: 0 }, target({ record: '/tmp/s.cast' }))).toBe(0);
    expect(w.lines).toContain('warn: warning: the recording /tmp/s.cast is incomplete: EFBIG: file too large, write');
  });

  it('a recording file that cannot be opened: one usage line naming the fix and how to reach the running container', async () => {
    const fail = Object.assign(new Error('EEXIST: file already exists, open \'/tmp/s.cast\''), { code: 'EEXIST', syscall: 'open', path: '/tmp/s.cast' });
    const w = world({ fail });
    const err = await attachDebugContainer(w.ctx, w.conn, { verbosity: 0 }, target({ record: '/tmp/s.cast' })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PluginError);
    expect((err as PluginError).kind).toBe('usage');
    expect((err as PluginError).message).toBe(`cannot record to /tmp/s.cast (EEXIST); pass --record=FILE with a new file in a writable directory, or --no-record; container "dbg" still runs: ${AGAIN}`);
  });

  it('-q: the recording notice and warnings stay, our progress lines go', async () => {
    const w = world({ quiet: true, result: { exitCode: 0, recordingError: new Error('ENOSPC: no space left on device') }, state: { terminated: { exitCode: 2 } } });
    expect(await attachDebugContainer(w.ctx, w.conn, { verbosity: 0 }, target({ record: '/tmp/q.cast' }))).toBe(2);
    expect(w.lines).toEqual(['warn: this session is recorded to /tmp/q.cast (output only; --record-input adds keystrokes)', 'warn: warning: the recording /tmp/q.cast is incomplete: ENOSPC: no space left on device']);
  });

  it('kubectl attach failed before landing, the container still runs: said once in the plugin\'s words, exit 71 (tool-failed)', async () => {
    const w = world({ result: { exitCode: 1, end: { kind: 'failed', message: 'error: pods "web" is forbidden: User "u" cannot create resource "pods/attach"', exitCode: 1 } } });
    const err = await attachDebugContainer(w.ctx, w.conn, { verbosity: 0 }, target()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PluginError);
    expect((err as PluginError).exitCode).toBe(71);
    expect((err as PluginError).message).toBe(`could not attach to container "dbg" of pod "web": kubectl attach failed (kubectl: pods "web" is forbidden: User "u" cannot create resource "pods/attach"); it is still running; attach again with: ${AGAIN}`);
  });

  it('"not found" to the end while the container runs: the plugin\'s words, never kubectl\'s line', async () => {
    const w = world({ result: { exitCode: 1, notFound: 'error: x not found', end: { kind: 'not-found', message: 'error: x not found', exitCode: 1 } } });
    const err = (await attachDebugContainer(w.ctx, w.conn, { verbosity: 0 }, target()).catch((e: unknown) => e)) as PluginError;
    expect(err.message).toBe(`could not attach to container "dbg" of pod "web": the kubelet did not find it in time (kubectl: x not found); it is still running; attach again with: ${AGAIN}`);
    expect(w.lines.join('\n')).not.toContain('error:');
  });

  it('a signal before any attach landed: cancelled (130), the container named with the way back', async () => {
    const w = world({ result: { exitCode: 130, end: { kind: 'abandoned', signal: 'SIGINT' } } });
    const err = (await attachDebugContainer(w.ctx, w.conn, { verbosity: 0 }, target()).catch((e: unknown) => e)) as PluginError;
    expect(err.exitCode).toBe(130);
    expect(err.message).toBe(`cancelled before the session attached to container "dbg" of pod "web"; it keeps running: ${AGAIN}`);
  });

  describe('a command without a terminal: output from the log', () => {
    const captured = () => {
      const chunks: Buffer[] = [];
      const out = new Writable({ write: (c: Buffer, _e, done) => (chunks.push(c), done()) });
      return { out, text: () => Buffer.concat(chunks).toString() };
    };
    const withStdout = async <T>(run: (out: Writable) => Promise<T>): Promise<{ value: T; text: string; errText: string }> => {
      const c = captured();
      const e = captured();
      const real = Object.getOwnPropertyDescriptor(process, 'stdout')!;
      const realErr = Object.getOwnPropertyDescriptor(process, 'stderr')!;
      Object.defineProperty(process, 'stdout', { value: c.out, configurable: true });
      Object.defineProperty(process, 'stderr', { value: e.out, configurable: true });
      try {
        return { value: await run(c.out), text: c.text(), errText: e.text() };
      } finally {
        Object.defineProperty(process, 'stdout', real);
        Object.defineProperty(process, 'stderr', realErr);
      }
    };

    it('prints the log from its first byte, passes stdin through an attach that carries only that, exits with the container\'s code', async () => {
      const w = world({ state: { terminated: { exitCode: 3, reason: 'Error' } } });
      const { value, text } = await withStdout(() => attachDebugContainer(w.ctx, w.conn, { verbosity: 0 }, target({ tty: false, outputFromLog: true })));
      expect(value).toBe(3);
      expect(text).toBe('first\nsecond\n');
      expect(w.attached).toHaveLength(1);
      expect(w.attached[0]).toMatchObject({ stdinOnly: true, stdin: true });
      expect(w.lines).toEqual([
        'info: attaching to "dbg" of pod "web" (stdin is passed in, its output from the first byte (stdout and stderr merged) and exit code out)',
        'info: container "dbg" exited with code 3',
      ]);
    });

    it('-i=false: no attach at all', async () => {
      const w = world({ state: { terminated: { exitCode: 0, reason: 'Completed' } } });
      const { value, text } = await withStdout(() => attachDebugContainer(w.ctx, w.conn, { verbosity: 0 }, target({ tty: false, stdin: false, outputFromLog: true })));
      expect(value).toBe(0);
      expect(text).toBe('first\nsecond\n');
      expect(w.attached).toHaveLength(0);
      expect(w.lines.at(-1)).toBe('info: container "dbg" exited with code 0');
    });

    it('a stdin attach that failed because the command had already ended: nothing of it is said', async () => {
      const failed = { exitCode: 1, end: { kind: 'failed' as const, message: 'error: cannot attach to a container that has exited', exitCode: 1 } };
      const w = world({ result: failed, state: { terminated: { exitCode: 0, reason: 'Completed' } } });
      const { value, text } = await withStdout(() => attachDebugContainer(w.ctx, w.conn, { verbosity: 0 }, target({ tty: false, outputFromLog: true })));
      expect(value).toBe(0);
      expect(text).toBe('first\nsecond\n');
      expect(w.lines.join('\n')).not.toMatch(/error|cannot attach/);
    });

    it('a server that serves the log\'s streams apart: stdout to stdout, stderr to stderr, and the first line does not say merged', async () => {
      const w = world({ split: true, state: { terminated: { exitCode: 0, reason: 'Completed' } } });
      const { text, errText } = await withStdout(() => attachDebugContainer(w.ctx, w.conn, { verbosity: 0 }, target({ tty: false, stdin: false, outputFromLog: true })));
      expect(text).toBe('out-only\n');
      expect(errText).toBe('err-only\n');
      expect(w.lines[0]).toBe('info: attaching to "dbg" of pod "web" (no stdin, its output from the first byte and exit code out)');
    });
  });
});
