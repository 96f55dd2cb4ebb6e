import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readCustomSpec } from '../../../src/debug/custom-spec';
import { PluginError } from '../../../src/errors/plugin-error';

describe('readCustomSpec: kubectl debug --custom FILE', () => {
  let dir = '';
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'ke-custom-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, text: string) => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };

  it.each([
    ['JSON', 'c.json', '{"securityContext":{"runAsUser":0},"env":[{"name":"A","value":"1"}]}'],
    ['YAML', 'c.yaml', 'securityContext:\n  runAsUser: 0\nenv:\n  - name: A\n    value: "1"\n'],
  ])('reads a partial container spec in %s', async (_what, name, text) => {
    expect(await readCustomSpec(file(name, text))).toEqual({ securityContext: { runAsUser: 0 }, env: [{ name: 'A', value: '1' }] });
  });

  it.each([
    ['a field kubectl keeps for itself', 'command: [sh]\nimage: x\n', (p: string) => `--custom ${p} sets command, image: name, command, image, lifecycle and volumeDevices are not modifiable via a custom spec (as in kubectl debug); use --name, --image or the words after --`],
    ['a list instead of a mapping', '- a\n', (p: string) => `--custom ${p} does not contain a valid container spec (not a mapping of container fields); write it as JSON or YAML, e.g. {"securityContext": {"runAsUser": 0}}`],
  ])('refuses %s', async (_what, text, message) => {
    const p = file('c.yaml', text);
    await expect(readCustomSpec(p)).rejects.toEqual(new PluginError('usage', message(p)));
  });

  it('a missing file is not-found, naming it', async () => {
    await expect(readCustomSpec(join(dir, 'none.json'))).rejects.toMatchObject({ kind: 'not-found', message: `cannot read --custom ${join(dir, 'none.json')} (ENOENT); pass a JSON or YAML file with a partial container spec` });
  });
});
