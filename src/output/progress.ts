// What the user sees while a debug container starts: on a terminal one live line with the elapsed
// time and what the kubelet is doing, redrawn in place; otherwise plain lines, one per change.
import { clusterLine, type Printer } from './printer.js';

/** A waiting state, as the waiter reports it. */
export interface WaitingState {
  reason: string;
  message: string;
}

/** A kubelet event about the container (Pulling, Pulled, Created, Started, BackOff), or one about its pod (the scheduler's FailedScheduling). */
export interface KubeletEvent {
  reason: string;
  message: string;
  type: string;
  count: number;
  /** 'pod': about the whole pod, which is why the container waits (it has no node yet). */
  about?: 'pod';
}

/** The callbacks to hand to the waiter, and stop() for when it is done. */
export interface WaitProgress {
  onWaiting(state: WaitingState): void;
  onEvent(event: KubeletEvent): void;
  /** Clears the live line: what follows (the session's first line) starts on a clean line. */
  stop(): void;
}

// Redraw rate of the elapsed time on a terminal.
const TICK_MS = 1000;

/** Progress for the wait on one container; `now` is the clock the elapsed time is read from. */
export function waitProgress(printer: Printer, container: string, now: () => number): WaitProgress {
  const started = now();
  // The pod's waiting reason and the kubelet's last event arrive in either order: the line shows both.
  let reason = '';
  let latest = '';
  let warning = false;
  // Stopped when the session took the terminal (an early attach), though the wait may go on.
  let stopped = false;
  const paint = (text: string, code: string) => (printer.color ? `\x1b[${code}m${text}\x1b[0m` : text);
  const draw = () => {
    const seconds = ((now() - started) / 1000).toFixed(0);
    const event = latest && warning ? paint(latest, '33') : latest;
    printer.status(`waiting for "${container}" ${paint(`${seconds}s`, '2')}: ${[reason, event].filter(Boolean).join('; ') || 'creating'}`);
  };
  const timer = printer.live ? setInterval(draw, TICK_MS) : undefined;
  // The clock alone must not keep the process alive.
  timer?.unref();
  return {
    onWaiting(state) {
      if (stopped) return;
      const text = `${clusterLine(state.reason)}${state.message ? `: ${clusterLine(state.message)}` : ''}`;
      if (!printer.live) return printer.info(`waiting for container "${container}": ${text}`);
      reason = text;
      draw();
    },
    onEvent(event) {
      if (stopped) return;
      const text = `${clusterLine(event.reason)}: ${clusterLine(event.message)}${event.count > 1 ? ` (x${event.count})` : ''}`;
      if (!printer.live) return printer.info(event.about === 'pod' ? `waiting for container "${container}": ${text}` : `container "${container}": ${text}`);
      latest = text;
      warning = event.type === 'Warning';
      draw();
    },
    stop() {
      if (stopped) return;
      stopped = true;
      if (timer) clearInterval(timer);
      printer.status(undefined);
    },
  };
}
