import { kubeFlagsFrom, normalizeKubeFlags } from '../../../src/cli/kube-flags';
import { parseCommandLine } from '../../../src/cli/root';
import { GLOBAL_FLAGS, kubectlArgs } from '../../../src/kube/kube-flags';
import { PresetRegistry } from '../../../src/presets/registry';

const registry = PresetRegistry.from();
const kubeOf = async (args: string[]) => {
  const parsed = await parseCommandLine(args, registry, () => undefined);
  return (parsed as { options: { kube: unknown } }).options.kube;
};

describe('kubectl global flags in every form kubectl accepts', () => {
  it.each([
    [['-nkube-system'], 'kube-system'],
    [['-n=kube-system'], 'kube-system'],
    [['-n', 'kube-system'], 'kube-system'],
    [['--namespace', 'kube-system'], 'kube-system'],
    [['--namespace=kube-system'], 'kube-system'],
  ])('%j sets the namespace', async (flags, ns) => {
    expect(await kubeOf(['shell', 'web', ...flags])).toMatchObject({ namespace: ns });
  });

  it.each([
    [['-v6'], 6],
    [['-v=6'], 6],
    [['-v', '6'], 6],
    [['--v=6'], 6],
    [['--v', '6'], 6],
    [['-v'], 1],
  ])('%j sets the verbosity', async (flags, level) => {
    expect(await kubeOf(['shell', 'web', ...flags])).toMatchObject({ verbosity: level });
  });

  it.each([
    [['-shttps://h:6443'], 'https://h:6443'],
    [['-s=https://h:6443'], 'https://h:6443'],
    [['-s', 'https://h:6443'], 'https://h:6443'],
    [['--server', 'https://h:6443'], 'https://h:6443'],
  ])('%j sets the server', async (flags, server) => {
    expect(await kubeOf(['shell', 'web', ...flags])).toMatchObject({ server });
  });

  it('every other flag of kubectl options is accepted, the ones kubectl alone uses pass through', async () => {
    const kube = await kubeOf([
      'shell', 'web', '--token', 'T', '--certificate-authority', '/ca', '--client-certificate', '/c', '--client-key', '/k', '--insecure-skip-tls-verify',
      '--tls-server-name', 'kubernetes', '--username', 'u', '--password', 'p', '--as', 'alice', '--as-group', 'a', '--as-group', 'b', '--as-uid', '42',
      '--cluster', 'c', '--user', 'u1', '--context', 'ctx', '--kubeconfig', '/kc', '--request-timeout', '5s', '--disable-compression',
      '--cache-dir', '/cache', '--log-flush-frequency', '5s', '--match-server-version', '--vmodule', 'x=2', '--warnings-as-errors',
    ]);
    expect(kube).toEqual({
      token: 'T', certificateAuthority: '/ca', clientCertificate: '/c', clientKey: '/k', insecureSkipTlsVerify: true, tlsServerName: 'kubernetes',
      username: 'u', password: 'p', as: 'alice', asGroup: ['a', 'b'], asUid: '42', cluster: 'c', user: 'u1', context: 'ctx', kubeconfig: '/kc',
      requestTimeout: '5s', disableCompression: true, warningsAsErrors: true, verbosity: 0,
      passThrough: ['--cache-dir=/cache', '--log-flush-frequency=5s', '--match-server-version', '--vmodule=x=2'],
    });
  });

  it('the table holds every flag of kubectl 1.32 `kubectl options` but its profiler\'s (--profile is the debug profile, never passed on)', () => {
    expect(GLOBAL_FLAGS.map((f) => f.flag).sort()).toEqual(
      ['as', 'as-group', 'as-uid', 'cache-dir', 'certificate-authority', 'client-certificate', 'client-key', 'cluster', 'context', 'disable-compression', 'insecure-skip-tls-verify',
        'kubeconfig', 'log-flush-frequency', 'match-server-version', 'namespace', 'password', 'request-timeout', 'server', 'tls-server-name', 'token',
        'user', 'username', 'vmodule', 'warnings-as-errors'].sort(),
    );
  });

  it('--profile is kubectl debug\'s profile: parsed as one, never handed to the spawned kubectl', async () => {
    const parsed = await parseCommandLine(['net', 'web', '--profile=netadmin', '-n', 'shop'], registry, () => undefined);
    if (parsed.command !== 'debug') throw new Error(parsed.command);
    expect(parsed.options.profile).toBe('netadmin');
    expect(kubectlArgs(parsed.options.kube, 'shop')).toEqual(['-n', 'shop']);
  });

  it('an unknown flag is one usage line', async () => {
    await expect(parseCommandLine(['shell', 'web', '--bogus'], registry, () => undefined)).rejects.toThrow(/^unknown flag: --bogus; see kubectl ephemeral shell --help$/);
  });

  it('short forms after -- belong to the container command', () => {
    expect(normalizeKubeFlags(['shell', 'web', '-nfoo', '--', 'ls', '-nfoo', '-v6'])).toEqual(['shell', 'web', '--namespace=foo', '--', 'ls', '-nfoo', '-v6']);
  });

  it('kubectlArgs hands the spawned kubectl the same identity and route, secrets hidden when printed', () => {
    const flags = kubeFlagsFrom({ token: 'T', server: 'https://h', 'insecure-skip-tls-verify': true, 'as-uid': '7', as: 'a', 'as-group': ['g'], 'cache-dir': '/c', 'warnings-as-errors': true, v: 2 });
    expect(kubectlArgs(flags, 'ns')).toEqual(['-n', 'ns', '--server', 'https://h', '--token', 'T', '--insecure-skip-tls-verify', '--as', 'a', '--as-group', 'g', '--as-uid', '7', '--warnings-as-errors', '--cache-dir=/c', '-v=2']);
    expect(kubectlArgs(flags, 'ns', { display: true })).toContain('<token>');
    expect(kubectlArgs(flags, 'ns', { display: true })).not.toContain('T');
  });

  it('once the run resolved its connection, the spawned kubectl gets its kubeconfig instead of the flags that pick cluster and identity (printed commands keep the user\'s own)', () => {
    const flags = { ...kubeFlagsFrom({ token: 'T', server: 'https://h', context: 'c', as: 'a', 'request-timeout': '5s', 'cache-dir': '/c', 'warnings-as-errors': true, v: 2 }), spawnConnection: { kubeconfigFile: () => '/run/k/kubeconfig' } };
    expect(kubectlArgs(flags, 'ns')).toEqual(['--kubeconfig', '/run/k/kubeconfig', '-n', 'ns', '--request-timeout', '5s', '--warnings-as-errors', '--cache-dir=/c', '-v=2']);
    expect(kubectlArgs(flags, 'ns', { display: true })).toEqual(['-n', 'ns', '--context', 'c', '--server', 'https://h', '--token', '<token>', '--as', 'a', '--request-timeout', '5s', '--warnings-as-errors', '--cache-dir=/c', '-v=2']);
    // No credential resolved yet: the user's own flags, as before.
    expect(kubectlArgs({ ...flags, spawnConnection: { kubeconfigFile: () => undefined } }, 'ns')).toContain('--token');
  });
});

describe('unknown flags', () => {
  it('an unknown dashed flag is named once, as typed', async () => {
    await expect(parseCommandLine(['shell', 'web', '--bogus-flag'], registry, () => undefined)).rejects.toThrow(/^unknown flag: --bogus-flag; see kubectl ephemeral shell --help$/);
  });
});
