import { parseRunAs } from '../../../src/debug/options';
import { aDebugOptions } from '../../support/builders';
import { buildDebugRequest, type DebugOptions, type DebugRequest } from '../../../src/debug/request';
import { PluginError } from '../../../src/errors/plugin-error';
import { COPY_KEEP_DEFAULTS } from '../../../src/plan/pod-copy';
import { BUILTIN_PRESETS } from '../../../src/presets/builtin';
import type { Preset } from '../../../src/presets/preset';

const preset = (name: string, over: Partial<Preset> = {}): Preset => ({ ...BUILTIN_PRESETS.find((p) => p.name === name)!, ...over });
const opts = aDebugOptions;

describe('buildDebugRequest: Complete and Validate', () => {
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
    ['--copy-to on a preset without copy', { copyTo: 'x' }, preset('shell'), 'usage', '--copy-to is for crashloop only (preset "shell" has no copy mode); use kubectl ephemeral crashloop web --copy'],
    ['--set-image without --copy', { setImage: ['app=busybox'] }, preset('crashloop'), 'usage', '--set-image applies to --copy only; add --copy'],
    ['--replace without --copy', { replace: true }, preset('crashloop'), 'usage', '--replace applies to --copy only; add --copy'],
    ['--keep-labels without --copy', { keepFields: { ...COPY_KEEP_DEFAULTS, labels: true } }, preset('crashloop'), 'usage', '--keep-labels applies to --copy only; add --copy'],
    ['--no-keep-init-containers without --copy', { keepFields: { ...COPY_KEEP_DEFAULTS, initContainers: false } }, preset('crashloop'), 'usage', '--keep-init-containers=false applies to --copy only; add --copy'],
    ['--set-image without NAME=', { copy: true, setImage: ['busybox'] }, preset('crashloop'), 'usage', 'invalid --set-image "busybox"; use NAME=IMAGE (repeat --set-image for more, or separate pairs with commas)'],
    ['--target with --copy (kubectl\'s rule)', { copy: true, target: 'app' }, preset('crashloop'), 'usage', "--target is incompatible with --copy; the copy's debug container already shares the processes of the container it debugs (-c)"],
    ['-c and --target naming two containers', { container: 'app', target: 'side' }, preset('shell'), 'usage', '-c app and --target side name different containers; pass one (both pick the container to debug)'],
    ['--profile netadmin on a preset without NET_ADMIN', { profile: 'netadmin' }, preset('shell'), 'usage', '--profile netadmin: preset "shell" does not add NET_ADMIN; use the network preset (kubectl ephemeral network web), whose own form adds NET_ADMIN and NET_RAW'],
    ['--profile baseline with --level restricted', { profile: 'baseline', level: 'restricted' }, preset('shell'), 'usage', '--profile baseline and --level restricted ask for different forms; pass one'],
    ['--profile sysadmin with --run-as', { profile: 'sysadmin', runAs: '1000' }, preset('shell'), 'usage', '--profile sysadmin and --run-as conflict; sysadmin (--privileged) already runs as root'],
    ['--profile restricted on a node', { pod: 'node/n1', profile: 'restricted' }, preset('shell'), 'usage', '--profile restricted does not apply to node/NAME: a node session shares the host\'s namespaces, which only Pod Security "privileged" admits; drop --profile'],
    ['--target on a node', { pod: 'node/n1', target: 'app' }, preset('shell'), 'usage', '--target picks a container of a pod; a node session has none to target: drop --target'],
    ['--copy-to on a node', { pod: 'node/n1', copyTo: 'x' }, preset('crashloop'), 'usage', '--copy-to copies a pod; drop it for node/NAME'],
  ])('refuses %s', async (_what, over, p, kind, message) => {
    let caught: unknown;
    try {
      await buildDebugRequest(opts(over), p);
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
  ])('refuses %s', async (_what, over, p, _target, message) => {
    await expect(buildDebugRequest(opts(over), p)).rejects.toThrow(new PluginError('usage', message));
  });

  /** The request of a plain `kubectl ephemeral <preset> web` on a terminal, with `over` on top. */
  const request = (p: Preset, over: Partial<DebugRequest> = {}): DebugRequest => ({
    preset: p,
    pod: 'web',
    container: { command: [], privileged: false, stdin: true, tty: true, specs: [] },
    new: false,
    timeoutMs: 120_000,
    session: { attach: true, detachKeys: 'ctrl-p,ctrl-q', recordInput: false, quiet: false },
    kube: { verbosity: 0 },
    ...over,
  });

  it.each<[string, Partial<DebugOptions>, Preset, (p: Preset) => DebugRequest]>([
    ['a plain pod session', {}, preset('shell'), (p) => request(p)],
    [
      'a node session of a built-in preset',
      { pod: 'node/n1', runAs: 'root' },
      preset('network'),
      (p) => {
        const { pod: _pod, ...rest } = request(p, { node: 'n1' });
        return { ...rest, container: { ...rest.container, runAs: { kind: 'root' } } };
      },
    ],
    [
      'a copy with its parsed timeout, user and keep-alive command',
      { timeout: '30s', runAs: '1000:2000', copy: true, keepalive: ' sleep  3600 ' },
      preset('crashloop'),
      (p) => request(p, { timeoutMs: 30_000, copy: { keepalive: ['sleep', '3600'], keep: COPY_KEEP_DEFAULTS, keepPod: false, replace: false, sameNode: false }, container: { ...request(p).container, runAs: { kind: 'uid', uid: 1000, gid: 2000 } } }),
    ],
    [
      'crashloop without a POD and with the copy flags (the pod is picked later)',
      { pod: undefined, copy: true, sameNode: true, shareProcesses: true },
      preset('crashloop'),
      (p) => {
        const { pod: _pod, ...rest } = request(p, { copy: { keepalive: ['sleep', 'infinity'], keep: COPY_KEEP_DEFAULTS, keepPod: false, replace: false, sameNode: true, shareProcesses: true } });
        return rest;
      },
    ],
    [
      'the container flags and the session flags, each where it goes',
      { image: 'busybox:1', name: 'dbg', container: 'app', command: ['id'], level: 'baseline', reason: 'r', new: true, dryRun: 'client', output: 'json', stdin: false, record: 'f.cast', quiet: true },
      preset('shell'),
      (p) =>
        request(p, {
          container: { container: 'app', image: 'busybox:1', name: 'dbg', command: ['id'], privileged: false, stdin: false, tty: false, specs: [] },
          level: { level: 'baseline', flag: '--level' },
          reason: 'r',
          new: true,
          dryRun: 'client',
          output: 'json',
          session: { attach: true, detachKeys: 'ctrl-p,ctrl-q', record: 'f.cast', recordInput: false, quiet: true },
        }),
    ],
    [
      '--copy-to, --set-image, --replace and the --keep-* flags (kubectl\'s names and defaults)',
      { copyTo: 'web-dbg', setImage: ['app=busybox:1,*=alpine:3'], replace: true, keepFields: { ...COPY_KEEP_DEFAULTS, labels: true, liveness: true, initContainers: false } },
      preset('crashloop'),
      (p) =>
        request(p, {
          copy: {
            keepalive: ['sleep', 'infinity'],
            sameNode: false,
            name: 'web-dbg',
            setImages: { app: 'busybox:1', '*': 'alpine:3' },
            keep: { labels: true, annotations: false, liveness: true, readiness: false, startup: false, initContainers: false },
            keepPod: true,
            replace: true,
          },
        }),
    ],
    [
      '--target: the target, and its processes shared',
      { target: 'side' },
      preset('shell'),
      (p) => request(p, { container: { ...request(p).container, container: 'side', targetProcesses: true } }),
    ],
    ['--arguments-only', { command: ['-c', 'id'], argumentsOnly: true }, preset('shell'), (p) => request(p, { container: { ...request(p).container, command: ['-c', 'id'], argumentsOnly: true } })],
    ['--profile general: the preset\'s own choice', { profile: 'general' }, preset('shell'), (p) => request(p)],
    ['--profile legacy: the preset\'s own choice', { profile: 'legacy' }, preset('shell'), (p) => request(p)],
    ['--profile baseline: the baseline form, named as typed', { profile: 'baseline' }, preset('network'), (p) => request(p, { level: { level: 'baseline', flag: '--profile' } })],
    ['--profile restricted with the same --level', { profile: 'restricted', level: 'restricted' }, preset('shell'), (p) => request(p, { level: { level: 'restricted', flag: '--level' } })],
    ['--profile sysadmin: --privileged', { profile: 'sysadmin' }, preset('shell'), (p) => request(p, { container: { ...request(p).container, privileged: true } })],
    ['--profile netadmin on the network preset: its own form (NET_ADMIN, NET_RAW)', { profile: 'netadmin' }, preset('network'), (p) => request(p)],
    ['--image-pull-policy: a partial spec', { imagePullPolicy: 'Never' }, preset('shell'), (p) => request(p, { container: { ...request(p).container, specs: [{ imagePullPolicy: 'Never' }] } })],
  ])('builds %s', async (_what, over, p, want) => {
    expect(await buildDebugRequest(opts(over), p)).toEqual(want(p));
  });

  it.each<[string, Partial<DebugOptions>, Array<Record<string, unknown>>]>([
    ['--env NAME=VALUE, repeated', { env: ['A=1', 'B=x=y'] }, [{ env: [{ name: 'A', value: '1' }, { name: 'B', value: 'x=y' }] }]],
    ['--env with pairs separated by commas, a later NAME winning', { env: ['A=1,B=2', 'A=3'] }, [{ env: [{ name: 'A', value: '3' }, { name: 'B', value: '2' }] }]],
    ['--env NAME= (an empty value)', { env: ['A='] }, [{ env: [{ name: 'A', value: '' }] }]],
  ])('the container flags become partial specs: %s', async (_what, over, specs) => {
    expect(await buildDebugRequest(opts(over), preset('shell'))).toEqual(request(preset('shell'), { container: { ...request(preset('shell')).container, specs } }));
  });

  it.each([['A'], ['=1'], ['A=1,B']])('refuses --env %s', async (word) => {
    await expect(buildDebugRequest(opts({ env: [word] }), preset('shell'))).rejects.toThrow(new PluginError('usage', `invalid --env "${word.split(',').find((p) => p.indexOf('=') <= 0)}"; use NAME=VALUE (repeat --env for more, or separate pairs with commas)`));
  });

  it('a node-only preset is accepted on a node', async () => {
    expect((await buildDebugRequest(opts({ pod: 'node/n1' }), preset('shell', { pods: false }))).preset.pods).toBe(false);
  });

  it('refuses -t with -i=false in kubectl debug\'s words', async () => {
    await expect(buildDebugRequest(opts({ stdin: false, tty: true }), preset('shell'))).rejects.toThrow('-i/--stdin is required for containers with -t/--tty=true; drop -t or add -i');
  });

  it.each([
    ['root', { kind: 'root' }],
    ['target', { kind: 'target' }],
    ['0', { kind: 'uid', uid: 0 }],
    ['1000:3000', { kind: 'uid', uid: 1000, gid: 3000 }],
  ])('parses --run-as %s', (text, want) => expect(parseRunAs(text)).toEqual(want));

  it('refuses a --run-as it cannot parse', () => expect(() => parseRunAs('admin')).toThrow('invalid --run-as "admin"; use root, target, a uid or uid:gid'));
});
