// The attach machine on a fake clock: a scripted stand-in for kubectl answers each attempt at a
// chosen time after it was spawned, and the test reads what the machine did. No real timer runs;
// every count is exact.
import { EarlySession } from '../../../src/terminal/attach/early-session';
import { AttachMachine, logBefore, type AttachAction, type AttachEnd, type AttachEvent, type TimerName } from '../../../src/terminal/attach/machine';
import { attemptSpacing, DEFAULT_TIMING, type AttachTiming } from '../../../src/terminal/attach/timing';

const NOT_FOUND = 'error: Internal error occurred: unable to upgrade connection: container debugger-x1 not found in pod web-1_shop\r\n';
const KLOG = 'E1206 13:07:21.425468   15428 v3.go:79] "Unhandled Error" err="websocket: close sent"\r\n';

/** What an attempt spawned at `at` does: fail with text, print text (it landed), or nothing yet. */
type Answer = { after: number; fail?: string; print?: string; exitCode?: number } | undefined;

/** One session: the machine, a fake clock, and a stand-in kubectl scripted by `answer`. */
class Run {
  now = 0;
  readonly spawned: Array<{ attempt: number; at: number }> = [];
  readonly killed: Array<{ attempt: number; signal: string; at: number }> = [];
  readonly written: string[] = [];
  readonly typed: Array<{ attempt: number; data: string; replay?: true }> = [];
  readonly logs: string[] = [];
  readonly actions: AttachAction[] = [];
  landed: { attempt: number; how: string; at: number } | undefined;
  taken = false;
  restored: { reset: boolean } | undefined;
  end: AttachEnd | undefined;
  endedAt = -1;
  private seq = 0;
  private readonly timers = new Map<TimerName, { due: number; seq: number }>();
  private readonly world: Array<{ due: number; seq: number; event: AttachEvent }> = [];
  readonly machine: AttachMachine;
  private readonly ignoresSigterm: boolean;
  private readonly catchUpLog: { log: string | string[]; after: number } | undefined;
  /** Logs read so far (a catch-up reads it again while it lags). */
  catchUps = 0;

  constructor(
    private readonly answer: (attempt: number, at: number) => Answer,
    opts: { early?: boolean; timing?: Partial<AttachTiming>; detachKeys?: string; ignoresSigterm?: boolean; catchUp?: { log: string | string[]; after: number }; waitsForInput?: boolean } = {},
  ) {
    this.ignoresSigterm = opts.ignoresSigterm ?? false;
    this.catchUpLog = opts.catchUp;
    this.machine = new AttachMachine({ catchUp: opts.catchUp !== undefined, waitsForInput: opts.waitsForInput, early: opts.early ?? true, detachKeys: Buffer.from(opts.detachKeys ?? '\x10\x11', 'latin1'), timing: { ...DEFAULT_TIMING, ...opts.timing } });
    this.apply(this.machine.start());
  }

  // Each read of the log gives the next of a list (the last one again when it runs out).
  private nextLog(): string {
    const logs = ([] as string[]).concat(this.catchUpLog!.log);
    return logs[Math.min(this.catchUps++, logs.length - 1)]!;
  }

  /** The debug flow's word about the container, at `at`. */
  startedAt(at: number, runs: boolean): this {
    this.schedule(at, { type: 'started', runs });
    return this;
  }

  /** An event from outside (a key, a signal) at `at`. */
  at(at: number, event: AttachEvent): this {
    this.schedule(at, event);
    return this;
  }

  /** Runs the clock to `until` (or until the session ends and nothing is left to happen). */
  runUntil(until = 60_000): this {
    for (;;) {
      const next = this.next();
      if (!next || next.due > until) break;
      this.now = next.due;
      next.fire();
    }
    this.now = Math.max(this.now, Math.min(until, this.now));
    return this;
  }

  get output(): string {
    return this.written.join('');
  }

