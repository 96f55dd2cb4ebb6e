import { parseCommandLine } from '../../../src/cli/root';
import { PresetRegistry } from '../../../src/presets/registry';
import { buildDebugRequest, type DebugOptions } from '../../../src/debug/request';
import { EXIT_CODES, PluginError } from '../../../src/errors/plugin-error';
import { PERMISSIONS, permissionsByRole, ROLE_USE, ROLES } from '../../../src/kube/access-rules';
import { debugContainerName } from '../../../src/plan/names';
import { describeAbilityLines } from '../../../src/presets/describe';

const registry = PresetRegistry.from();
const parse = async (line: string) => {
  let help = '';
  const args = line.match(/'[^']*'|\S+/g)?.map((a) => a.replace(/^'|'$/g, '')) ?? [];
  const parsed = await parseCommandLine(args, registry, (t) => (help += t));
  return { parsed, help };
};

describe('parseCommandLine (whole argv strings, nothing is run)', () => {
  it('a preset with kubectl flags and a command after --', async () => {
    const { parsed } = await parse("net web -n shop --context prod -c app -e A=1 --env B=2,C=3 --as alice --as-group ops --as-group sre -v=6 -- tcpdump -i any 'port 80'");
    expect(parsed).toEqual({
      command: 'debug',
      options: {
        preset: 'network',
        pod: 'web',
        container: 'app',
        image: undefined,
        name: undefined,
        env: ['A=1', 'B=2,C=3'],
        target: undefined,
        imagePullPolicy: undefined,
        custom: undefined,
        profile: undefined,
        argumentsOnly: false,
        copyTo: undefined,
        setImage: [],
        replace: false,
        keepFields: { labels: false, annotations: false, liveness: false, readiness: false, startup: false, initContainers: true },
        command: ['tcpdump', '-i', 'any', 'port 80'],
        attach: true,
        dryRun: undefined,
        output: undefined,
        timeout: '2m',
        privileged: false,
        runAs: undefined,
        copy: false,
        keepalive: 'sleep infinity',
        keep: false,
        sameNode: false,
        shareProcesses: false,
        new: false,
        reason: undefined,
        record: undefined,
        recordInput: false,
        detachKeys: 'ctrl-p,ctrl-q',
        quiet: false,
        kube: { namespace: 'shop', context: 'prod', kubeconfig: undefined, cluster: undefined, user: undefined, as: 'alice', asGroup: ['ops', 'sre'], requestTimeout: undefined, verbosity: 6 },
      },
    });
  });

  it.each([
    ['shell web --dry-run', { dryRun: 'client' }],
    ['shell web --dry-run=server -o json', { dryRun: 'server', output: 'json' }],
    ['shell web --no-attach --timeout 30s', { attach: false, timeout: '30s' }],
    ['forensics web --record', { record: true }],
    ['shell --record web', { pod: 'web', record: true }],
    ['shell --dry-run web', { pod: 'web', dryRun: 'client', command: [] }],
    ['shell --dry-run server web', { pod: 'web', dryRun: 'server' }],
    ['shell web --dry-run -- --dry-run x', { dryRun: 'client', command: ['--dry-run', 'x'] }],
    ['forensics web --record=/tmp/s.cast', { record: '/tmp/s.cast' }],
    ['forensics web --no-record', { record: false }],
    ['crashloop web --copy --keepalive "sleep 3600" --keep', { copy: true, keep: true }],
    ['crashloop deploy/web --copy --same-node --share-processes', { pod: 'deploy/web', copy: true, sameNode: true, shareProcesses: true }],
    ['crashloop -n shop', { pod: undefined, kube: expect.objectContaining({ namespace: 'shop' }) }],
    ['shell web --new', { new: true }],
    ['proc web --run-as 1000:1000 --reason INC-7', { preset: 'process', runAs: '1000:1000', reason: 'INC-7' }],
    ['shell web -v', { kube: expect.objectContaining({ verbosity: 1 }) }],
  ])('%s', async (line, expected) => {
    const { parsed } = await parse(line);
    expect(parsed.command).toBe('debug');
    expect((parsed as { options: object }).options).toMatchObject(expected);
  });

  it.each([
    ['cleanup --dry-run', { command: 'cleanup', options: expect.objectContaining({ dryRun: true, pod: undefined }) }],
    ['cleanup --dry-run web', { command: 'cleanup', options: expect.objectContaining({ dryRun: true, pod: 'web' }) }],
    ['cleanup -n shop --dry-run -A', { command: 'cleanup', options: expect.objectContaining({ dryRun: true, allNamespaces: true }) }],
    ['attach --record web', { command: 'attach', options: expect.objectContaining({ pod: 'web', record: true }) }],
    ['attach web --record=false', { command: 'attach', options: expect.objectContaining({ record: false }) }],
    ['list -A', { command: 'list', options: expect.objectContaining({ allNamespaces: true, pod: undefined }) }],
    ['ls web -n shop -o wide', { command: 'list', options: expect.objectContaining({ pod: 'web', output: 'wide' }) }],
    ['attach web debugger-net-x7k2p', { command: 'attach', options: expect.objectContaining({ pod: 'web', container: 'debugger-net-x7k2p' }) }],
    ['presets -o json', { command: 'presets', options: { output: 'json' } }],
  ])('%s', async (line, expected) => {
    expect((await parse(line)).parsed).toEqual(expected);
  });

  it('collect with every flag, --path repeated', async () => {
    const { parsed } = await parse("collect web -n shop -w ev.tar -c app --path /app/logs --path '/srv/my data' --env --max-size 1Gi --reason INC-42 --run-as 1000:1000 --image mirror/busybox:1 --timeout 30s");
    expect(parsed).toEqual({
      command: 'collect',
      options: {
        pod: 'web',
        container: 'app',
        write: 'ev.tar',
        paths: ['/app/logs', '/srv/my data'],
        env: true,
        maxSize: '1Gi',
        reason: 'INC-42',
        runAs: '1000:1000',
        image: 'mirror/busybox:1',
        timeout: '30s',
        kube: { namespace: 'shop', context: undefined, kubeconfig: undefined, cluster: undefined, user: undefined, as: undefined, asGroup: [], requestTimeout: undefined, verbosity: 0 },
      },
    });
  });

  it('collect defaults: no extra path, no env, the default size cap and timeout', async () => {
    expect((await parse('collect web -w -')).parsed).toMatchObject({ command: 'collect', options: { write: '-', paths: [], env: false, maxSize: undefined, timeout: '2m' } });
  });

  it.each([
    ['collect web', /missing required argument: w/],
    ['net', /not enough non-option arguments|pod/],
    ['bogus web', /^unknown preset or command "bogus"; presets: network, net, forensics, crashloop, process, proc, shell; commands: presets, list, attach, capture, collect, sessions, cleanup, permissions$/],
    ['-n shop nosuchpreset web', /^unknown preset or command "nosuchpreset"; presets: network, net/],
    ['--context=prod -v 6 nosuch web', /^unknown preset or command "nosuch"; presets:/],
    ['net web --bogus-flag', /^unknown flag: --bogus-flag; see kubectl ephemeral net --help$/],
    ['shell web --dry-run=maybe', /^invalid --dry-run "maybe"; use --dry-run, --dry-run=client or --dry-run=server$/],
    ['net web --bogus', /^unknown flag: --bogus; see kubectl ephemeral net --help$/],
    ['net web --env A=1 --bogus=x -Z', /^unknown flags: --bogus, -Z; see kubectl ephemeral net --help$/],
    ['net web -o xml', /invalid values/],
    ['list web -A', /mutually exclusive|conflict/],
  ])('refuses %j with a usage error', async (line, message) => {
    await expect(parse(line)).rejects.toMatchObject({ kind: 'usage', message: expect.stringMatching(message) });
  });

  it('shell web --copy parses (the flag is known, hidden) and validation names crashloop', async () => {
    const { parsed } = await parse('shell web --copy');
    const options = (parsed as { options: DebugOptions }).options;
    expect(options.copy).toBe(true);
    await expect(buildDebugRequest(options, registry.get('shell'))).rejects.toThrow(
      new PluginError('usage', '--copy is for crashloop only (preset "shell" has no copy mode); use kubectl ephemeral crashloop web --copy'),
    );
  });

  it('capture without -w parses; the command names -w and the fix before connecting', async () => {
    const { parsed } = await parse('capture web');
    expect(parsed).toMatchObject({ command: 'capture', options: { pod: 'web', write: undefined } });
  });

  it('--help prints the presets from the registry and parses to done', async () => {
    const { parsed, help } = await parse('--help');
    expect(parsed).toEqual({ command: 'done', exitCode: 0 });
    for (const p of registry.presets) expect(help).toContain(`kubectl ephemeral ${p.name} ${p.crashSummary ? '[pod]' : '<pod>'}`);
    expect(help).toMatch(/Exit codes/);
  });

  it('help prints every permission of src/debug/preflight.ts under its shipped role, and every exit code of the one table', async () => {
    const flat = (await parse('--help')).help.replace(/\s+/g, ' ');
    const roles = permissionsByRole();
    expect(roles.map((r) => r.role)).toEqual(Object.values(ROLES));
    for (const { role, grants } of roles) expect(flat).toContain(`${role} (${ROLE_USE[role]}): ${grants}`);
    for (const p of PERMISSIONS) expect(roles.find((r) => r.role === p.role)!.grants).toMatch(new RegExp(`(^|; )[a-z, ]*\\b${p.verb}\\b[a-z, ]* ${p.resource}(;|$)`));
    for (const [kind, code] of Object.entries(EXIT_CODES)) expect(flat).toContain(`${code} ${kind}`);
  });

  describe.each(registry.presets.map((p) => [p.name, p] as const))('%s --help', (_name, preset) => {
    const help = async () => {
      let text = '';
      await parseCommandLine([preset.name, '--help'], registry, (t) => (text += t), 250);
      return text;
    };

    it('shows its own examples first, what each level\'s form can and cannot do, and what to try in its shell', async () => {
      const text = await help();
      const lines = text.split('\n');
      const examples = lines.slice(lines.indexOf('Examples:') + 1);
      preset.examples.forEach((e, i) => expect(examples[i]).toMatch(new RegExp(`^  ${e.command.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} +# ${e.comment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`)));
      const from = lines.indexOf("What a pod session can do, by Pod Security level (the namespace's enforced level picks the form; --level forces one):");
      expect(from).toBeGreaterThan(0);
      expect(lines.slice(from + 1, from + 1 + describeAbilityLines(preset).length)).toEqual(describeAbilityLines(preset));
      expect(text).toContain(['In its shell, try:', ...preset.banner.map((l) => `  ${l}`)].join('\n'));
    });

    it.each(preset.examples.map((e) => [e.command]))('its example parses to this preset: %s', async (command) => {
      const { parsed } = await parse(command.replace(/^kubectl ephemeral /, ''));
      expect(parsed).toMatchObject({ command: 'debug', options: { preset: preset.name } });
    });
  });

  it('the attach example names a container the way the plugin names them', async () => {
    let help = '';
    await parseCommandLine(['attach', '--help'], registry, (t) => (help += t), 200);
    const example = /kubectl ephemeral attach [^<\s]\S* (\S+)/.exec(help)![1]!;
    const [, preset, suffix] = /^debugger-(.+)-(\w{5})$/.exec(example)!;
    expect(registry.find(preset!)?.name).toBe(preset);
    expect(debugContainerName(preset!, suffix!)).toBe(example);
    expect(suffix).toMatch(/^[bcdfghjklmnpqrstvwxz2456789]{5}$/);
  });

  it('--version prints the build version', async () => {
    const { help } = await parse('--version');
    expect(help).toMatch(/^v\d+\.\d+\.\d+/);
  });
});
