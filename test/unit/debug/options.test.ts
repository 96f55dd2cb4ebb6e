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
    ['--copy on a preset without copy', { copy: true }, preset('shell'), 'usage', '--copy is for crashloop only (preset "shell" has no copy mode); use kubectl ephemeral crashloop web --copy'],
    ['--keep on a preset without copy', { keep: true }, preset('network'), 'usage', '--keep is for crashloop only (preset "network" has no copy mode); use kubectl ephemeral crashloop web --copy'],
    ['--timeout without a unit', { timeout: '10' }, preset('shell'), 'usage', 'invalid duration "10" for --timeout; use a number with a unit, such as 30s, 2m or 1h'],
    ['--timeout 0s', { timeout: '0s' }, preset('shell'), 'usage', '--timeout must be longer than zero (got "0s"); use a number with a unit, such as 30s, 2m or 1h'],
    ['--keep without --copy', { keep: true }, preset('crashloop'), 'usage', '--keep and --keepalive apply to --copy only'],
    ['--keepalive without --copy', { keepalive: 'sleep 5' }, preset('crashloop'), 'usage', '--keep and --keepalive apply to --copy only'],
    ['a preset requiring a reason', {}, preset('shell', { requireReason: true, source: '/p.yaml' }), 'config', 'preset "shell" requires --reason "..." (/p.yaml); say why you are debugging this pod'],
    ['--privileged with --run-as', { privileged: true, runAs: '0' }, preset('shell'), 'usage', '--privileged and --run-as conflict; --privileged already runs as root'],
    ['an image outside allowedImages', { image: 'evil.io/x:1' }, preset('shell', { allowedImages: ['registry.local/'], source: '/p.yaml' }), 'config', 'image "evil.io/x:1" is not allowed for preset "shell" (/p.yaml); use an image under registry.local/'],
    ['an empty --keepalive', { copy: true, keepalive: '  ' }, preset('crashloop'), 'usage', '--keepalive needs a command, such as "sleep infinity"'],
    ['--same-node without --copy', { sameNode: true }, preset('crashloop'), 'usage', "--same-node applies to --copy only; add --copy, or use a preset that targets the container's processes"],
    ['--share-processes without --copy', { shareProcesses: true }, preset('crashloop'), 'usage', "--share-processes applies to --copy only; add --copy, or use a preset that targets the container's processes"],
    ['--new with --copy', { new: true, copy: true }, preset('crashloop'), 'usage', '--new and --copy conflict: a copy always gets a new debug container; drop --new'],
    ['no POD for a preset that cannot pick one', { pod: undefined }, preset('shell'), 'usage', 'preset "shell" needs a POD; only crashloop picks a crash-looping pod when none is named'],
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

  it.each<[string, Partial<DebugOptions>, Preset, 'pod' | 'node', string]>([
    ['a node-only preset on a pod', {}, preset('shell', { name: 'node-admin', pods: false, source: '/p.yaml' }), 'pod', 'preset "node-admin" debugs nodes only (/p.yaml); pass node/NAME'],
    ['a preset without node profile on a node', { pod: 'node/n1' }, preset('shell', { node: undefined, source: '/p.yaml' }), 'node', 'preset "shell" does not debug nodes (/p.yaml); use a preset with a node profile (kubectl ephemeral presets -o yaml)'],
    ['-c on a node', { pod: 'node/n1', container: 'app' }, preset('shell'), 'node', '-c/--container picks a container of a pod; a node session has none to target: drop -c'],
    ['--copy on a node', { pod: 'node/n1', copy: true }, preset('crashloop'), 'node', '--copy copies a pod; drop it for node/NAME'],
    ['--no-attach on a node', { pod: 'node/n1', attach: false }, preset('shell'), 'node', '--no-attach does not apply to node/NAME: the node debug pod lives as long as its session; attach, or run a command after --'],
    ['--keep on a node', { pod: 'node/n1', keep: true }, preset('crashloop'), 'node', '--keep and --keepalive apply to --copy only'],
  ])('refuses %s', (_what, over, p, target, message) => {
    expect(() => validateDebugOptions(opts(over), p, target)).toThrow(new PluginError('usage', message));
  });

  it('accepts a node session of a built-in preset, and a node-only preset on a node', () => {
    expect(validateDebugOptions(opts({ pod: 'node/n1', runAs: 'root' }), preset('network'), 'node')).toEqual({ preset: preset('network'), timeoutMs: 120_000, runAs: { kind: 'root' }, keepalive: ['sleep', 'infinity'], streams: { stdin: true, tty: true } });
    expect(validateDebugOptions(opts({ pod: 'node/n1' }), preset('shell', { pods: false }), 'node').preset.pods).toBe(false);
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

  it('accepts crashloop without a POD and with the copy flags (the pod is picked later)', () => {
    expect(validateDebugOptions(opts({ pod: undefined, copy: true, sameNode: true, shareProcesses: true }), preset('crashloop')).keepalive).toEqual(['sleep', 'infinity']);
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
