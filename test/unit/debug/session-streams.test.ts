import { resolveSessionStreams } from '../../../src/debug/session-streams';

// kubectl debug -i/-t, with the plugin's interactive defaults (stdin on; a TTY when stdin is one).
describe('resolveSessionStreams', () => {
  it.each<[string, { stdin?: boolean; tty?: boolean }, boolean, ReturnType<typeof resolveSessionStreams>]>([
    ['a terminal, no flags: an interactive shell', {}, true, { stdin: true, tty: true }],
    ['a pipe, no flags: kubectl debug -i', {}, false, { stdin: true, tty: false }],
    ['-i=false on a terminal: no stdin, so no TTY', { stdin: false }, true, { stdin: false, tty: false }],
    ['-i=false with a pipe', { stdin: false }, false, { stdin: false, tty: false }],
    ['-t=false on a terminal: stdin as lines, no TTY', { tty: false }, true, { stdin: true, tty: false }],
    ['-it on a terminal', { stdin: true, tty: true }, true, { stdin: true, tty: true }],
    [
      '-t with a pipe: kubectl\'s warning, and a container the pipe can use',
      { tty: true },
      false,
      { stdin: true, tty: false, warning: 'Unable to use a TTY - input is not a terminal or the right kind of file' },
    ],
  ])('%s', (_what, flags, terminal, expected) => {
    expect(resolveSessionStreams(flags, terminal)).toEqual(expected);
  });

  it.each<[string, { stdin?: boolean; tty?: boolean }, ReturnType<typeof resolveSessionStreams>]>([
    ['--no-attach from a script: a TTY for whoever attaches later', {}, { stdin: true, tty: true }],
    ['--no-attach -t=false', { tty: false }, { stdin: true, tty: false }],
    ['--no-attach -i=false', { stdin: false }, { stdin: false, tty: false }],
  ])('%s', (_what, flags, expected) => {
    expect(resolveSessionStreams(flags, false, false)).toEqual(expected);
  });

  it('refuses -t with -i=false as kubectl debug does', () => {
    expect(() => resolveSessionStreams({ stdin: false, tty: true }, true)).toThrow(/^-i\/--stdin is required for containers with -t\/--tty=true/);
    expect(() => resolveSessionStreams({ stdin: false, tty: true }, true, false)).toThrow(/^-i\/--stdin is required/);
  });
});
