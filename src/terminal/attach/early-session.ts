import { attemptSpacing, type AttachTiming } from './timing';

/**
 * The contract between the debug flow and an attach that begins while its container may still be
 * starting: the flow says whether the container runs (the kubelet's Started event, a probe, the
 * status) or never will (the image cannot be pulled, the wait failed, Ctrl-C); the attach says when
 * it landed, and whoever shows the session's first lines (the wait's progress, the banner) hears it.
 * Created by the debug flow, handed down to the attach; the only place this contract is declared.
 */
export class EarlySession {
  /** Settles with whether the container runs; the first word counts. */
  readonly started: Promise<boolean>;
  /** Resolves when an attach landed: the container runs, whatever the status says yet. */
  readonly attached: Promise<void>;
  private settleStarted!: (runs: boolean) => void;
  private markAttached!: () => void;
  private readonly listeners: Array<() => void> = [];
  private hasLanded = false;
  private abandonHandler: (() => Promise<number>) | undefined;

  /**
   * roundTripMs: what the plugin's first request to the API server took, which spaces the attempts
   * (undefined: the local figures). waitsForInput: the container's process (a preset's shell) waits
   * for its stdin, so it cannot end before the session gave it anything.
   */
  constructor(
    readonly roundTripMs?: number,
    readonly waitsForInput = false,
  ) {
    this.started = new Promise((resolve) => (this.settleStarted = resolve));
    this.attached = new Promise((resolve) => (this.markAttached = resolve));
  }

  /** A session for a container already known to run (reused, or seen running by the status): "not found" is still retried a while. */
  static running(roundTripMs?: number): EarlySession {
    const early = new EarlySession(roundTripMs);
    early.settle(true);
    return early;
  }

  /** The debug flow's word: the container runs (true) or never will (false). */
  settle(runs: boolean): void {
    this.settleStarted(runs);
  }

  /** Calls listener when the attach lands (at once if it has). */
  onLanded(listener: () => void): void {
    if (this.hasLanded) listener();
    else this.listeners.push(listener);
  }

  /** Whether an attach landed (the session ran, whatever the status says since). */
  get landed(): boolean {
    return this.hasLanded;
  }

  /** The attach's word: it landed. Listeners run once, in the order they came. */
  land(): void {
    if (this.hasLanded) return;
    this.hasLanded = true;
    this.markAttached();
    for (const listener of this.listeners.splice(0)) listener();
  }

  /** The debug flow's answer to a user who leaves before any attach landed (it ends the container). */
  onAbandoned(handler: () => Promise<number>): void {
    this.abandonHandler = handler;
  }

  /** The attach's word: the user left before it landed. Resolves with the run's exit code; undefined when nobody handles it. */
  abandon(): Promise<number> | undefined {
    return this.abandonHandler?.();
  }

  /** The attempt spacing this session's round trip asks for. */
  timing(): Pick<AttachTiming, 'spareDelayMs' | 'landedAfterMs'> {
    return attemptSpacing(this.roundTripMs);
  }
}
