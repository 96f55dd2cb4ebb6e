// What kubectl itself prints, told apart from what the container prints: kubectl's failure is
// "error: ..." (cmdutil.CheckErr), sometimes after klog lines of its own (its WebSocket attach,
// falling back to SPDY, logs `E1130 13:07:21.425468 15428 v3.go:79] "Unhandled Error" err="websocket:
// close sent"`); output that starts otherwise is the container's.

const KUBECTL_ERROR = 'error: ';
const KLOG_LINE = /^[IWEF]\d{4} \d\d:\d\d:\d\d\.\d+ +\d+ [^\]\s]+\] /;
const KLOG_PARTIAL = /^[IWEF](?:\d{1,4}(?: (?:\d{1,2}(?::\d{0,2}(?::\d{0,2}(?:\.\d*)?)?)?)?)?)?$/;

/**
 * The container is not there yet: the kubelet's answer while it does not have it (kubelet GetAttach,
 * findContainer), or kubectl's own when the pod it read does not list it yet (an attempt started
 * with the PATCH that adds it, which reached the API server first).
 */
export const CONTAINER_NOT_FOUND = /unable to upgrade connection: container .*not found|cannot attach to the container: container .* not found in pod /;

/** kubectl's "error: ..." line out of what a failed attach printed (klog lines before it left out). */
export function kubectlMessage(text: string): string {
  return text.split(/\r?\n/).find((l) => l.startsWith(KUBECTL_ERROR)) ?? text.trim();
}

/** Whether the text holds kubectl's complete "error: ..." line (what a failed kubectl prints last). */
export function hasKubectlError(text: string): boolean {
  return /^error: .*\r?\n/m.test(text);
}

/** Whether what kubectl printed so far may still be its own failure (klog lines, then "error: ..."), not the container's output. */
export function mayBeKubectlFailure(text: string): boolean {
  const lines = text.split(/\r?\n/);
  const last = lines.pop()!;
  const whole = lines.every((l) => l === '' || KLOG_LINE.test(l) || l.startsWith(KUBECTL_ERROR));
  const open = last === '' || KUBECTL_ERROR.startsWith(last) || last.startsWith(KUBECTL_ERROR) || KLOG_LINE.test(last) || KLOG_PARTIAL.test(last);
  return whole && open;
}

// kubectl's stream clients log (klog, whatever -v says) frames for a stream they already closed, a
// close that raced, or a fallback from WebSocket to SPDY; the session's bytes are complete without
// them (test/e2e/sessions/pipes.test.ts). klog writes each line whole, in one write; under a pty the
// line ends in \r\n.
const KUBECTL_NOISE = /^[EW]\d{4} \d\d:\d\d:\d\d\.\d+ +\d+ (?:websocket|v[1-5]|fallback|remotecommand|errorstream|spdy)\.go:\d+\] .*\r?\n/gm;

/** The chunk without kubectl's stream log lines; each one dropped is passed to log (-v still shows them). */
export function dropKubectlNoise(data: Buffer, log: (line: string) => void = () => {}): Buffer {
  const text = data.toString('latin1');
  if (!/\.go:\d+\] /.test(text)) return data;
  let dropped = false;
  const kept = text.replace(KUBECTL_NOISE, (line) => {
    dropped = true;
    log(`kubectl: ${line.trimEnd()}`);
    return '';
  });
  return dropped ? Buffer.from(kept, 'latin1') : data;
}

/**
 * A piped kubectl's stderr carries the container's stderr and, last, kubectl's own failure. A tail
 * that starts a line with "error: " (or a klog line) is held until more bytes come (then it was the
 * container's: kubectl's failure is the last thing it writes) or kubectl exits: with a code other than
 * 0 it was kubectl's (kubectl attach exits 0 however the container ended), and is returned, not shown.
 */
export class StderrTail {
  private held = '';

  /** What of this chunk (and of what was held) passes now. */
  push(data: Buffer): Buffer {
    const text = this.held + data.toString('latin1');
    const at = kubectlTailStart(text);
    this.held = at < 0 ? '' : text.slice(at);
    return Buffer.from(at < 0 ? text : text.slice(0, at), 'latin1');
  }

  /** kubectl exited: the held tail passes (code 0), or is kubectl's message (any other code). */
  end(exitCode: number): { pass: Buffer; kubectlError?: string } {
    const held = this.held;
    this.held = '';
    if (!held) return { pass: Buffer.alloc(0) };
    if (exitCode === 0) return { pass: Buffer.from(held, 'latin1') };
    return { pass: Buffer.alloc(0), kubectlError: kubectlMessage(Buffer.from(held, 'latin1').toString('utf8')) };
  }
}

// Where, in text, the tail that may be kubectl's closing failure starts: at a line start, with
// "error: " or a klog line, and nothing after it but more of the same; -1 when there is none.
function kubectlTailStart(text: string): number {
  for (let at = 0; at < text.length; at = text.indexOf('\n', at) + 1 || text.length) {
    if (!text.startsWith(KUBECTL_ERROR, at) && !KLOG_LINE.test(text.slice(at, at + 80))) continue;
    if (mayBeKubectlFailure(text.slice(at))) return at;
  }
  return -1;
}
