import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadUserPresets, parseUserPresets, toPresetFile, userPresetsPath } from '../../../src/presets/user-presets';
import { COMMAND_NAMES, PresetRegistry } from '../../../src/presets/registry';
import { BUILTIN_PRESETS } from '../../../src/presets/builtin';
import { presetForm } from '../../../src/presets/preset';
import { commandSpecs } from '../../../src/cli/command-spec';
import { render } from '../../../src/output/render';

const parse = (text: string) => parseUserPresets('/home/u/presets.yaml', text);

describe('user preset file', () => {
  it('finds the file like docs/presets.md says', () => {
    expect(userPresetsPath({ KUBECTL_EPHEMERAL_CONFIG: '/x.yaml' })).toBe('/x.yaml');
    expect(userPresetsPath({ XDG_CONFIG_HOME: '/cfg', HOME: '/h' })).toBe('/cfg/kubectl-ephemeral/presets.yaml');
    expect(userPresetsPath({ HOME: '/h' })).toBe('/h/.config/kubectl-ephemeral/presets.yaml');
  });

  it('overrides a built-in image and adds a preset extending another, with a policy for all', async () => {
    const file = await parse(`
policy:
  allowedImages: [mirror.corp/]
presets:
  network:
    image: mirror.corp/netshoot:v0.13
  jvm:
    extends: process
    summary: JVM tools
    image: mirror.corp/jdk-tools:21
    command: [bash]
    runAs: 1000
    requireReason: true
`);
    const registry = PresetRegistry.from(file);
    expect(registry.get('net')).toMatchObject({ name: 'network', image: 'mirror.corp/netshoot:v0.13', capabilities: ['NET_ADMIN', 'NET_RAW', 'SETGID'], source: '/home/u/presets.yaml', allowedImages: ['mirror.corp/'] });
    expect(registry.get('jvm')).toMatchObject({ targetProcesses: true, command: ['bash'], runAs: { kind: 'uid', uid: 1000 }, requireReason: true, aliases: [] });
    expect(registry.get('shell').allowedImages).toEqual(['mirror.corp/']);
    expect(registry.presets.map((p) => p.name)).toEqual([...BUILTIN_PRESETS.map((p) => p.name), 'jvm']);
  });

  it.each([
    ['presets:\n  net2:\n    image: [a]\n', /presets\.yaml:3: presets\.net2\.image: expected a scalar/],
    ['presets:\n  x:\n    image: a\n    capabilites: [NET_RAW]\n', /presets\.yaml:4: presets\.x\.capabilites: unknown field/],
    ['presets:\n  x:\n    image: a\n    runAs: admin\n', /presets\.yaml:4: presets\.x\.runAs: expected "root", "target", a numeric uid or "uid:gid"/],
    ['presets:\n  Bad_Name:\n    image: a\n', /presets\.yaml:2: presets\.Bad_Name: a preset name is lowercase/],
    ['presets:\n  x: [\n', /presets\.yaml:\d+: yaml: /],
    ['preset:\n  x: {}\n', /presets\.yaml:1: preset: unknown top-level field/],
    ['presets:\n  x:\n    record: yes please\n', /presets\.yaml:3: presets\.x\.record: expected true or false/],
    // Keys every object inherits are not fields (issue 13 item 10).
    ['presets:\n  x:\n    image: a\n    constructor: root\n', /presets\.yaml:4: presets\.x\.constructor: unknown field/],
    ['presets:\n  x:\n    image: a\n    toString: root\n', /presets\.yaml:4: presets\.x\.toString: unknown field/],
    ['policy:\n  __proto__: {}\n', /presets\.yaml:2: policy\.__proto__: unknown field/],
    ['presets:\n  x:\n    image: a\n    levels:\n      hasOwnProperty: {}\n', /presets\.yaml:5: presets\.x\.levels\.hasOwnProperty: unknown field \(known: baseline, restricted\)/],
    ['presets:\n  x:\n    image: a\n    capabilities:\n      - NET_ADMIN\n      - NET_RAWW\n', /presets\.yaml:6: presets\.x\.capabilities: unknown capability "NET_RAWW"/],
    ['presets:\n  x:\n    image: a\n    keepCapabilities: [CAP_NET_RAW]\n', /presets\.yaml:4: presets\.x\.keepCapabilities: unknown capability "CAP_NET_RAW" \(names as in capabilities\(7\) without CAP_/],
    ['presets:\n  x:\n    image: a\n    levels:\n      restricted:\n        runAs: 1000\n        capabilities: [SYS_PTRACEE]\n', /presets\.yaml:7: presets\.x\.levels\.restricted\.capabilities: unknown capability "SYS_PTRACEE"/],
    ['presets:\n  x:\n    image: a\n    levels:\n      restricted:\n        image: b\n', /presets\.yaml:6: presets\.x\.levels\.restricted\.image: unknown field/],
  ])('rejects %j naming the file, line and field', async (text, message) => {
    await expect(parse(text)).rejects.toThrow(message);
  });

  it.each([
    ['a new preset without image or extends', 'presets:\n  ok:\n    image: a\n  lonely:\n    summary: x\n', 'presets.yaml:4: presets.lonely.image: a new preset needs an image (or "extends")'],
    ['extends of an unknown preset', 'presets:\n  x:\n    image: a\n    extends: nope\n', 'presets.yaml:4: presets.x.extends: no preset named "nope" (define it above, or extend a built-in)'],
    ['an alias taken by a built-in', 'presets:\n  netx:\n    image: a\n    aliases: [net]\n', 'presets.yaml:4: presets.netx.aliases: name or alias "net" is already preset "network"'],
    ['a preset named like a built-in alias', 'presets:\n  ok:\n    image: a\n  proc:\n    image: a\n', 'presets.yaml:4: presets.proc: name or alias "proc" is already preset "process"'],
    ['a preset named like a command', 'presets:\n  list:\n    image: a\n', 'presets.yaml:2: presets.list: "list" is a kubectl ephemeral command; name the preset otherwise'],
    ['an alias named like a command', 'presets:\n  x:\n    image: a\n    aliases: [cleanup]\n', 'presets.yaml:4: presets.x.aliases: "cleanup" is a kubectl ephemeral command; choose another alias'],
  ])('%s is refused with the file and line', async (_t, text, message) => {
    const file = await parse(text);
    expect(() => PresetRegistry.from(file)).toThrow(`/home/u/${message}; fix the file or unset KUBECTL_EPHEMERAL_CONFIG`);
  });

  it('built-ins all debug pods and nodes; a user preset can change the node profile, drop it, or debug nodes only', async () => {
    expect(BUILTIN_PRESETS.map((p) => [p.name, p.pods, !!p.node])).toEqual(BUILTIN_PRESETS.map((p) => [p.name, true, true]));
    const file = await parse(`
presets:
  network:
    node: {hostReadOnly: false}
  shell:
    node: false
  node-admin:
    image: corp/node-tools:1
    pods: false
    node:
      hostPID: true
      hostNetwork: true
      banner: [crictl ps]
`);
    const registry = PresetRegistry.from(file);
    expect(registry.get('network').node).toEqual({ ...BUILTIN_PRESETS.find((p) => p.name === 'network')!.node, hostReadOnly: false });
    expect(registry.get('shell').node).toBeUndefined();
    expect(registry.get('node-admin')).toMatchObject({ pods: false, image: 'corp/node-tools:1', node: { hostNetwork: true, hostPID: true, hostReadOnly: false, banner: ['crictl ps'] } });
  });

  it.each([
    ['pods: false without a node profile', 'presets:\n  x:\n    image: a:1\n    pods: false\n    node: false\n', '/home/u/presets.yaml:4: presets.x.pods: "pods: false" needs a "node" mapping, or the preset debugs nothing; fix the file or unset KUBECTL_EPHEMERAL_CONFIG'],
    ['a node field that is not a mapping', 'presets:\n  x:\n    image: a:1\n    node: yes\n', '/home/u/presets.yaml:4: presets.x.node: expected false or a mapping of hostNetwork, hostPID, hostReadOnly, banner; fix the file or unset KUBECTL_EPHEMERAL_CONFIG'],
    ['an unknown node field', 'presets:\n  x:\n    image: a:1\n    node:\n      hostIPC: true\n', '/home/u/presets.yaml:5: presets.x.node.hostIPC: unknown field (known: hostNetwork, hostPID, hostReadOnly, banner); fix the file or unset KUBECTL_EPHEMERAL_CONFIG'],
  ])('refuses %s', async (_what, text, message) => {
    await expect((async () => PresetRegistry.from(await parse(text)))()).rejects.toThrow(message);
  });

  it("docs/presets.md's node-only example loads as documented", async () => {
    const readme = readFileSync(join(__dirname, '..', '..', '..', 'docs', 'presets.md'), 'utf8');
    const example = /```yaml\n(presets:\n  node-admin:[\s\S]*?)```/.exec(readme)![1]!;
    const p = PresetRegistry.from(await parse(example)).get('node-admin');
    expect(p).toMatchObject({ pods: false, runAs: { kind: 'root' }, image: 'registry.corp.example/node-tools:1', node: { hostNetwork: true, hostPID: true, hostReadOnly: false, banner: ['crictl ps'] } });
  });

  const subcommands = commandSpecs(PresetRegistry.from()).filter((c) => !c.preset).map((c) => c.name);
  it.each(subcommands.map((c) => [c]))('the command %s cannot be a preset name', async (command) => {
    expect(COMMAND_NAMES).toContain(command);
    expect(() => PresetRegistry.from({ path: '/p.yaml', presets: [{ name: command, image: 'a', lines: { '': 2 } }], policy: {} })).toThrow(/is a kubectl ephemeral command/);
  });

  it('per-level forms in the file merge field by field over the parent preset', async () => {
    const file = await parse(`
presets:
  network:
    levels:
      restricted:
        runAs: "1000:1000"
  tcp:
    extends: shell
    capabilities: [NET_ADMIN]
    keepCapabilities: target
    levels:
      baseline: {capabilities: [], keepCapabilities: [NET_RAW]}
`);
    const registry = PresetRegistry.from(file);
    expect(presetForm(registry.get('network'), 'restricted')).toEqual({
      runAs: { kind: 'uid', uid: 1000, gid: 1000 },
      capabilities: [],
      keepCapabilities: [],
      workingDir: '/',
    });
    expect(presetForm(registry.get('tcp'), 'privileged')).toEqual({ runAs: { kind: 'uid', uid: 65534, gid: 65534 }, capabilities: ['NET_ADMIN'], keepCapabilities: 'target' });
    expect(presetForm(registry.get('tcp'), 'restricted')).toEqual({ runAs: { kind: 'uid', uid: 65534, gid: 65534 }, capabilities: [], keepCapabilities: ['NET_RAW'] });
  });

  it('abilities and examples: read from the file; a parent\'s abilities are dropped once what decides them changes, its examples once the name does', async () => {
    const registry = PresetRegistry.from(
      await parse(`
presets:
  network:
    requireReason: true
  net-mirror:
    extends: network
    allowedImages: [registry.corp.example/]
  tcp:
    extends: network
    image: registry.corp.example/tcp:1
    abilities:
      - {id: dump, what: dump sockets (ss -K), levels: [privileged], unless: needs NET_ADMIN}
      - id: curl
        what: curl
    examples:
      - {command: kubectl ephemeral tcp web -- ss -K dst 10.0.0.1, comment: kill one connection}
`),
    );
    const network = BUILTIN_PRESETS.find((p) => p.name === 'network')!;
    expect(registry.get('network')).toMatchObject({ abilities: network.abilities, examples: network.examples });
    expect(registry.get('net-mirror')).toMatchObject({ abilities: network.abilities, examples: [] });
    expect(registry.get('tcp')).toMatchObject({
      abilities: [
        { id: 'dump', what: 'dump sockets (ss -K)', levels: ['privileged'], unless: 'needs NET_ADMIN' },
        { id: 'curl', what: 'curl' },
      ],
      examples: [{ command: 'kubectl ephemeral tcp web -- ss -K dst 10.0.0.1', comment: 'kill one connection' }],
    });
    expect(PresetRegistry.from(await parse('presets:\n  new:\n    image: x:1\n')).get('new')).toMatchObject({ abilities: [], examples: [] });
  });

  it.each([
    ['    abilities: [{what: curl}]\n', 'presets.x.abilities[0]: needs "id"'],
    ['    abilities: [{id: a, what: b, levels: [strict]}]\n', 'presets.x.abilities[0].levels: unknown level "strict" (known: privileged, baseline, restricted)'],
    ['    abilities: curl\n', 'presets.x.abilities: expected a list of mappings'],
    ['    examples: [{command: kubectl ephemeral x web, comment: a, why: b}]\n', 'presets.x.examples[0].why: unknown field (known: command, comment)'],
  ])('a malformed ability or example names the field: %j', async (lines, error) => {
    await expect(parse(`presets:\n  x:\n    image: x:1\n${lines}`)).rejects.toThrow(`/home/u/presets.yaml:4: ${error}; fix the file or unset KUBECTL_EPHEMERAL_CONFIG`);
  });

  it('a preset file named by KUBECTL_EPHEMERAL_CONFIG must exist; the default one may be absent', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ke-presets-'));
    await expect(loadUserPresets(join(dir, 'missing.yaml'), true)).rejects.toThrow(
      `${dir}/missing.yaml: no such preset file (named by KUBECTL_EPHEMERAL_CONFIG); create it or unset KUBECTL_EPHEMERAL_CONFIG`,
    );
    await expect(loadUserPresets(join(dir, 'missing.yaml'))).resolves.toBeUndefined();
    writeFileSync(join(dir, 'p.yaml'), 'presets: {}\n');
    await expect(loadUserPresets(join(dir, 'p.yaml'), true)).resolves.toEqual({ path: join(dir, 'p.yaml'), presets: [], policy: {} });
  });

  it.each(['yaml', 'json'] as const)('presets -o %s is a preset file: no anchors, and reading it back gives the same presets', async (format) => {
    const withUser = PresetRegistry.from(await parse('presets:\n  jvm:\n    extends: process\n    image: jdk:21\n    runAs: "1000:3000"\n'));
    const text = await render(toPresetFile(withUser.presets), format);
    expect(text).not.toMatch(/[&*]\w/);
    const again = PresetRegistry.from(await parseUserPresets('/copy.yaml', text));
    expect(again.presets).toEqual(withUser.presets.map((p) => ({ ...p, source: '/copy.yaml' })));
  });

  it("docs/presets.md's example preset file is valid and means what its comments say", async () => {
    const readme = readFileSync(join(__dirname, '../../../docs/presets.md'), 'utf8');
    const example = /## Your own presets[\s\S]*?```yaml\n([\s\S]*?)```/.exec(readme)![1]!;
    const registry = PresetRegistry.from(await parse(example));
    const jvm = registry.get('jvm');
    expect(jvm).toMatchObject({ targetProcesses: true, runAs: { kind: 'target' }, requireReason: true, allowedImages: ['registry.corp.example/'] });
    expect(presetForm(jvm, 'restricted')).toMatchObject({ runAs: { kind: 'uid', uid: 1000, gid: 1000 }, keepCapabilities: 'target' });
    expect(registry.get('network').image).toBe('registry.corp.example/netshoot:v0.13');
    expect(jvm.abilities).toEqual([
      { id: 'jcmd-root', what: 'jcmd on a root JVM', levels: ['privileged', 'baseline'], unless: 'restricted forbids root' },
      { id: 'jcmd', what: 'jcmd on a uid-1000 JVM' },
    ]);
    expect(jvm.examples).toEqual([{ command: 'kubectl ephemeral jvm web-7d4b9 --reason INC-1 -- jcmd 1 Thread.print', comment: 'a thread dump' }]);
  });

  it('an empty file adds nothing', async () => {
    expect(PresetRegistry.from(await parse('')).presets).toHaveLength(BUILTIN_PRESETS.length);
  });
});
