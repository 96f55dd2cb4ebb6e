import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseUserPresets, userPresetsPath } from '../../../src/presets/user-presets';
import { PresetRegistry } from '../../../src/presets/registry';
import { BUILTIN_PRESETS } from '../../../src/presets/builtin';

const parse = (text: string) => parseUserPresets('/home/u/presets.yaml', text);

describe('user preset file', () => {
  it('finds the file like the README says', () => {
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
    expect(registry.get('net')).toMatchObject({ name: 'network', image: 'mirror.corp/netshoot:v0.13', capabilities: ['NET_ADMIN', 'NET_RAW'], source: '/home/u/presets.yaml', allowedImages: ['mirror.corp/'] });
    expect(registry.get('jvm')).toMatchObject({ targetProcesses: true, command: ['bash'], runAs: { kind: 'uid', uid: 1000 }, requireReason: true, aliases: [] });
    expect(registry.get('shell').allowedImages).toEqual(['mirror.corp/']);
    expect(registry.presets.map((p) => p.name)).toEqual([...BUILTIN_PRESETS.map((p) => p.name), 'jvm']);
  });

  it.each([
    ['presets:\n  net2:\n    image: [a]\n', /presets\.yaml:3: presets\.net2\.image: expected a scalar/],
    ['presets:\n  x:\n    image: a\n    capabilites: [NET_RAW]\n', /presets\.yaml:4: presets\.x\.capabilites: unknown field/],
    ['presets:\n  x:\n    image: a\n    runAs: admin\n', /presets\.yaml:4: presets\.x\.runAs: expected "root", "target" or a numeric uid/],
    ['presets:\n  Bad_Name:\n    image: a\n', /presets\.yaml:2: presets\.Bad_Name: a preset name is lowercase/],
    ['presets:\n  x: [\n', /presets\.yaml:\d+: yaml: /],
    ['preset:\n  x: {}\n', /presets\.yaml:1: preset: unknown top-level field/],
    ['presets:\n  x:\n    record: yes please\n', /presets\.yaml:3: presets\.x\.record: expected true or false/],
  ])('rejects %j naming the file, line and field', async (text, message) => {
    await expect(parse(text)).rejects.toThrow(message);
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
    ['pods: false without a node profile', 'presets:\n  x:\n    image: a:1\n    pods: false\n    node: false\n', '/home/u/presets.yaml: presets.x: "pods: false" needs a "node" mapping, or the preset debugs nothing'],
    ['a node field that is not a mapping', 'presets:\n  x:\n    image: a:1\n    node: yes\n', '/home/u/presets.yaml:4: presets.x.node: expected false or a mapping of hostNetwork, hostPID, hostReadOnly, banner; fix the file or unset KUBECTL_EPHEMERAL_CONFIG'],
    ['an unknown node field', 'presets:\n  x:\n    image: a:1\n    node:\n      hostIPC: true\n', '/home/u/presets.yaml:5: presets.x.node.hostIPC: unknown field (known: hostNetwork, hostPID, hostReadOnly, banner); fix the file or unset KUBECTL_EPHEMERAL_CONFIG'],
  ])('refuses %s', async (_what, text, message) => {
    await expect((async () => PresetRegistry.from(await parse(text)))()).rejects.toThrow(message);
  });

  it("the README's node-only example loads as documented", async () => {
    const readme = readFileSync(join(__dirname, '..', '..', '..', 'README.md'), 'utf8');
    const example = /```yaml\n(presets:\n  node-admin:[\s\S]*?)```/.exec(readme)![1]!;
    const p = PresetRegistry.from(await parse(example)).get('node-admin');
    expect(p).toMatchObject({ pods: false, runAs: { kind: 'root' }, image: 'registry.corp.example/node-tools:1', node: { hostNetwork: true, hostPID: true, hostReadOnly: false, banner: ['crictl ps'] } });
  });

  it('a new preset without image or extends is refused', async () => {
    const file = await parse('presets:\n  lonely:\n    summary: x\n');
    expect(() => PresetRegistry.from(file)).toThrow(/presets\.lonely\.image: a new preset needs an image/);
  });

  it('an alias clash is refused', async () => {
    const file = await parse('presets:\n  netx:\n    image: a\n    aliases: [net]\n');
    expect(() => PresetRegistry.from(file)).toThrow(/alias "net" is already preset "network"/);
  });

  it('an empty file adds nothing', async () => {
    expect(PresetRegistry.from(await parse('')).presets).toHaveLength(BUILTIN_PRESETS.length);
  });
});
