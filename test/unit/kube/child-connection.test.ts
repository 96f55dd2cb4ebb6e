// The kubeconfig every spawned kubectl gets: the run's route and credential, in a private directory
// that goes away with the run. (That kubectl accepts it and reaches the same identity is proven
// against the real API server: test/integration/connections/child-connection.test.ts.)
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { ChildConnection, childKubeconfig, privateRoot } from '../../../src/kube/child-connection';
import { printRelayedCredential } from '../../../src/kube/credential-relay';
import { CredentialSource } from '../../../src/kube/credentials';
import type { KubeTarget, KubeUser } from '../../../src/kube/kubeconfig';

const target = (user: Partial<KubeUser>, cluster: Partial<KubeTarget['cluster']> = {}): KubeTarget => ({
  cluster: { name: 'prod', server: 'https://api.example:6443', ...cluster },
  user: { name: 'me', ...user },
  namespace: 'team-a',
  contextName: 'prod-ctx',
  clusterName: 'prod',
  server: 'https://api.example:6443',
});

describe('the child kubeconfig', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'ke-child-test-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('carries the route (CA, tls-server-name, proxy-url, compression), the impersonation and the namespace; the token by file', () => {
    const t = target(
      { token: 'secret', impersonate: 'jane', impersonateUid: '42', impersonateGroups: ['ops', 'dev'], impersonateUserExtra: { scopes: ['a', 'b'] } },
      { certificateAuthorityData: 'Q0E=', tlsServerName: 'api.internal', proxyUrl: 'socks5://proxy:1080', disableCompression: true },
    );
    expect(childKubeconfig(t, { headers: { Authorization: 'Bearer secret' } }, '/run/x')).toEqual({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'prod', cluster: { server: 'https://api.example:6443', 'certificate-authority-data': 'Q0E=', 'tls-server-name': 'api.internal', 'proxy-url': 'socks5://proxy:1080', 'disable-compression': true } }],
      users: [{ name: 'me', user: { tokenFile: '/run/x/token', as: 'jane', 'as-uid': '42', 'as-groups': ['ops', 'dev'], 'as-user-extra': { scopes: ['a', 'b'] } } }],
      contexts: [{ name: 'prod-ctx', context: { cluster: 'prod', user: 'me', namespace: 'team-a' } }],
      'current-context': 'prod-ctx',
    });
  });

  it('keeps a tokenFile the user\'s own (it rotates), a CA file by path, insecure-skip-tls-verify, basic auth in the file, a certificate by file', () => {
    expect((childKubeconfig(target({ tokenFile: '/var/run/token' }, { certificateAuthority: '/etc/ca.crt' }), { headers: { Authorization: 'Bearer x' } }, '/d') as any).users[0].user).toEqual({ tokenFile: '/var/run/token' });
    expect((childKubeconfig(target({ tokenFile: '/var/run/token' }, { certificateAuthority: '/etc/ca.crt' }), { headers: {} }, '/d') as any).clusters[0].cluster['certificate-authority']).toBe('/etc/ca.crt');
    expect((childKubeconfig(target({}, { insecureSkipTlsVerify: true }), { headers: {} }, '/d') as any).clusters[0].cluster['insecure-skip-tls-verify']).toBe(true);
    expect((childKubeconfig(target({ username: 'u', password: 'p' }), { headers: { Authorization: 'Basic dTpw' } }, '/d') as any).users[0].user).toEqual({ username: 'u', password: 'p' });
    expect((childKubeconfig(target({}), { headers: {}, cert: 'C', key: 'K' }, '/d') as any).users[0].user).toEqual({ 'client-certificate': '/d/client.crt', 'client-key': '/d/client.key' });
  });

  it('an exec plugin runs once for the run and its children: the files hold its credential (0600, in a 0700 directory), a renewed one replaces it, the directory goes with the run', async () => {
    const calls = join(dir, 'calls');
    const plugin = join(dir, 'plugin.sh');
    // Each call answers with a new token, valid for 60 s.
    writeFileSync(plugin, `#!/bin/sh\necho x >> "${calls}"\nn=$(wc -l < "${calls}" | tr -d ' ')\nprintf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"tok-%s","expirationTimestamp":"2030-01-01T00:01:00Z"}}' "$n"\n`);
    chmodSync(plugin, 0o755);
    let now = Date.parse('2030-01-01T00:00:00Z');
    const t = target({ exec: { apiVersion: 'client.authentication.k8s.io/v1', command: plugin, interactiveMode: 'Never' } });
    const credentials = new CredentialSource(t, { stdinIsTerminal: false, stderrLine: () => undefined }, () => now);
    const child = new ChildConnection(t, credentials, { XDG_RUNTIME_DIR: dir });
    const runs = () => readFileSync(calls, 'utf8').split('\n').filter(Boolean).length;

    // Before the run asked for its credential, there is nothing to hand over (the user's flags go).
    expect(child.kubeconfigFile()).toBeUndefined();
    await credentials.identity();
    const file = child.kubeconfigFile()!;
    expect(file.startsWith(join(dir, 'kubectl-ephemeral-'))).toBe(true);
    const home = join(file, '..');
    expect(statSync(home).mode & 0o777).toBe(0o700);
    for (const f of ['kubeconfig', 'token']) expect(statSync(join(home, f)).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(home, 'token'), 'utf8')).toBe('tok-1');
    expect(JSON.parse(readFileSync(file, 'utf8')).users[0].user).toEqual({ tokenFile: join(home, 'token') });
    // Many children, many requests: one plugin run.
    for (let i = 0; i < 5; i++) expect(child.kubeconfigFile()).toBe(file);
    await credentials.identity();
    expect(runs()).toBe(1);

    // Expired: the run's next request renews it, and the children's token file follows.
    now += 61_000;
    expect(child.kubeconfigFile()).toBeUndefined();
    await credentials.identity();
    expect([runs(), readFileSync(join(home, 'token'), 'utf8')]).toEqual([2, 'tok-2']);

    child.dispose();
    expect(existsSync(home)).toBe(false);
  });

  it('a kubectl started while the run waits for its credential: a kubeconfig of its own whose user is the relay (impersonation kept), never rewritten; it gets the credential when the run does, from the one plugin run; the kubectl after it get the files\' form', async () => {
    const calls = join(dir, 'calls');
    const plugin = join(dir, 'plugin.sh');
    writeFileSync(plugin, `#!/bin/sh\necho x >> "${calls}"\nprintf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"tok-ahead"}}'\n`);
    chmodSync(plugin, 0o755);
    const t = target({ exec: { apiVersion: 'client.authentication.k8s.io/v1', command: plugin, interactiveMode: 'Never' }, impersonate: 'jane' });
    const credentials = new CredentialSource(t, { stdinIsTerminal: false, stderrLine: () => undefined });
    const child = new ChildConnection(t, credentials, { XDG_RUNTIME_DIR: dir }, { command: '/opt/ke/kubectl-ephemeral', args: [] });
    expect(child.kubeconfigFile()).toBeUndefined();
    const { file, standsFor } = (await child.kubeconfigFileAhead())!;
    const home = join(file, '..');
    expect([file, standsFor]).toEqual([join(home, 'kubeconfig-ahead'), join(home, 'kubeconfig')]);
    const socket = join(home, 'credential.sock');
    const relayForm = readFileSync(file, 'utf8');
    expect(JSON.parse(relayForm).users[0].user).toEqual({
      exec: { apiVersion: 'client.authentication.k8s.io/v1', command: '/opt/ke/kubectl-ephemeral', args: ['--credential-from', socket], interactiveMode: 'Never' },
      as: 'jane',
    });
    expect(existsSync(calls)).toBe(false);
    // The kubectl's exec plugin asks; the run's first request runs the user's plugin, and the answer follows.
    const out = new PassThrough();
    let printed = '';
    out.on('data', (d: Buffer) => (printed += d.toString()));
    const asked = printRelayedCredential(socket, out, new PassThrough());
    await credentials.identity();
    expect(await asked).toBe(0);
    expect(JSON.parse(printed).status).toEqual({ token: 'tok-ahead' });
    // Its own file is as it was (a kubectl reading it again finds the same user); the next kubectl's is the files' form.
    expect(readFileSync(file, 'utf8')).toBe(relayForm);
    expect(JSON.parse(readFileSync(standsFor, 'utf8')).users[0].user).toEqual({ tokenFile: join(home, 'token'), as: 'jane' });
    expect(readFileSync(join(home, 'token'), 'utf8')).toBe('tok-ahead');
    expect(child.kubeconfigFile()).toBe(standsFor);
    expect(await child.kubeconfigFileAhead()).toBeUndefined();
    expect(readFileSync(calls, 'utf8')).toBe('x\n');
    child.dispose();
    expect(existsSync(home)).toBe(false);
  });

  it('with the credential at hand (a token, a client certificate) the run waits for nothing: no kubectl is started ahead, no relay', async () => {
    const t = target({ token: 'static' });
    const child = new ChildConnection(t, new CredentialSource(t, { stdinIsTerminal: false, stderrLine: () => undefined }), { XDG_RUNTIME_DIR: dir });
    expect(await child.kubeconfigFileAhead()).toBeUndefined();
    expect(readdirSync(dir)).toEqual([]);
    child.dispose();
  });

  it('no relay where its socket\'s path would be too long for the platform: no kubectl is started ahead', async () => {
    const deep = join(dir, 'x'.repeat(60), 'y'.repeat(40));
    mkdirSync(deep, { recursive: true, mode: 0o700 });
    const t = target({ exec: { apiVersion: 'client.authentication.k8s.io/v1', command: '/bin/false', interactiveMode: 'Never' } });
    const child = new ChildConnection(t, new CredentialSource(t, { stdinIsTerminal: false, stderrLine: () => undefined }), { XDG_RUNTIME_DIR: deep });
    expect(await child.kubeconfigFileAhead()).toBeUndefined();
    child.dispose();
  });

  it('uses $XDG_RUNTIME_DIR only when it is a private directory of ours', () => {
    chmodSync(dir, 0o700);
    expect(privateRoot({ XDG_RUNTIME_DIR: dir })).toBe(dir);
    chmodSync(dir, 0o755);
    expect(privateRoot({ XDG_RUNTIME_DIR: dir })).toBe(tmpdir());
    expect(privateRoot({ XDG_RUNTIME_DIR: join(dir, 'missing') })).toBe(tmpdir());
  });
});
