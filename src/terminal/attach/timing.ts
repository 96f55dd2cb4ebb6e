// The clock of an early attach, all in one place so that tests can shrink or stretch it and a far
// API server can spread it out, and the timers it runs on, which a test may hold and fire itself.
import type { TimerName } from './machine';

/** Every duration the attach machine asks a timer for. */
export interface AttachTiming {
  /** A spare attempt starts this long after the one in flight while neither has an answer. */
  spareDelayMs: number;
  /** Between a failed attempt and the next one. */
  retryPauseMs: number;
  /** Attempts before the container is known to run; then the next one waits until it is. */
  earlyAttempts: number;
  /** Once it is known to run, "not found" is retried this long (the kubelet may still need a moment). */
  retryAfterStartedMs: number;
  /** An attempt that neither failed nor printed anything by then, the container known to run, has landed. */
  landedAfterMs: number;
  /** A failed attempt's message may trail its exit: this long is waited for it unless it is in. */
  exitGraceMs: number;
  /** How long kubectl gets to act on a forwarded signal (or the detach) before it is killed outright. */
  killGraceMs: number;
}

// Measured on the local node: kubectl attach takes ~80 ms to fail on "container not found", its
// first request ~120 ms; the container usually starts 0.1-0.3 s after the PATCH. A spare 60 ms after
// the first attempt asks once the container has likely started, while the first is on its way.
const FALLBACK_SPARE_MS = 60;
const MAX_SPARE_MS = 500;
const MIN_LANDED_AFTER_MS = 1000;

/** Today's figures, for a server as near as the local one (or no round trip measured). */
export const DEFAULT_TIMING: Readonly<AttachTiming> = {
  spareDelayMs: FALLBACK_SPARE_MS,
  retryPauseMs: 10,
  earlyAttempts: 4,
  retryAfterStartedMs: 5000,
  landedAfterMs: MIN_LANDED_AFTER_MS,
  exitGraceMs: 50,
  killGraceMs: 3000,
};

/**
 * The spacing of attempts from what the plugin's first request to the API server took (connection,
 * TLS and one answer: what each kubectl attach also pays before the kubelet's answer). The spare
 * starts half-way through the first attempt's trip, never sooner than 60 ms (a near server: more
 * attempts would only load it) nor later than 0.5 s; a quiet attempt counts as landed after at
 * least two trips. Unmeasured (undefined, 0, not a number): the local node's figures.
 */
export function attemptSpacing(roundTripMs: number | undefined): Pick<AttachTiming, 'spareDelayMs' | 'landedAfterMs'> {
  if (roundTripMs === undefined || !Number.isFinite(roundTripMs) || roundTripMs <= 0) {
    return { spareDelayMs: FALLBACK_SPARE_MS, landedAfterMs: MIN_LANDED_AFTER_MS };
  }
  return {
    spareDelayMs: Math.min(MAX_SPARE_MS, Math.max(FALLBACK_SPARE_MS, Math.round(roundTripMs / 2))),
    landedAfterMs: Math.max(MIN_LANDED_AFTER_MS, Math.round(roundTripMs * 2)),
  };
}

/**
 * Where the attach machine's timers run. The adapter asks here for every timer the machine
 * requests; a test can hold one (the kill after a forwarded signal, the spare, the landing) and
 * fire it when the events it must follow have happened, instead of racing the real clock.
 */
export interface AttachTimers {
  /** Calls fire once, ms from now (the machine's timer `name`); the function returned cancels it. */
  set(name: TimerName, ms: number, fire: () => void): () => void;
}

/** The real clock. */
export const REAL_TIMERS: AttachTimers = {
  set(_name, ms, fire) {
    const timer = setTimeout(fire, ms);
    return () => clearTimeout(timer);
  },
};
