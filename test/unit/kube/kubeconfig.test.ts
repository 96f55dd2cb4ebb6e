import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PluginError } from '../../../src/errors/plugin-error';
import { loadKubeTarget } from '../../../src/kube/kubeconfig';
import { proxyFor } from '../../../src/kube/proxy-route';

let dir = '';
beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'ke-kubeconfig-'))));
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const write = (name: string, text: string) => {
  const p = join(dir, name);
  mkdirSync(join(p, '..'), { recursive: true });
  writeFileSync(p, text);
  return p;
};
const config = (user: object, cluster: object = { server: 'https://k:6443' }, extra: object = {}) =>
  JSON.stringify({ apiVersion: 'v1', kind: 'Config', 'current-context': 'c', contexts: [{ name: 'c', context: { cluster: 'k', user: 'u', namespace: 'shop' } }], clusters: [{ name: 'k', cluster }], users: [{ name: 'u', user }], ...extra });

describe('loadKubeTarget', () => {
  it('tokenFile (kubectl\'s key, not client-node\'s token-file) and relative paths resolve against the file\'s directory', async () => {
    const file = write('conf/config', config({ tokenFile: 'token', 'client-certificate': '../pki/c.crt', exec: { apiVersion: 'client.authentication.k8s.io/v1', command: './bin/get-token', interactiveMode: 'Never' } }, { server: 'https://k:6443', 'certificate-authority': 'ca.crt' }));
    const t = await loadKubeTarget({ kubeconfig: file, verbosity: 0 }, {});
    expect(t.user.tokenFile).toBe(join(dir, 'conf', 'token'));
    expect(t.user.clientCertificate).toBe(join(dir, 'pki', 'c.crt'));
    expect(t.user.exec?.command).toBe(join(dir, 'conf', 'bin', 'get-token'));
    expect(t.cluster.certificateAuthority).toBe(join(dir, 'conf', 'ca.crt'));
    expect(t.namespace).toBe('shop');
  });

  it('an exec command without a path separator stays a PATH lookup', async () => {
    const file = write('config', config({ exec: { apiVersion: 'client.authentication.k8s.io/v1beta1', command: 'kubelogin' } }));
    expect((await loadKubeTarget({ kubeconfig: file, verbosity: 0 }, {})).user.exec?.command).toBe('kubelogin');
  });

  it('a YAML error names file, line and column, never the text (which holds tokens)', async () => {
    const file = write('bad', 'apiVersion: v1\nusers:\n- name: u\n  user:\n    token: s3cr3t-t0ken\n   bad: [\n');
    const err = await loadKubeTarget({ kubeconfig: file, verbosity: 0 }, {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PluginError);
    expect((err as PluginError).kind).toBe('config');
    expect((err as Error).message).toMatch(new RegExp(`^kubeconfig ${file} is not valid YAML at line \\d+, column \\d+; fix the file`));
    expect((err as Error).message).not.toMatch(/s3cr3t|token|\n/);
  });

  it('KUBECONFIG: the first file to define a name wins, and its current-context', async () => {
    const a = write('a', config({ token: 'A' }));
    const b = write('b', JSON.stringify({ 'current-context': 'd', contexts: [{ name: 'd', context: { cluster: 'k', user: 'u2' } }], clusters: [{ name: 'k', cluster: { server: 'https://other' } }], users: [{ name: 'u', user: { token: 'B' } }, { name: 'u2', user: { token: 'B2' } }] }));
    const t = await loadKubeTarget({ verbosity: 0 }, { KUBECONFIG: `${a}:${b}` });
    expect([t.contextName, t.server, t.user.token]).toEqual(['c', 'https://k:6443', 'A']);
    const d = await loadKubeTarget({ context: 'd', verbosity: 0 }, { KUBECONFIG: `${a}:${b}` });
    expect([d.server, d.user.token, d.namespace]).toEqual(['https://k:6443', 'B2', 'default']);
  });

  it('flags override single fields as client-go does', async () => {
    const file = write('config', config({ token: 'file-token', as: 'bob', 'as-groups': ['g1'], 'as-user-extra': { scopes: ['a'] } }, { server: 'https://k', 'certificate-authority-data': 'Q0E=', 'tls-server-name': 'from-file' }));
    const t = await loadKubeTarget({ kubeconfig: file, token: 'flag-token', server: 'https://s:1', insecureSkipTlsVerify: true, as: 'alice', asUid: '7', namespace: 'x', verbosity: 0 }, {});
    expect(t.user).toMatchObject({ token: 'flag-token', impersonate: 'alice', impersonateUid: '7', impersonateGroups: ['g1'], impersonateUserExtra: { scopes: ['a'] } });
    // --server clears the file's tls-server-name; --insecure-skip-tls-verify clears its CA.
    expect(t.cluster).toMatchObject({ server: 'https://s:1', insecureSkipTlsVerify: true, certificateAuthorityData: undefined, tlsServerName: undefined });
    expect(t.namespace).toBe('x');
  });

  it('--server and credentials work without any kubeconfig', async () => {
    const t = await loadKubeTarget({ server: 'https://s', token: 'T', verbosity: 0 }, { HOME: dir });
    expect([t.server, t.user.token, t.namespace]).toEqual(['https://s', 'T', 'default']);
  });

  it('in-cluster: the service account token as a file (re-read), POD_NAMESPACE before the namespace file, -n before both', async () => {
    const sa = join(dir, 'sa');
    write('sa/token', 't');
    write('sa/namespace', 'from-file');
    const env = { HOME: join(dir, 'nohome'), KUBERNETES_SERVICE_HOST: '10.0.0.1', KUBERNETES_SERVICE_PORT: '443' };
    const t = await loadKubeTarget({ verbosity: 0 }, env, sa);
    expect([t.server, t.user.tokenFile, t.cluster.certificateAuthority, t.namespace]).toEqual(['https://10.0.0.1:443', join(sa, 'token'), join(sa, 'ca.crt'), 'from-file']);
    expect((await loadKubeTarget({ verbosity: 0 }, { ...env, POD_NAMESPACE: 'pod-ns' }, sa)).namespace).toBe('pod-ns');
    expect((await loadKubeTarget({ namespace: 'flag', verbosity: 0 }, { ...env, POD_NAMESPACE: 'pod-ns' }, sa)).namespace).toBe('flag');
  });

  it.each([
    [{ context: 'nope' }, 'not-found', /^context "nope" not found in kubeconfig/],
    [{ user: 'nope' }, 'not-found', /^user "nope" not found in kubeconfig/],
    [{ cluster: 'nope' }, 'not-found', /^cluster "nope" not found in kubeconfig/],
  ])('%j: one line naming the object', async (flags, kind, message) => {
    const file = write('config', config({ token: 'T' }));
    const err = (await loadKubeTarget({ kubeconfig: file, verbosity: 0, ...flags }, {}).catch((e: unknown) => e)) as PluginError;
    expect([err.kind, err.message]).toEqual([kind, expect.stringMatching(message)]);
  });

  describe('YAML 1.1 scalars, as kubectl reads them (sigs.k8s.io/yaml over go-yaml v2)', () => {
    const yamlConfig = (contextUser: string, extra = '') =>
      `apiVersion: v1\nkind: Config\ncurrent-context: c\ncontexts:\n- name: c\n  context:\n    cluster: k\n    user: ${contextUser}\nclusters:\n- name: k\n  cluster:\n    server: https://k:6443\n${extra}users:\n- name: "n"\n  user:\n    token: t\n`;

    // kubectl 1.32 on the same text: error: error loading config file "...": json: cannot unmarshal
    // bool into Go struct field Context.contexts.context.user of type string (checked by hand).
    it.each(['n', 'N', 'no', 'off', 'y', 'yes', 'On', 'true'])('user: %s is a boolean, and refused as kubectl refuses it (exit 78, before anything is sent)', async (value) => {
      const file = write('config', yamlConfig(value));
      await expect(loadKubeTarget({ kubeconfig: file, verbosity: 0 }, {})).rejects.toMatchObject({
        kind: 'config',
        exitCode: 78,
        message: `kubeconfig ${file}: contexts[c].context.user is the boolean ${/^(n|no|off)$/i.test(value) ? 'false' : 'true'} (YAML 1.1, which kubectl reads, takes unquoted y, n, yes, no, on, off and numbers so); quote the value, as kubectl needs too`,
      });
    });

    it.each([['017', 15], ['1_000', 1000], ['0x10', 16], ['0o17', 15], ['0b101', 5], ['1.5e3', 1500]])('user: %s is a number there, and refused', async (value, n) => {
      const file = write('config', yamlConfig(value));
      await expect(loadKubeTarget({ kubeconfig: file, verbosity: 0 }, {})).rejects.toMatchObject({ kind: 'config', message: expect.stringContaining(`contexts[c].context.user is the number ${n} `) });
    });

    it('quoted, the same value is a string; a timestamp-like or sexagesimal value stays a string (go-yaml v2 keeps them so)', async () => {
      const t = await loadKubeTarget({ kubeconfig: write('config', yamlConfig('"n"')), verbosity: 0 }, {});
      expect(t.user.name).toBe('n');
      const odd = yamlConfig('"n"').replace('    cluster: k\n    user', '    namespace: 2001-12-14\n    cluster: k\n    user');
      expect((await loadKubeTarget({ kubeconfig: write('config2', odd), verbosity: 0 }, {})).namespace).toBe('2001-12-14');
    });

    it('insecure-skip-tls-verify: yes is true, as for kubectl', async () => {
      const file = write('config', yamlConfig('"n"').replace('    server: https://k:6443\n', '    server: https://k:6443\n    insecure-skip-tls-verify: yes\n'));
      expect((await loadKubeTarget({ kubeconfig: file, verbosity: 0 }, {})).cluster.insecureSkipTlsVerify).toBe(true);
    });
  });

  it('unreadable kubeconfig is a clean error too', async () => {
    const file = write('config', '- just\n- a list\n');
    chmodSync(file, 0o644);
    await expect(loadKubeTarget({ kubeconfig: file, verbosity: 0 }, {})).rejects.toThrow(/is not a kubeconfig/);
  });
});

describe('proxyFor: Go\'s proxy rules', () => {
  const url = (u: string) => new URL(u);
  it.each([
    ['https://api.example.com', {}, undefined],
    ['https://api.example.com', { HTTPS_PROXY: 'http://p:3128' }, 'http://p:3128/'],
    ['https://api.example.com', { https_proxy: 'p:3128' }, 'http://p:3128/'],
    ['https://api.example.com', { HTTPS_PROXY: 'http://up:1', https_proxy: 'http://low:1' }, 'http://up:1/'],
    ['https://api.example.com', { HTTP_PROXY: 'http://p:1' }, undefined],
    ['https://127.0.0.1:6443', { HTTPS_PROXY: 'http://p:1' }, undefined],
    ['https://localhost:6443', { HTTPS_PROXY: 'http://p:1' }, undefined],
    ['https://[::1]:6443', { HTTPS_PROXY: 'http://p:1' }, undefined],
    ['https://api.example.com', { HTTPS_PROXY: 'http://p:1', NO_PROXY: '*' }, undefined],
    ['https://api.example.com', { HTTPS_PROXY: 'http://p:1', NO_PROXY: 'example.com' }, undefined],
    ['https://example.com', { HTTPS_PROXY: 'http://p:1', NO_PROXY: '.example.com' }, 'http://p:1/'],
    ['https://api.example.com', { HTTPS_PROXY: 'http://p:1', NO_PROXY: '*.example.com' }, undefined],
    ['https://api.example.com:6443', { HTTPS_PROXY: 'http://p:1', NO_PROXY: 'api.example.com:443' }, 'http://p:1/'],
    ['https://api.example.com:6443', { HTTPS_PROXY: 'http://p:1', NO_PROXY: 'api.example.com:6443' }, undefined],
    ['https://10.1.2.3', { HTTPS_PROXY: 'http://p:1', NO_PROXY: '10.0.0.0/8' }, undefined],
    ['https://11.1.2.3', { HTTPS_PROXY: 'http://p:1', NO_PROXY: '10.0.0.0/8' }, 'http://p:1/'],
    ['https://myexample.com', { HTTPS_PROXY: 'http://p:1', NO_PROXY: 'example.com' }, 'http://p:1/'],
  ])('%s %j → %s', (server, env, expected) => {
    expect(proxyFor(url(server), undefined, env)?.toString()).toBe(expected);
  });

  it('the cluster\'s proxy-url applies to every request, loopback included', () => {
    expect(proxyFor(url('https://127.0.0.1:6443'), 'socks5://127.0.0.1:1080', { NO_PROXY: '*' })?.toString()).toBe('socks5://127.0.0.1:1080');
  });

  it('an unsupported scheme is a config error', () => {
    expect(() => proxyFor(url('https://x'), 'ftp://p', {})).toThrow(/kubectl supports http, https and socks5 proxies/);
  });
});