  private next(): { due: number; fire: () => void } | undefined {
    let best: { due: number; seq: number; fire: () => void } | undefined;
    for (const [name, t] of this.timers) {
      if (!best || t.due < best.due || (t.due === best.due && t.seq < best.seq))
        best = { ...t, fire: () => (this.timers.delete(name), this.send({ type: 'timer', name })) };
    }
    for (const w of this.world) {
      if (!best || w.due < best.due || (w.due === best.due && w.seq < best.seq))
        best = { due: w.due, seq: w.seq, fire: () => (this.world.splice(this.world.indexOf(w), 1), this.send(w.event)) };
    }
    return best;
  }

  private send(event: AttachEvent): void {
    this.apply(this.machine.handle(event));
  }

  private schedule(due: number, event: AttachEvent): void {
    this.world.push({ due, seq: this.seq++, event });
  }

  private apply(actions: AttachAction[]): void {
    for (const a of actions) {
      this.actions.push(a);
      switch (a.type) {
        case 'spawn': {
          this.spawned.push({ attempt: a.attempt, at: this.now });
          const ans = this.answer(a.attempt, this.now);
          if (ans?.fail !== undefined) {
            // fail: '' is a kubectl that ends without printing a byte.
            if (ans.fail) this.schedule(this.now + ans.after, { type: 'output', attempt: a.attempt, data: Buffer.from(ans.fail) });
            this.schedule(this.now + ans.after, { type: 'exit', attempt: a.attempt, exitCode: ans.exitCode ?? 1 });
          } else if (ans?.print !== undefined) {
            this.schedule(this.now + ans.after, { type: 'output', attempt: a.attempt, data: Buffer.from(ans.print) });
          }
          break;
        }
        case 'kill': {
          this.killed.push({ attempt: a.attempt, signal: a.signal, at: this.now });
          // A killed attempt exits at once (if it still ran), with the signal's number.
          const alive = !this.actions.some((x) => x.type === 'finish') || a.attempt === this.machine.currentAttempt;
          if (alive && !(a.signal === 'SIGTERM' && this.ignoresSigterm)) this.schedule(this.now, { type: 'exit', attempt: a.attempt, exitCode: 0, signal: a.signal === 'SIGTERM' ? 15 : a.signal === 'SIGINT' ? 2 : a.signal === 'SIGHUP' ? 1 : 9 });
          break;
        }
        case 'write-terminal':
          this.written.push(a.data.toString('latin1'));
          break;
        case 'write-attempt':
          this.typed.push({ attempt: a.attempt, data: a.data.toString('latin1'), ...(a.replay ? { replay: true as const } : {}) });
          break;
        case 'take-terminal':
          this.taken = true;
          break;
        case 'restore-terminal':
          this.restored = { reset: a.reset };
          break;
        case 'set-timer':
          this.timers.set(a.name, { due: this.now + a.ms, seq: this.seq++ });
          break;
        case 'clear-timer':
          this.timers.delete(a.name);
          break;
        case 'landed':
          this.landed = { attempt: a.attempt, how: a.how, at: this.now };
          break;
        case 'log':
          this.logs.push(a.line);
          break;
        case 'finish':
          this.end = a.end;
          this.endedAt = this.now;
          break;
        case 'resize-attempt':
          break;
        case 'catch-up':
          this.schedule(this.now + this.catchUpLog!.after, { type: 'caught-up', log: Buffer.from(this.nextLog()) });
          break;
      }
    }
  }
}

/** A kubelet that has the container from `runsAt` on: an attempt answered before then is "not found". */
const kubelet =
  (runsAt: number, latency = 90, prompt = '/ # ') =>
  (_attempt: number, at: number): Answer =>
    at + latency < runsAt ? { after: latency, fail: NOT_FOUND } : { after: latency, print: prompt };

const attempts = (r: Run) => r.spawned.map((s) => `${s.attempt}@${s.at}`);

