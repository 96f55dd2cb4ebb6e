// A debug session opens its connection while its command line is parsed (src/main.ts): the kube
// flags are read ahead of the parse, and what they opened is used only when the parse agrees.
import { kubeFlagSpecs, kubeFlagSpecsViaYargs, scanKubeFlags } from '../../../src/cli/command-spec';
import { parseCommandLine, presetCommandKubeFlags } from '../../../src/cli/root';
import type { KubeFlags } from '../../../src/kube/kube-flags';
import { PresetRegistry } from '../../../src/presets/registry';

const registry = PresetRegistry.from();
const words = (line: string) => line.match(/'[^']*'|\S+/g)?.map((a) => a.replace(/^'|'$/g, '')) ?? [];
const parsedKubeFlags = async (line: string): Promise<KubeFlags> => {
  const parsed = await parseCommandLine(words(line), registry, () => undefined);
  if (parsed.command !== 'debug') throw new Error(`not a debug command: ${line}`);
  return parsed.options.kube;
};

describe('the kube flags read ahead of the parse', () => {
  it('are the specs yargs reads back from the kube flags mixin', () => {
    expect(kubeFlagSpecs()).toEqual(kubeFlagSpecsViaYargs());
  });

  it.each([
    'shell web',
    'shell web -n shop --context prod',
    'shell -nshop web --kubeconfig=/tmp/k --dry-run=client -o yaml',
    'net web -n=shop -v=6 --cluster c --user u --as alice --as-group ops --as-group sre --as-uid 7',
    'shell web --server https://k:6443 --token T --insecure-skip-tls-verify --tls-server-name k.local',
    'shell web --certificate-authority ca.pem --client-certificate c.pem --client-key k.pem --request-timeout 5s',
    'shell web --image busybox --privileged --env A=1 -c app --disable-compression --warnings-as-errors --cache-dir /c',
    "shell web -n shop -- kubectl --context other -n elsewhere 'a b'",
    'shell --dry-run web -v',
    'shell web --insecure-skip-tls-verify=false -s https://x:1',
  ])('%s: the same as the parse', async (line) => {
    expect(scanKubeFlags(words(line))).toEqual(await parsedKubeFlags(line));
  });

  it('are read for preset commands only: not for other commands, help, version, nor a word that names no command', () => {
    expect(presetCommandKubeFlags(words('shell web -n shop'), registry)).toEqual(expect.objectContaining({ namespace: 'shop' }));
    expect(presetCommandKubeFlags(words('--context prod net web'), registry)).toEqual(expect.objectContaining({ context: 'prod' }));
    for (const line of ['presets', 'list -n shop', 'cleanup web', 'shell web --help', 'shell -h', '--version', 'nosuchpreset web', '', '-n shop'])
      expect({ line, flags: presetCommandKubeFlags(words(line), registry) }).toEqual({ line, flags: undefined });
  });
});
