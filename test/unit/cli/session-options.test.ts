// The session flags as a user types them, parsed without running anything: -i/-t in kubectl's
// forms, --detach-keys checked while parsing, and one --record parser for the preset commands and attach.
import { parseCommandLine } from '../../../src/cli/root';
import { PluginError } from '../../../src/errors/plugin-error';
import { PresetRegistry } from '../../../src/presets/registry';

const registry = PresetRegistry.from();
async function parse(args: string[]) {
  let help = '';
  const parsed = await parseCommandLine(args, registry, (t) => (help += t));
  return { parsed, help, options: (parsed as { options?: Record<string, unknown> }).options ?? {} };
}

describe('session flags', () => {
  it.each<[string[], Record<string, unknown>]>([
    [['shell', 'web'], { detachKeys: 'ctrl-p,ctrl-q', record: undefined, recordInput: false, quiet: false }],
    [['shell', 'web', '-i=false'], { stdin: false }],
    [['shell', 'web', '--stdin=false'], { stdin: false }],
    [['shell', 'web', '-it'], { stdin: true, tty: true }],
    [['shell', '-t', 'web'], { tty: true, pod: 'web' }],
    [['shell', 'web', '--tty=false'], { tty: false }],
    [['shell', 'web', '-q'], { quiet: true }],
    [['shell', 'web', '--detach-keys', ''], { detachKeys: '' }],
    [['shell', 'web', '--detach-keys=ctrl-a,x'], { detachKeys: 'ctrl-a,x' }],
    [['forensics', 'web', '--record-input'], { recordInput: true }],
    // A bare --record never swallows the next word: it is the pod here.
    [['shell', '--record', 'web'], { record: true, pod: 'web' }],
    [['shell', 'web', '--record=/tmp/s.cast'], { record: '/tmp/s.cast' }],
    [['shell', 'web', '--record=false'], { record: false }],
    [['shell', 'web', '--no-record'], { record: false }],
  ])('%j', async (args, expected) => {
    const { parsed, options } = await parse(args);
    expect(parsed.command).toBe('debug');
    expect(options).toMatchObject(expected);
  });

  it('leaves -i and -t undefined when not given, so the terminal decides', async () => {
    const { options } = await parse(['shell', 'web']);
    expect('stdin' in options).toBe(false);
    expect('tty' in options).toBe(false);
  });

  it.each<[string[], Record<string, unknown>]>([
    [['attach', 'web', 'dbg'], { record: undefined, recordInput: false, quiet: false, detachKeys: 'ctrl-p,ctrl-q' }],
    // The parser attach used to have recorded to a file named "false".
    [['attach', 'web', 'dbg', '--record=false'], { record: false }],
    [['attach', 'web', 'dbg', '--no-record'], { record: false }],
    [['attach', 'web', 'dbg', '--record'], { record: true }],
    [['attach', '--record', 'web', 'dbg'], { record: true, pod: 'web', container: 'dbg' }],
    [['attach', 'web', '--record=/tmp/a.cast', '--record-input', '-q', '--detach-keys=ctrl-x'], { record: '/tmp/a.cast', recordInput: true, quiet: true, detachKeys: 'ctrl-x' }],
  ])('%j', async (args, expected) => {
    const { parsed, options } = await parse(args);
    expect(parsed.command).toBe('attach');
    expect(options).toMatchObject(expected);
  });

  it('a --record after -- belongs to the command in the container', async () => {
    const { options } = await parse(['shell', 'web', '--', 'echo', '--record']);
    expect(options).toMatchObject({ command: ['echo', '--record'], record: undefined });
  });

  it.each([['shell', 'web', '--detach-keys', 'ctrl-1'], ['attach', 'web', '--detach-keys=ab']])('refuses a bad --detach-keys while parsing: %j', async (...args) => {
    const err = await parse(args).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PluginError);
    expect((err as PluginError).kind).toBe('usage');
    expect((err as PluginError).message).toMatch(/^invalid --detach-keys ".*": ".*" is neither one character nor ctrl-/);
  });
});

describe('kubectl ephemeral with no arguments', () => {
  it('prints the usage and exits 0, as kubectl and krew do', async () => {
    const { parsed, help } = await parse([]);
    expect(parsed).toEqual({ command: 'done', exitCode: 0 });
    expect(help).toMatch(/^kubectl ephemeral <preset> <pod> \[-- command\.\.\.\]/);
    expect(help).toContain('Commands:');
  });
});