describe('attemptSpacing: the spare and the quiet landing from the first request\'s round trip', () => {
  it.each<[string, number | undefined, number, number]>([
    ['unmeasured', undefined, 60, 1000],
    ['nonsense (0)', 0, 60, 1000],
    ['nonsense (NaN)', Number.NaN, 60, 1000],
    ['the local node (first request ~120 ms)', 120, 60, 1000],
    ['a near cloud region (200 ms)', 200, 100, 1000],
    ['80 ms each way, four trips (~330 ms)', 330, 165, 1000],
    ['a slow link (900 ms)', 900, 450, 1800],
    ['a very slow link (3 s): the spare never later than 0.5 s', 3000, 500, 6000],
  ])('%s: %s ms -> spare %s ms, quiet landing %s ms', (_what, rtt, spare, landed) => {
    expect(attemptSpacing(rtt)).toEqual({ spareDelayMs: spare, landedAfterMs: landed });
  });

  it('an EarlySession carries it to the machine', () => {
    expect(new EarlySession(400).timing()).toEqual({ spareDelayMs: 200, landedAfterMs: 1000 });
    expect(EarlySession.running().timing()).toEqual({ spareDelayMs: 60, landedAfterMs: 1000 });
  });

  it('a far server spaces the attempts out: the spare comes at the spacing asked for', () => {
    const r = new Run(kubelet(10_000, 300), { timing: attemptSpacing(600) }).startedAt(5000, false).runUntil();
    expect(r.spawned.slice(0, 2)).toEqual([
      { attempt: 1, at: 0 },
      { attempt: 2, at: 300 },
    ]);
  });
});

describe('AttachMachine, not early (a container that ran before)', () => {
  it('takes the terminal at once, passes every byte as it comes, ends with kubectl\'s code', () => {
    const r = new Run(() => ({ after: 5, print: 'hello\r\n' }), { early: false }).at(50, { type: 'exit', attempt: 1, exitCode: 3 }).runUntil();
    expect(r.actions.slice(0, 2)).toEqual([{ type: 'spawn', attempt: 1 }, { type: 'take-terminal' }]);
    expect(r.output).toBe('hello\r\n');
    expect(r.end).toEqual({ kind: 'exited', exitCode: 3 });
    expect(r.restored).toEqual({ reset: false });
    expect(attempts(r)).toEqual(['1@0']);
  });

  it('shows kubectl\'s "not found" as it came: no retry without an early session', () => {
    const r = new Run(() => ({ after: 80, fail: NOT_FOUND }), { early: false }).runUntil();
    expect(r.output).toBe(NOT_FOUND);
    expect(r.end).toEqual({ kind: 'exited', exitCode: 1 });
    expect(attempts(r)).toEqual(['1@0']);
  });

  it('a killed kubectl reports 128 + the signal and resets the terminal', () => {
    const r = new Run(() => ({ after: 5, print: '$ ' }), { early: false }).at(100, { type: 'exit', attempt: 1, exitCode: 0, signal: 9 }).runUntil();
    expect(r.end).toEqual({ kind: 'exited', exitCode: 137 });
    expect(r.restored).toEqual({ reset: true });
  });
});

