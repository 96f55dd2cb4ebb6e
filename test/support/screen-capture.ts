// Turns what a pty received into the lines a reader would have seen, for the README's walkthrough
// (test/e2e/sessions/walkthrough.test.ts): escape sequences go, CR LF ends a line, and a line that
// was redrawn in place and then erased (the progress line) is kept as its last frame, in its place.

// CSI, OSC and two-byte escapes, as terminal-session.ts strips them; erase-line is handled first.
const ESCAPES = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[()][0-9A-Za-z]|\x1b[=>78DEHMc]/g;

/** The screen lines of raw pty output; each line erased in place (CR, ESC [K) shows its last content. */
export function screenLines(raw: string): string[] {
  const lines: string[] = [];
  let line = '';
  let lastFrame = '';
  const chunks = raw.replace(/\r+\n/g, '\n').split(/(\r\x1b\[K|\n|\r|\x08)/);
  for (const chunk of chunks) {
    if (chunk === '\r\x1b[K') {
      if (line.trim()) lastFrame = line;
      line = '';
    } else if (chunk === '\n') {
      if (lastFrame) lines.push(lastFrame);
      lastFrame = '';
      lines.push(line);
      line = '';
    } else if (chunk === '\r') line = '';
    else if (chunk === '\x08') line = line.slice(0, -1);
    else line += chunk.replace(ESCAPES, '').replace(/\x07/g, '');
  }
  if (lastFrame) lines.push(lastFrame);
  if (line) lines.push(line);
  return lines.map((l) => l.trimEnd());
}
