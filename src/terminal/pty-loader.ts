// node-pty is a native addon: it may be missing (no compiler at install, an unsupported platform)
// and loading it costs time, so it is required only when a session starts, and only here.
import type * as NodePty from 'node-pty';

let cached: { pty?: typeof NodePty; error?: unknown } | undefined;

/** node-pty, or undefined when it cannot be loaded (onError then hears why). */
export function loadPty(onError?: (error: unknown) => void, platform: NodeJS.Platform = process.platform): typeof NodePty | undefined {
  if (!cached) {
    try {
      // A plain require of 'node-pty' on purpose: the single-binary build swaps node-pty's native
      // loader underneath this exact call, and dynamic import() is not allowed in that bundle.
      const pty = require('node-pty') as typeof NodePty;
      // node-pty loads its Windows addon only at the first spawn: load it now, so that an addon
      // that cannot load means the inherited-stdio attach, not a failed session. In the single
      // executable this writes conpty.node, conpty\conpty.dll and conpty\OpenConsole.exe to the
      // user's cache (scripts/sea/native-addon.cjs), the layout conpty.node looks for beside itself.
      if (platform === 'win32') (require('node-pty/lib/utils') as { loadNativeModule(name: string): unknown }).loadNativeModule('conpty');
      cached = { pty };
    } catch (error) {
      cached = { error };
    }
  }
  if (!cached.pty) onError?.(cached.error);
  return cached.pty;
}

/** What node-pty needs besides the caller's options on this platform. */
export function platformPtyOptions(platform: NodeJS.Platform = process.platform): NodePty.IWindowsPtyForkOptions {
  // Windows: ConPTY through node-pty's own conpty.dll and OpenConsole.exe, which the executable
  // carries. Neither winpty (node-pty's choice on Windows builds before 18309) nor the helper
  // process node-pty forks at kill without the DLL: a fork of a single executable starts the
  // plugin itself.
  return platform === 'win32' ? { useConpty: true, useConptyDll: true } : {};
}

/** A chunk of pty output as bytes: on Windows node-pty hands out ConPTY's UTF-8 decoded, whatever `encoding` says. */
export function ptyBytes(chunk: string | Buffer): Buffer {
  return typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
}
