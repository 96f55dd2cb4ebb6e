// One interactive attach, driven the way a person at a terminal would drive it: the command runs
// under a pty of the harness (node-pty), every byte it prints is read, and the harness types.
import { createRequire } from 'node:module';
import { delay, pollPeakRss, wallNow } from './proc.mjs';

const require = createRequire(import.meta.url);
const pty = require('node-pty');

const PROMPT_HINT = Buffer.from("If you don't see a command prompt");
// The plugin runs kubectl attach --quiet (no hint): its sessions show busybox's prompt instead (root's,
// or a user's: the shell preset runs as one).
const ROOT_PROMPT = Buffer.from('/ # ');
const USER_PROMPT = Buffer.from('/ $ ');

export class PtySession {
  /** Spawns file/args under a cols x rows pty with raw byte output. */
  constructor(file, args, { env, cols = 160, rows = 48 }) {
    this.startWall = wallNow();
    this.t0 = performance.now();
    this.child = pty.spawn(file, args, { cols, rows, env, encoding: null, handleFlowControl: false });
    this.pid = this.child.pid;
    this.rss = pollPeakRss(this.pid, 25);
    this.total = 0;
    // A short tail of the output so that a marker split across chunks is still found.
    this.tail = Buffer.alloc(0);
    this.transcript = [];
    this.crcrlf = 0;
    this.waiter = undefined;
    this.exited = new Promise((resolve) => this.child.onExit((e) => resolve(e)));
    this.child.onData((chunk) => this.onData(chunk));
  }

  onData(chunk) {
    this.total += chunk.length;
    if (this.transcript.length < 64) this.transcript.push(chunk);
    const joined = Buffer.concat([this.tail, chunk]);
    // "\r\r\n": a line ending the container's terminal already translated, translated again.
    for (let i = joined.indexOf('\r\r\n', Math.max(0, this.tail.length - 2)); i >= 0; i = joined.indexOf('\r\r\n', i + 3)) this.crcrlf++;
    this.tail = joined.subarray(Math.max(0, joined.length - 64));
    if (this.waiter && this.waiter.markers.some((m) => joined.includes(m))) {
      const w = this.waiter;
      this.waiter = undefined;
      this.tail = Buffer.alloc(0);
      w.resolve(performance.now());
    }
  }

  /** Resolves with the time (performance.now) marker (or any of an array of markers) was seen in the output from now on. */
  waitFor(marker, timeoutMs = 30_000) {
    const markers = (Array.isArray(marker) ? marker : [marker]).map((x) => (Buffer.isBuffer(x) ? x : Buffer.from(x)));
    const m = Buffer.concat(markers.flatMap((x, i) => (i ? [Buffer.from(' | '), x] : [x])));
    this.tail = Buffer.alloc(0);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        reject(new Error(`no ${JSON.stringify(m.toString())} within ${timeoutMs} ms; output so far: ${JSON.stringify(Buffer.concat(this.transcript).toString().slice(-600))}`));
      }, timeoutMs);
      this.waiter = { markers, resolve: (t) => (clearTimeout(timer), resolve(t)) };
    });
  }

  write(text) {
    this.child.write(text);
  }

  /**
   * Waits until typing reaches the container's shell: kubectl's "If you don't see a command
   * prompt", or the container's prompt where the plugin keeps kubectl quiet (typing before that would
   * be echoed by the local pty), then a probe command
   * until its output (not its echo) comes back. Returns ms from spawn.
   */
  async waitAttached(timeoutMs = 60_000) {
    const end = performance.now() + timeoutMs;
    let exit;
    void this.exited.then((e) => (exit = e));
    const gone = () => new Error(`exited (${JSON.stringify(exit)}) before attaching: ${JSON.stringify(Buffer.concat(this.transcript).toString().slice(-600))}`);
    // A command that fails at once (bad build, no permission) ends the wait at once too.
    await Promise.race([this.waitFor([PROMPT_HINT, ROOT_PROMPT, USER_PROMPT], timeoutMs).catch(() => undefined), this.exited.then(() => delay(100))]);
    while (performance.now() < end) {
      if (exit) throw gone();
      const seen = this.waitFor('R42', 700);
      this.write('echo R$((6*7))\r');
      try {
        return (await seen) - this.t0;
      } catch {
        // not attached yet
      }
    }
    throw new Error(`not attached within ${timeoutMs} ms: ${JSON.stringify(Buffer.concat(this.transcript).toString().slice(-600))}`);
  }

  /** Runs `head -c BYTES /dev/zero | base64` in the container; resolves with { ms, bytes } until its end marker. */
  async throughput(bytes) {
    const seen = this.waitFor('E6ND', 600_000);
    const before = this.total;
    const t = performance.now();
    this.write(`head -c ${bytes} /dev/zero | base64; echo E$((2*3))ND\r`);
    const at = await seen;
    return { ms: at - t, bytes: this.total - before };
  }

  /**
   * Types `count` single characters into `cat` (terminal in -icanon -echo mode, so the only echo
   * is cat's) and times each one's return; a few ms apart so that keystrokes never queue.
   */
  async keystrokeLatencies(count) {
    this.write('stty -icanon -echo min 1 time 0; cat\r');
    await delay(200);
    let ready = false;
    for (let i = 0; i < 40 && !ready; i++) {
      const seen = this.waitFor('Z', 500);
      this.write('Z');
      ready = await seen.then(() => true, () => false);
    }
    if (!ready) throw new Error('cat did not echo');
    await delay(100);
    const letters = 'abcdefghijklmnopqrstuvwxy';
    const samples = [];
    for (let i = 0; i < count; i++) {
      const c = letters[i % letters.length];
      const seen = this.waitFor(c, 10_000);
      const t = performance.now();
      this.write(c);
      samples.push((await seen) - t);
      await delay(3 + (i % 3));
    }
    // Ctrl-C ends cat (isig stays on), then the terminal goes back to normal for the next session.
    this.write('\x03');
    await delay(150);
    const done = this.waitFor('D9ONE', 10_000);
    this.write('stty sane; echo D$((3*3))ONE\r');
    await done;
    return samples;
  }

  /** Peak RSS so far of the spawned process and its descendants: { [pid]: { name, hwmKB, depth } }. */
  peakRss() {
    return this.rss.stop();
  }

  /** Ends the session with SIGTERM (what a closing terminal or a kill does); resolves with its exit. */
  async end(timeoutMs = 10_000) {
    try {
      process.kill(this.pid, 'SIGTERM');
    } catch {
      // already gone
    }
    const timer = setTimeout(() => {
      try {
        process.kill(this.pid, 'SIGKILL');
      } catch {
        // gone
      }
    }, timeoutMs);
    const e = await this.exited;
    clearTimeout(timer);
    return e;
  }
}
