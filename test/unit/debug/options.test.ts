import { validateDebugOptions, parseRunAs, type DebugOptions } from '../../../src/debug/options';
import { PluginError } from '../../../src/errors/plugin-error';
import { BUILTIN_PRESETS } from '../../../src/presets/builtin';
import type { Preset } from '../../../src/presets/preset';

const preset = (name: string, over: Partial<Preset> = {}): Preset => ({ ...BUILTIN_PRESETS.find((p) => p.name === name)!, ...over });
const opts = (over: Partial<DebugOptions> = {}): DebugOptions => ({
  preset: 'shell',
  pod: 'web',
  command: [],
  attach: true,
  timeout: '2m',
  privileged: false,
  copy: false,
  keepalive: 'sleep infinity',
  keep: false,
  detachKeys: 'ctrl-p,ctrl-q',
  recordInput: false,
  quiet: false,
  kube: { verbosity: 0 },
  ...over,
});

describe('validateDebugOptions', () => {
  it.each<[string, Partial<DebugOptions>, Preset, string, string]>([
    ['-o without --dry-run', { output: 'yaml' }, preset('shell'), 'usage', '-o/--output applies to --dry-run only; add --dry-run or drop -o'],
    ['--copy on a preset without copy', { copy: true }, preset('shell'), 'usage', 'preset "shell" has no --copy mode; use crashloop --copy'],
    ['--keep without --copy', { keep: true }, preset('crashloop'), 'usage', '--keep and --keepalive apply to --copy only'],
    ['--keepalive without --copy', { keepalive: 'sleep 5' }, preset('crashloop'), 'usage', '--keep and --keepalive apply to --copy only'],
    ['a preset requiring a reason', {}, preset('shell', { requireReason: true, source: '/p.yaml' }), 'config', 'preset "shell" requires --reason "..." (/p.yaml); say why you are debugging this pod'],
    ['--privileged with --run-as', { privileged: true, runAs: '0' }, preset('shell'), 'usage', '--privileged and --run-as conflict; --privileged already runs as root'],
    ['an image outside allowedImages', { image: 'evil.io/x:1' }, preset('shell', { allowedImages: ['registry.local/'], source: '/p.yaml' }), 'config', 'image "evil.io/x:1" is not allowed for preset "shell" (/p.yaml); use an image under registry.local/'],
    ['an empty --keepalive', { copy: true, keepalive: '  ' }, preset('crashloop'), 'usage', '--keepalive needs a command, such as "sleep infinity"'],
  ])('refuses %s', (_what, over, p, kind, message) => {
    let caught: unknown;
    try {
      validateDebugOptions(opts(over), p);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(PluginError);
    expect({ kind: (caught as PluginError).kind, message: (caught as PluginError).message }).toEqual({ kind, message });
  });

  it('returns the parsed timeout, user and keep-alive command', () => {
    expect(validateDebugOptions(opts({ timeout: '30s', runAs: '1000:2000', copy: true, keepalive: ' sleep  3600 ' }), preset('crashloop'))).toEqual({
      preset: preset('crashloop'),
      timeoutMs: 30_000,
      runAs: { kind: 'uid', uid: 1000, gid: 2000 },
      keepalive: ['sleep', '3600'],
      streams: { stdin: true, tty: true },
    });
  });

  it('refuses -t with -i=false in kubectl debug\'s words', () => {
    expect(() => validateDebugOptions(opts({ stdin: false, tty: true }), preset('shell'))).toThrow('-i/--stdin is required for containers with -t/--tty=true; drop -t or add -i');
  });

  it.each([
    ['root', { kind: 'root' }],
    ['target', { kind: 'target' }],
    ['0', { kind: 'uid', uid: 0 }],
    ['1000:3000', { kind: 'uid', uid: 1000, gid: 3000 }],
  ])('parses --run-as %s', (text, want) => expect(parseRunAs(text)).toEqual(want));

  it('refuses a --run-as it cannot parse', () => expect(() => parseRunAs('admin')).toThrow('invalid --run-as "admin"; use root, target, a uid or uid:gid'));
});
