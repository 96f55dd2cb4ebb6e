// The kubeconfig the plugin hands the kubectl it spawns (src/kube/child-connection.ts), given to
// the real kubectl against the real API server: kubectl reaches the same server through the same
// proxy, verifies the same tls-server-name, acts as the same (impersonated) user in the same
// namespace, with the credential the run resolved: the exec plugin ran once, for the run, and the
// secret is on no command line. (Whole sessions that count the plugin's runs on the real node:
// test/e2e/features/credential-once.test.ts.)
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { openConnection } from '../../../src/kube/connection';
import { kubectlArgs, type KubeFlags } from '../../../src/kube/kube-flags';
import { clusterEnv, createTestNamespace, deleteTestNamespace } from '../../support/cluster';
import { PROXY_ONLY_NAME, runKubectl, serviceAccountToken, startConnectProxy, writeExecCredentialScript, type TestProxy } from '../../support/connections';
import { pluginPath, standaloneKubeconfig, tempDir } from '../../support/plugin';
import { eventually } from '../../support/wait';

/** The pinned Node 24 the plugin's launcher runs on. */
const PINNED_NODE = resolve(__dirname, '..', '..', '..', 'node_modules', 'node', 'bin', 'node');

jest.setTimeout(120_000);

describe('spawned kubectl get the run\'s connection and credential', () => {
  let ns = '';
  let files: ReturnType<typeof tempDir>;
  let proxy: TestProxy;
  const apiPort = () => new URL(clusterEnv().apiserver).port;

  /** Opens the plugin's connection for `config` and `flags`, makes one request, and returns the args and environment a spawned kubectl gets. */
  const spawnedWith = async (config: string, flags: Partial<KubeFlags> = {}) => {
    const kube: KubeFlags = { kubeconfig: config, verbosity: 0, ...flags };
    const runtime = join(files.dir, `runtime-${Math.random().toString(36).slice(2)}`);
    mkdirSync(runtime, { mode: 0o700 });
    const env = { PATH: process.env.PATH, XDG_RUNTIME_DIR: runtime };
    const { target, http, child } = await openConnection(kube, env, { userAgent: 'ke-test', stderrLine: () => undefined, stdinIsTerminal: false });
    kube.spawnConnection = child;
    await http.request({ path: '/version' });
    http.close();
    return { args: kubectlArgs(kube, target.namespace), child, runtime };
  };

  /** A kubeconfig (in the test namespace) whose user is an exec plugin in files/NAME answering with the token of service account `account`; it counts its runs in NAME/runs. */
  const execUser = (name: string, account: string) => {
    const dir = join(files.dir, name);
    mkdirSync(dir);
    files.file(`${name}/token`, serviceAccountToken(ns, account));
    writeExecCredentialScript(join(dir, 'login'), dir, 3600);
    const cfg = standaloneKubeconfig('admin');
    cfg.users[0].user = { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: join(dir, 'login'), interactiveMode: 'Never' } };
    cfg.contexts[0].context.namespace = ns;
    return { dir, cfg };
  };

  beforeAll(async () => {
    ns = await createTestNamespace('conn-child');
    files = tempDir('ke-conn-child-');
    proxy = await startConnectProxy();
  });
  afterAll(async () => {
    await proxy?.close();
    files?.remove();
    deleteTestNamespace(ns);
  });

  it('an exec plugin behind a proxy-url, a name only the proxy resolves and tls-server-name: kubectl acts as the same user in the same namespace, through the proxy, and the plugin ran once', async () => {
    const { dir, cfg } = execUser('exec', 'child-user');
    Object.assign(cfg.clusters[0].cluster, { server: `https://${PROXY_ONLY_NAME}:${apiPort()}`, 'tls-server-name': 'kubernetes', 'proxy-url': proxy.url });
    const config = files.file('exec.json', JSON.stringify(cfg));

    const { args, child, runtime } = await spawnedWith(config);
    expect(args.slice(0, 4)).toEqual(['--kubeconfig', expect.stringMatching(new RegExp(`^${runtime}/kubectl-ephemeral-\\w+/kubeconfig$`)), '-n', ns]);
    expect(args.join(' ')).not.toContain(readFileSync(join(dir, 'token'), 'utf8').trim());
    const seen = proxy.requests.length;
    // Without KUBECONFIG: only what the plugin hands over.
    const who = await runKubectl([...args, 'auth', 'whoami', '-o', 'json']);
    expect([who.code, who.stderr]).toEqual([0, '']);
    expect(JSON.parse(who.stdout).status.userInfo.username).toBe(`system:serviceaccount:${ns}:child-user`);
    const context = await runKubectl([...args, 'config', 'view', '--minify', '-o', 'jsonpath={.contexts[0].context.namespace}']);
    expect(context.stdout).toBe(ns);
    expect(new Set(proxy.requests.slice(seen))).toEqual(new Set([`${PROXY_ONLY_NAME}:${apiPort()}`]));
    // Many kubectl, one run of the plugin: the plugin's own.
    await runKubectl([...args, 'get', 'pods']);
    expect(readFileSync(join(dir, 'runs'), 'utf8').trim()).toBe('1');
    child.dispose();
    expect(existsSync(args[1]!)).toBe(false);
  });

  it('a kubectl started before the run holds its credential asks the run through the relay: it waits for it, then acts as the same user; the exec plugin ran once, for the run', async () => {
    const { dir, cfg } = execUser('ahead', 'ahead-user');
    const kube: KubeFlags = { kubeconfig: files.file('ahead.json', JSON.stringify(cfg)), verbosity: 0 };
    const runtime = join(files.dir, 'runtime-ahead');
    mkdirSync(runtime, { mode: 0o700 });
    // The relay's exec plugin is the built plugin, behind a script that says when kubectl asked.
    const asked = join(dir, 'asked');
    const self = files.file('ahead/relay.sh', `#!/bin/sh\necho asked >> '${asked}'\nKUBECTL_EPHEMERAL_NODE='${PINNED_NODE}' exec '${pluginPath()}' "$@"\n`);
    chmodSync(self, 0o755);
    const { target, http, child } = await openConnection(kube, { PATH: process.env.PATH, XDG_RUNTIME_DIR: runtime }, { userAgent: 'ke-test', stderrLine: () => undefined, stdinIsTerminal: false, self: { command: self, args: [] } });
    kube.spawnConnection = child;
    try {
      const { file, standsFor } = (await child.kubeconfigFileAhead())!;
      const who = runKubectl(['--kubeconfig', file, '-n', target.namespace, 'auth', 'whoami', '-o', 'json']);
      // kubectl asked before the run held anything: no request of the run's has gone yet.
      await eventually(async () => existsSync(asked) || undefined, 30_000, 'kubectl to ask the relay');
      expect(existsSync(join(dir, 'runs'))).toBe(false);
      await http.request({ path: '/version' });
      const answer = await who;
      expect([answer.code, answer.stderr]).toEqual([0, '']);
      expect(JSON.parse(answer.stdout).status.userInfo.username).toBe(`system:serviceaccount:${ns}:ahead-user`);
      expect(readFileSync(join(dir, 'runs'), 'utf8').trim()).toBe('1');
      // The kubectl that come after read the files' form: the relay is not asked again.
      const askedBefore = readFileSync(asked, 'utf8');
      expect(child.kubeconfigFile()).toBe(standsFor);
      const later = await runKubectl(['--kubeconfig', standsFor, '-n', target.namespace, 'auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}']);
      expect(later.stdout).toBe(`system:serviceaccount:${ns}:ahead-user`);
      expect(readFileSync(asked, 'utf8')).toBe(askedBefore);
    } finally {
      http.close();
      child.dispose();
    }
    expect(readdirSync(runtime)).toEqual([]);
  });

  it('a client certificate with --as and --as-group: kubectl impersonates the same user and groups', async () => {
    const { args, child } = await spawnedWith(files.file('admin.json', JSON.stringify(standaloneKubeconfig('admin'))), { as: 'ke-someone', asGroup: ['ke-team', 'system:authenticated'] });
    expect(args).not.toContain('--as');
    const who = await runKubectl([...args, 'auth', 'whoami', '-o', 'json']);
    expect(who.code).toBe(0);
    expect(JSON.parse(who.stdout).status.userInfo).toMatchObject({ username: 'ke-someone', groups: ['ke-team', 'system:authenticated'] });
    child.dispose();
  });

  it('the token of --token reaches kubectl by file, never on its command line', async () => {
    const token = serviceAccountToken(ns, 'child-token-user');
    const cfg = standaloneKubeconfig('admin');
    cfg.users[0].user = {};
    const { args, child } = await spawnedWith(files.file('token.json', JSON.stringify(cfg)), { token });
    expect(args.join(' ')).not.toContain(token);
    const who = await runKubectl([...args, 'auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}']);
    expect(who.stdout).toBe(`system:serviceaccount:${ns}:child-token-user`);
    child.dispose();
  });
});
