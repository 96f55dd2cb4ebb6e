// The one poll of the test support: for what has no event to wait on (a pod's status on the API
// server, a file another process writes). Every wait has a bound and names what it waited for.
// Waits on a terminal's output are event-driven instead (terminal-session.ts: Terminal.waitFor).

/**
 * Polls an async check every `everyMs` until it returns a value other than undefined/false, and
 * resolves with that value; throws after timeoutMs, naming `what`.
 */
export async function eventually<T>(check: () => Promise<T | undefined | false>, timeoutMs: number, what: string, everyMs = 100): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise<void>((r) => setTimeout(r, everyMs));
  }
}
