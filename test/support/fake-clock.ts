// A clock for the decisions about time (deadlines, backoffs): timers fire when the test lets the
// clock run, never by waiting in real time.
//
//   const clock = new FakeClock();
//   const result = await clock.runUntilSettled(waitForSomething({ now: clock.now, sleep: clock.sleep }));

/** A fake `now` and an abortable `sleep` on it; `runUntilSettled` moves time to each next timer. */
export class FakeClock {
  private t = 0;
  private timers: Array<{ at: number; fire: () => void }> = [];
  /** Every sleep asked for, in ms, in order. */
  readonly slept: number[] = [];

  readonly now = (): number => this.t;

  readonly sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
    new Promise((resolve) => {
      this.slept.push(ms);
      if (signal?.aborted) return resolve();
      const timer = { at: this.t + ms, fire: () => resolve() };
      this.timers.push(timer);
      signal?.addEventListener(
        'abort',
        () => {
          this.timers = this.timers.filter((x) => x !== timer);
          resolve();
        },
        { once: true },
      );
    });

  /**
   * Lets the work run (promise callbacks and I/O callbacks of the moment) and, whenever it is
   * blocked on timers only, moves the clock to the earliest one and fires it; resolves or rejects
   * as the promise does. Throws when the promise can no longer settle (nothing to fire).
   */
  async runUntilSettled<T>(promise: Promise<T>, maxTimers = 1_000): Promise<T> {
    let settled = false;
    promise.then(
      () => (settled = true),
      () => (settled = true),
    );
    for (let fired = 0; ; fired++) {
      for (let i = 0; i < 20 && !settled; i++) await new Promise((r) => setImmediate(r));
      if (settled) return promise;
      this.timers.sort((a, b) => a.at - b.at);
      const next = this.timers.shift();
      if (!next || fired >= maxTimers) throw new Error(`the work under test is stuck at ${this.t} ms with ${next ? 'timers still firing' : 'no timer left'}`);
      this.t = Math.max(this.t, next.at);
      next.fire();
    }
  }
}