describe('AttachMachine, early: attempts, the spare, retries, landing', () => {
  it('retries "not found" unseen, with a spare 60 ms behind, and takes the terminal at the first output of the one that lands', () => {
    // The kubelet has the container from 200 ms; every answer takes 90 ms.
    const r = new Run(kubelet(200)).startedAt(400, true).runUntil();
    // 1 fails at 90; its retry (100) promotes the spare spawned at 60, which fails at 150; the next
    // spare (160) is promoted by that retry (160) and lands at 250. The spare it started at 220 is ended.
    expect(attempts(r)).toEqual(['1@0', '2@60', '3@160', '4@220']);
    expect(r.landed).toEqual({ attempt: 3, how: 'first output', at: 250 });
    expect(r.killed).toEqual([{ attempt: 4, signal: 'SIGKILL', at: 250 }]);
    expect(r.output).toBe('/ # ');
    expect(r.taken).toBe(true);
    expect(r.logs.filter((l) => l.startsWith('attach attempt'))).toEqual([`attach attempt 1 failed (${NOT_FOUND.trim()})`, `attach attempt 2 failed (${NOT_FOUND.trim()})`]);
    expect(r.end).toBeUndefined();
  });

  it('an attempt started with the PATCH whose kubectl read the pod before the container was in it: retried unseen like the kubelet\'s "not found"', () => {
    // kubectl's own check of the pod it read (issue 24: the attach starts with the PATCH); then the kubelet's; then the prompt.
    const NOT_IN_POD = 'error: cannot attach to the container: container debugger-x1 not found in pod web-1\r\n';
    const r = new Run((attempt) => (attempt === 1 ? { after: 90, fail: NOT_IN_POD } : attempt === 2 ? { after: 90, fail: NOT_FOUND } : { after: 90, print: '/ # ' })).startedAt(400, true).runUntil();
    expect(r.landed).toEqual({ attempt: 3, how: 'first output', at: 250 });
    expect(r.output).toBe('/ # ');
    expect(r.logs.filter((l) => l.startsWith('attach attempt'))).toEqual([`attach attempt 1 failed (${NOT_IN_POD.trim()})`, `attach attempt 2 failed (${NOT_FOUND.trim()})`]);
    expect(r.end).toBeUndefined();
  });

  it('a preset\'s shell (it waits for its stdin): an attempt that ends cleanly without a byte before any landing was not the session, and is run again unseen', () => {
    // kubectl attach exiting 0, silent, while the container starts (seen once in CI with the attach started with the PATCH).
    const r = new Run((attempt) => (attempt === 1 ? { after: 90, fail: '', exitCode: 0 } : { after: 90, print: '/ # ' }), { waitsForInput: true }).startedAt(400, true).runUntil();
    expect(r.landed).toEqual({ attempt: 2, how: 'first output', at: 150 });
    expect(r.output).toBe('/ # ');
    expect(r.logs).toContain('attach attempt 1 failed (ended without attaching (exit code 0))');
    expect(r.end).toBeUndefined();
  });

  it('a preset\'s shell whose attempts all end silently: retried while the window lasts, then the caller is told kubectl never attached', () => {
    const r = new Run(() => ({ after: 90, fail: '', exitCode: 0 }), { waitsForInput: true }).startedAt(0, true).runUntil();
    expect(r.end).toEqual({ kind: 'not-found', message: 'ended without attaching (exit code 0)', exitCode: 0 });
    expect(r.output).toBe('');
    expect(r.taken).toBe(false);
  });

  it('a command or a program that may end by itself: a silent clean end is the session\'s end (exit 0), not retried', () => {
    const r = new Run(() => ({ after: 90, fail: '', exitCode: 0 })).startedAt(0, true).runUntil();
    expect(attempts(r)).toEqual(['1@0', '2@60']);
    expect(r.end).toEqual({ kind: 'exited', exitCode: 0 });
  });

  it('a spare that lands while a retry of the failed attempt is due: the retry is that spare, the session goes on', () => {
    // 1 fails on "not found" at 90 (the retry due at 100); the spare spawned at 60 prints its prompt at 95.
    const r = new Run((attempt) => (attempt === 1 ? { after: 90, fail: NOT_FOUND } : { after: 35, print: '/ # ' })).startedAt(400, true).runUntil();
    expect(attempts(r)).toEqual(['1@0', '2@60']);
    expect(r.landed).toEqual({ attempt: 2, how: 'first output', at: 95 });
    expect(r.killed).toEqual([]);
    expect(r.output).toBe('/ # ');
    expect(r.end).toBeUndefined();
  });

  it('what was typed before the landing is not the machine\'s (the terminal keeps it); after it, bytes go to the current attempt', () => {
    const r = new Run(kubelet(0)).at(10, { type: 'input', data: Buffer.from('early') }).at(200, { type: 'input', data: Buffer.from('ls\r') }).runUntil(300);
    expect(r.landed?.attempt).toBe(1);
    expect(r.typed).toEqual([{ attempt: 1, data: 'ls\r' }]);
  });

  it('before the container is known to run: four attempts, then none until it is; told it never will, ends not-running with nothing shown', () => {
    const r = new Run(kubelet(Infinity)).startedAt(2000, false).runUntil();
    expect(attempts(r)).toEqual(['1@0', '2@60', '3@160', '4@220']);
    expect(r.logs).toContain('waiting to hear that the container runs before attaching again');
    expect(r.end).toEqual({ kind: 'not-running' });
    expect(r.endedAt).toBe(2000);
    expect(r.output).toBe('');
    expect(r.taken).toBe(false);
    expect(r.restored).toBeUndefined();
  });

  it('told it never will while an attempt is on its way: that attempt is killed and the session ends not-running', () => {
    const r = new Run(() => ({ after: 5000, fail: NOT_FOUND })).startedAt(30, false).runUntil();
    expect(attempts(r)).toEqual(['1@0']);
    expect(r.killed).toEqual([{ attempt: 1, signal: 'SIGKILL', at: 30 }]);
    expect(r.end).toEqual({ kind: 'not-running' });
    expect(r.output).toBe('');
  });

  it('the word that it runs lets the retries go on, for 5 s; then it gives up with kubectl\'s message for the caller', () => {
    const r = new Run(kubelet(Infinity)).startedAt(1000, true).runUntil();
    expect(r.end).toEqual({ kind: 'not-found', message: NOT_FOUND.trim(), exitCode: 1 });
    // Four before the word; then two in flight (the current one and the spare 60 ms behind it),
    // each failing 90 ms after its start and promoted 10 ms after the other failed: one every 80 ms
    // until the window closes at 6 s.
    expect(attempts(r).slice(3, 9)).toEqual(['4@220', '5@1010', '6@1070', '7@1170', '8@1230', '9@1330']);
    expect(r.spawned.length).toBe(68);
    // The last one started before the window closed fails at 6060: then the session ends.
    expect(r.endedAt).toBe(6060);
    expect(r.output).toBe('');
    expect(r.taken).toBe(false);
  });

  it('held output: klog lines and a split "error: " line are never shown; the retry lands', () => {
    let n = 0;
    const r = new Run(() => (++n === 1 ? { after: 90, fail: KLOG + NOT_FOUND } : { after: 90, print: 'sh-5.2$ ' })).startedAt(0, true).runUntil(500);
    expect(r.output).toBe('sh-5.2$ ');
    expect(r.landed?.attempt).toBe(2);
  });

  it('an attempt whose error line trails its exit: the 50 ms grace waits for it, then retries', () => {
    const r = new Run((attempt) => (attempt === 1 ? undefined : { after: 90, print: '# ' }), { timing: { spareDelayMs: 1000 } })
      .at(90, { type: 'exit', attempt: 1, exitCode: 1 })
      .at(120, { type: 'output', attempt: 1, data: Buffer.from(NOT_FOUND) })
      .startedAt(0, true)
      .runUntil(1000);
    expect(r.logs[0]).toBe(`attach attempt 1 failed (${NOT_FOUND.trim()})`);
    // Decided at 140 (90 + 50), the retry 10 ms later.
    expect(attempts(r)).toEqual(['1@0', '2@150']);
    expect(r.landed).toEqual({ attempt: 2, how: 'first output', at: 240 });
  });

  it('a spare that lands first wins: the slow attempt is ended, its failure never waited for', () => {
    const r = new Run((attempt) => (attempt === 1 ? { after: 5000, fail: NOT_FOUND } : { after: 80, print: '/ # ' })).runUntil(1000);
    expect(attempts(r)).toEqual(['1@0', '2@60']);
    expect(r.landed).toEqual({ attempt: 2, how: 'first output', at: 140 });
    expect(r.killed).toEqual([{ attempt: 1, signal: 'SIGKILL', at: 140 }]);
  });

  it('an attempt that stays quiet lands after 1 s once the container is known to run (a program that does not redraw)', () => {
    const r = new Run(() => undefined).startedAt(100, true).runUntil(3000);
    // The spare (60) is the current one only if promoted: here the first stays current, quiet.
    expect(r.landed).toEqual({ attempt: 1, how: 'quiet for 1000 ms', at: 1100 });
    expect(r.taken).toBe(true);
    expect(attempts(r)).toEqual(['1@0', '2@60']);
    expect(r.killed).toEqual([{ attempt: 2, signal: 'SIGKILL', at: 1100 }]);
  });

  it('a quiet attempt shown after 1 s that then fails on "not found" (a slow kubectl on a loaded node): its error never shows, the retry lands', () => {
    // Attempt 1 answers "not found" only after 1.5 s; the next ones print a prompt.
    const r = new Run((attempt) => (attempt === 1 ? { after: 1500, fail: NOT_FOUND } : { after: 90, print: '/ # ' }), { timing: { spareDelayMs: 5000 } }).startedAt(0, true).runUntil(3000);
    expect(r.landed).toEqual({ attempt: 1, how: 'quiet for 1000 ms', at: 1000 });
    expect(attempts(r)).toEqual(['1@0', '2@1510']);
    expect(r.output).toBe('/ # ');
    expect(r.taken).toBe(true);
    expect(r.end).toBeUndefined();
  });

  it('keys typed at a quiet landing whose attempt then fails on "not found" are handed to the next one when it shows itself; keys typed meanwhile wait behind them', () => {
    // Attempt 1 is shown quiet at 1000, gets "ls" at 1200 and fails at 1500 (it never passed them
    // on); attempt 2 (1510) prints at 1600. "x", typed at 1550, must not overtake "ls".
    const r = new Run((attempt) => (attempt === 1 ? { after: 1500, fail: NOT_FOUND } : { after: 90, print: '/ # ' }), { timing: { spareDelayMs: 5000 } })
      .startedAt(0, true)
      .at(1200, { type: 'input', data: Buffer.from('ls') })
      .at(1550, { type: 'input', data: Buffer.from('x') })
      .at(1700, { type: 'input', data: Buffer.from('\r') })
      .runUntil(3000);
    expect(attempts(r)).toEqual(['1@0', '2@1510']);
    expect(r.landed).toEqual({ attempt: 1, how: 'quiet for 1000 ms', at: 1000 });
    // Typed once (recorded once); handed again (replay: not recorded again); then as usual.
    expect(r.typed).toEqual([
      { attempt: 1, data: 'ls' },
      { attempt: 2, data: 'ls', replay: true },
      { attempt: 2, data: 'x' },
      { attempt: 2, data: '\r' },
    ]);
    expect(r.output).toBe('/ # ');
  });

  it('handed again at the next quiet landing too, and again if that one also fails; nothing once an attempt landed by its output', () => {
    // 1 and 2 each fail 1.5 s after they started, quiet until then; 3 prints.
    const r = new Run((attempt) => (attempt <= 2 ? { after: 1500, fail: NOT_FOUND } : { after: 90, print: '$ ' }), { timing: { spareDelayMs: 5000 } })
      .startedAt(0, true)
      .at(1200, { type: 'input', data: Buffer.from('a') })
      .at(2700, { type: 'input', data: Buffer.from('b') })
      .runUntil(5000);
    // 1: shown at 1000, fails at 1500; 2 (1510): quiet landing at 2510, fails at 3010; 3 (3020) prints at 3110.
    expect(attempts(r)).toEqual(['1@0', '2@1510', '3@3020']);
    expect(r.typed).toEqual([
      { attempt: 1, data: 'a' },
      { attempt: 2, data: 'a', replay: true },
      { attempt: 2, data: 'b' },
      { attempt: 3, data: 'ab', replay: true },
    ]);
    expect(r.output).toBe('$ ');
  });

  it('any other failure (forbidden): no retry, nothing shown, kubectl\'s message and code for the caller', () => {
    const forbidden = 'error: pods "web-1" is forbidden: User "u" cannot create resource "pods/attach"\r\n';
    const r = new Run(() => ({ after: 90, fail: forbidden })).startedAt(0, true).runUntil();
    expect(r.end).toEqual({ kind: 'failed', message: forbidden.trim(), exitCode: 1 });
    expect(attempts(r)).toEqual(['1@0', '2@60']);
    expect(r.output).toBe('');
    expect(r.taken).toBe(false);
  });

  it('a container that ended before any attempt reached it: "not found" to the end, for the caller to print its log', () => {
    const r = new Run(kubelet(Infinity)).startedAt(0, true).runUntil();
    expect(r.end).toMatchObject({ kind: 'not-found' });
    expect(r.output).toBe('');
  });

  it('kubectl\'s stream noise after the landing is dropped from the session (and logged)', () => {
    const noise = 'E1206 10:38:49.044639   13263 websocket.go:296] Unknown stream id 1, discarding message\r\n';
    const r = new Run(kubelet(0)).at(300, { type: 'output', attempt: 1, data: Buffer.from(`bye\r\n${noise}`) }).runUntil(400);
    expect(r.output).toBe('/ # bye\r\n');
    expect(r.logs).toContain(`kubectl: ${noise.trim()}`);
  });
});

