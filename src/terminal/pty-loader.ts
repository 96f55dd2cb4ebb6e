// node-pty is a native addon: it may be missing (no compiler at install, an unsupported platform)
// and loading it costs time, so it is required only when a session starts, and only here.
import type * as NodePty from 'node-pty';

let cached: { pty?: typeof NodePty; error?: unknown } | undefined;

/** node-pty, or undefined when it cannot be loaded (onError then hears why). */
export function loadPty(onError?: (error: unknown) => void): typeof NodePty | undefined {
  if (!cached) {
    try {
      // A plain require of 'node-pty' on purpose: the single-binary build swaps node-pty's native
      // loader underneath this exact call, and dynamic import() is not allowed in that bundle.
      cached = { pty: require('node-pty') as typeof NodePty };
    } catch (error) {
      cached = { error };
    }
  }
  if (!cached.pty) onError?.(cached.error);
  return cached.pty;
}
