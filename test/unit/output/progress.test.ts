import { PassThrough } from 'node:stream';
import { CLUSTER_LINE_MAX, processPrinter, quietPrinter } from '../../../src/output/printer';
import { waitProgress } from '../../../src/output/progress';

/** A printer over buffers; stderr a terminal of the given width or not. */
function printerOver(opts: { tty: boolean; env?: NodeJS.ProcessEnv; columns?: number }) {
  let out = '';
  let err = '';
  const stdout = Object.assign(new PassThrough(), { isTTY: false });
  const stderr = Object.assign(new PassThrough(), { isTTY: opts.tty, columns: opts.columns ?? 100 });
  stdout.on('data', (d: Buffer) => (out += d.toString()));
  stderr.on('data', (d: Buffer) => (err += d.toString()));
  const printer = processPrinter(false, opts.env ?? {}, { stdout, stderr });
  return { printer, out: () => out, err: () => err };
}

describe('waitProgress', () => {
  it('on a terminal: one line redrawn in place with the elapsed time and what the kubelet does, cleared at the end', () => {
    const p = printerOver({ tty: true });
    let t = 1_000;
    const progress = waitProgress(p.printer, 'dbg', () => t);
    progress.onWaiting({ reason: 'ContainerCreating', message: '' });
    t = 3_400;
    progress.onEvent({ reason: 'Pulling', message: 'Pulling image "busybox:1.36"', type: 'Normal', count: 1 });
    t = 9_000;
    progress.onEvent({ reason: 'Pulled', message: 'Successfully pulled image "busybox:1.36" in 7.2s (7.2s including waiting). Image size: 2160000 bytes.', type: 'Normal', count: 1 });
    progress.stop();
    expect(p.err()).toBe(
      '\r\x1b[Kwaiting for "dbg" \x1b[2m0s\x1b[0m: ContainerCreating' +
        '\r\x1b[Kwaiting for "dbg" \x1b[2m2s\x1b[0m: ContainerCreating; Pulling: Pulling image "busybox:1.36"' +
        // Cut to the terminal's width less one (99 visible characters): a wrapped line could not be redrawn.
        '\r\x1b[Kwaiting for "dbg" \x1b[2m8s\x1b[0m: ContainerCreating; Pulled: Successfully pulled image "busybox:1.36" in 7.2s …\x1b[0m' +
        '\r\x1b[K',
    );
    expect(p.out()).toBe('');
  });

  it('NO_COLOR: the same line without colour; a back-off shows its count', () => {
    const p = printerOver({ tty: true, env: { NO_COLOR: '1' } });
    const progress = waitProgress(p.printer, 'dbg', () => 0);
    progress.onEvent({ reason: 'BackOff', message: 'Back-off pulling image "nope:1"', type: 'Warning', count: 3 });
    // The event came first: the waiting reason joins it, it does not replace it.
    progress.onWaiting({ reason: 'ContainerCreating', message: '' });
    progress.stop();
    expect(p.err()).toBe(
      '\r\x1b[Kwaiting for "dbg" 0s: BackOff: Back-off pulling image "nope:1" (x3)\r\x1b[Kwaiting for "dbg" 0s: ContainerCreating; BackOff: Back-off pulling image "nope:1" (x3)\r\x1b[K',
    );
  });

  it('a warning event is yellow when colour is on', () => {
    const p = printerOver({ tty: true });
    waitProgress(p.printer, 'dbg', () => 0).onEvent({ reason: 'Failed', message: 'x', type: 'Warning', count: 1 });
    expect(p.err()).toContain('\x1b[33mFailed: x\x1b[0m');
  });

  it('not a terminal: plain lines, one per change, no escape sequence', () => {
    const p = printerOver({ tty: false });
    const progress = waitProgress(p.printer, 'dbg', () => 0);
    progress.onWaiting({ reason: 'ContainerCreating', message: '' });
    progress.onEvent({ reason: 'Pulled', message: 'Container image "busybox:1.36" already present on machine', type: 'Normal', count: 1 });
    progress.onEvent({ reason: 'Started', message: 'Started container dbg', type: 'Normal', count: 1 });
    progress.stop();
    expect(p.err()).toBe(
      'waiting for container "dbg": ContainerCreating\ncontainer "dbg": Pulled: Container image "busybox:1.36" already present on machine\ncontainer "dbg": Started: Started container dbg\n',
    );
  });

  it('-q: nothing at all, on a terminal or not', () => {
    for (const tty of [true, false]) {
      const p = printerOver({ tty });
      const progress = waitProgress(quietPrinter(p.printer), 'dbg', () => 0);
      progress.onWaiting({ reason: 'ContainerCreating', message: '' });
      progress.onEvent({ reason: 'Pulling', message: 'Pulling image "x"', type: 'Normal', count: 1 });
      progress.stop();
      expect(p.err()).toBe('');
    }
  });

  it('escapes control characters the cluster sent', () => {
    const p = printerOver({ tty: false });
    waitProgress(p.printer, 'dbg', () => 0).onEvent({ reason: 'Failed', message: 'evil\x1b]0;pwned\x07\r\nnext', type: 'Warning', count: 1 });
    expect(p.err()).toBe('container "dbg": Failed: evil^[]0;pwned^G\\nnext\n');
  });

  it('an event about the pod (the scheduler\'s FailedScheduling) says why the container waits: on the live line after Pending, as a waiting line otherwise', () => {
    const failed = { reason: 'FailedScheduling', message: '0/2 nodes are available: 2 node(s) didn\'t match Pod\'s node affinity/selector.', type: 'Warning', count: 1, about: 'pod' as const };
    const live = printerOver({ tty: true, env: { NO_COLOR: '1' }, columns: 200 });
    const progress = waitProgress(live.printer, 'app', () => 0);
    progress.onWaiting({ reason: 'Pending', message: '' });
    progress.onEvent(failed);
    progress.stop();
    expect(live.err()).toBe(
      '\r\x1b[Kwaiting for "app" 0s: Pending\r\x1b[Kwaiting for "app" 0s: Pending; FailedScheduling: 0/2 nodes are available: 2 node(s) didn\'t match Pod\'s node affinity/selector.\r\x1b[K',
    );
    const plain = printerOver({ tty: false });
    waitProgress(plain.printer, 'app', () => 0).onEvent(failed);
    expect(plain.err()).toBe('waiting for container "app": FailedScheduling: 0/2 nodes are available: 2 node(s) didn\'t match Pod\'s node affinity/selector.\n');
  });

  it('bounds what the cluster sent: a message longer than CLUSTER_LINE_MAX is cut with an ellipsis, on plain lines too', () => {
    const p = printerOver({ tty: false });
    waitProgress(p.printer, 'app', () => 0).onEvent({ reason: 'FailedScheduling', message: `0/5000 nodes are available: ${'x'.repeat(5_000)}`, type: 'Warning', count: 1, about: 'pod' });
    const line = p.err().trimEnd();
    expect(line).toBe(`waiting for container "app": FailedScheduling: 0/5000 nodes are available: ${'x'.repeat(CLUSTER_LINE_MAX - 1 - '0/5000 nodes are available: '.length)}…`);
  });

  it('other lines print above the live line, which is drawn again below them', () => {
    const p = printerOver({ tty: true, env: { NO_COLOR: '1' } });
    const progress = waitProgress(p.printer, 'dbg', () => 0);
    progress.onWaiting({ reason: 'ContainerCreating', message: '' });
    p.printer.info('note: something');
    expect(p.err()).toBe('\r\x1b[Kwaiting for "dbg" 0s: ContainerCreating\r\x1b[Knote: something\nwaiting for "dbg" 0s: ContainerCreating');
    progress.stop();
  });
});