describe('AttachMachine: detach, signals, a terminal that went away', () => {
  it('Ctrl-P Ctrl-Q: the keys never reach the container; kubectl gets SIGTERM, the end is detached', () => {
    const r = new Run(kubelet(0))
      .at(200, { type: 'input', data: Buffer.from('a\x10') })
      .at(210, { type: 'input', data: Buffer.from('\x11') })
      .runUntil();
    expect(r.typed).toEqual([{ attempt: 1, data: 'a' }]);
    expect(r.killed.filter((k) => k.attempt === 1)[0]).toEqual({ attempt: 1, signal: 'SIGTERM', at: 210 });
    expect(r.end).toEqual({ kind: 'detached' });
  });

  it('a detach kubectl ignores: SIGKILL after the 3 s grace', () => {
    const r = new Run(kubelet(0), { ignoresSigterm: true }).at(200, { type: 'input', data: Buffer.from('\x10\x11') }).runUntil();
    expect(r.killed.filter((k) => k.attempt === 1)).toEqual([
      { attempt: 1, signal: 'SIGTERM', at: 200 },
      { attempt: 1, signal: 'SIGKILL', at: 3200 },
    ]);
    expect(r.end).toEqual({ kind: 'detached' });
    expect(r.endedAt).toBe(3200);
  });

  it('a signal before any landing: the attempt gets it, the terminal is never touched, the end is abandoned', () => {
    const r = new Run(() => ({ after: 5000, fail: NOT_FOUND })).at(30, { type: 'signal', signal: 'SIGINT' }).runUntil();
    expect(r.killed).toEqual([{ attempt: 1, signal: 'SIGINT', at: 30 }]);
    expect(r.end).toEqual({ kind: 'abandoned', signal: 'SIGINT' });
    expect(r.taken).toBe(false);
    expect(r.output).toBe('');
  });

  it('an attempt that answers after a signal that came before any landing is not the session: nothing shown, the end is abandoned', () => {
    const r = new Run(() => ({ after: 40, print: '$ ' }), { ignoresSigterm: true }).at(30, { type: 'signal', signal: 'SIGTERM' }).runUntil();
    expect(r.landed).toBeUndefined();
    expect(r.taken).toBe(false);
    expect(r.output).toBe('');
    expect(r.end).toEqual({ kind: 'abandoned', signal: 'SIGTERM' });
  });

  it('a signal while waiting for the word that it runs (no kubectl alive): abandoned at once', () => {
    const r = new Run(kubelet(Infinity)).at(1000, { type: 'signal', signal: 'SIGTERM' }).runUntil();
    expect(attempts(r)).toHaveLength(4);
    expect(r.end).toEqual({ kind: 'abandoned', signal: 'SIGTERM' });
    expect(r.endedAt).toBe(1000);
  });

  it('a signal after the landing: passed on, the terminal restored with a reset, the end is kubectl\'s', () => {
    const r = new Run(kubelet(0)).at(500, { type: 'signal', signal: 'SIGHUP' }).runUntil();
    expect(r.killed.filter((k) => k.attempt === 1)).toEqual([{ attempt: 1, signal: 'SIGHUP', at: 500 }]);
    expect(r.restored).toEqual({ reset: true });
    expect(r.end).toEqual({ kind: 'exited', exitCode: 129 });
  });

  it('the user\'s terminal failed: kubectl is hung up on', () => {
    const r = new Run(kubelet(0)).at(500, { type: 'output-failed', message: 'EIO' }).runUntil();
    expect(r.killed.filter((k) => k.attempt === 1)).toEqual([{ attempt: 1, signal: 'SIGHUP', at: 500 }]);
    expect(r.end).toEqual({ kind: 'exited', exitCode: 129 });
  });
});

describe('a command on a terminal: what it printed before the landing, from its log', () => {
  it.each<[string, string, string, string]>([
    ['the attach\'s first bytes are in the log: what comes before them', 'first\r\nsecond\r\n', 'second\r\n', 'first\r\n'],
    ['none of them logged yet: all of the log', 'first\r\n', 'second\r\n', 'first\r\n'],
    ['the log ends with the start of them: up to there', 'first\r\nsec', 'second\r\n', 'first\r\n'],
    ['a log with \\n where the attach has \\r\\n: found all the same, written with \\r\\n', 'first\nsecond\n', 'second\r\n', 'first\r\n'],
    ['a quiet landing (no bytes yet): all of the log', 'first\n', '', 'first\r\n'],
    ['an empty log (it could not be read): nothing', '', 'x', ''],
  ])('%s', (_what, log, first, before) => {
    expect(logBefore(Buffer.from(log), Buffer.from(first)).toString()).toBe(before);
  });

  it('a log that lags behind the attach (empty, then without its first bytes) is read again every 100 ms until it holds them', () => {
    const r = new Run(() => ({ after: 90, print: 'second\r\n' }), { catchUp: { log: ['', 'first\n', 'first\nsecond\n'], after: 10 } })
      .startedAt(0, true)
      .runUntil(400);
    expect(r.catchUps).toBe(3);
    expect(r.written).toEqual(['first\r\n', 'second\r\n']);
  });

  it('a log that never catches up: ten more reads, then what it has (nothing printed twice)', () => {
    const r = new Run(() => ({ after: 90, print: 'second\r\n' }), { catchUp: { log: 'first\n', after: 10 } })
      .startedAt(0, true)
      .runUntil(3000);
    expect(r.catchUps).toBe(11);
    expect(r.written).toEqual(['first\r\n', 'second\r\n']);
  });

  it('the landing waits for the log: its part before the attach\'s first bytes, then those, then the rest, each once', () => {
    const r = new Run(() => ({ after: 90, print: 'second\r\n' }), { catchUp: { log: 'first\nsecond\n', after: 40 } })
      .startedAt(0, true)
      .at(100, { type: 'output', attempt: 1, data: Buffer.from('third\r\n') })
      .at(200, { type: 'output', attempt: 1, data: Buffer.from('fourth\r\n') })
      .runUntil(300);
    expect(r.written).toEqual(['first\r\n', 'second\r\nthird\r\n', 'fourth\r\n']);
    expect(r.landed?.at).toBe(90);
  });
});
