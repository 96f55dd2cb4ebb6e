// Routes and flags, against the real API server and next to kubectl with the same kubeconfig and
// flags: a proxy-url (http and https CONNECT, socks5) and HTTPS_PROXY/NO_PROXY to a server name that only the
// test proxies resolve, tls-server-name, every form of kubectl's global flags, and 429s injected.
import { join } from 'node:path';
import { aPod } from '../../support/builders';
import { auditEventsSince, auditLogSize, clusterEnv, createTestNamespace, deleteTestNamespace } from '../../support/cluster';
import { createRunningPod, KubeletStandIn } from '../../support/kubelet';
import { expectExit, requireBuiltPlugin, runPlugin, standaloneKubeconfig, stderrLines, tempDir, theErrorLine } from '../../support/plugin';
import { mintServingCert, mintTestCa, PROXY_ONLY_NAME, runKubectl, serviceAccountToken, startConnectProxy, startFaultFront, startSocks5Proxy, type TestProxy } from '../../support/connections';

jest.setTimeout(120_000);

describe('routes and flags, as kubectl takes them', () => {
  let ns = '';
  let files: ReturnType<typeof tempDir>;
  let kubelet: KubeletStandIn;
  let connectProxy: TestProxy;
  let socksProxy: TestProxy;
  const apiPort = () => new URL(clusterEnv().apiserver).port;

  /** The admin kubeconfig with its server at PROXY_ONLY_NAME (verified as "kubernetes", a name of the certificate). */
  const proxiedConfig = (name: string, proxyUrl?: string): string => {
    const cfg = standaloneKubeconfig('admin');
    cfg.clusters[0].cluster.server = `https://${PROXY_ONLY_NAME}:${apiPort()}`;
    cfg.clusters[0].cluster['tls-server-name'] = 'kubernetes';
    if (proxyUrl) cfg.clusters[0].cluster['proxy-url'] = proxyUrl;
    cfg.contexts[0].context.namespace = ns;
    return files.file(name, JSON.stringify(cfg));
  };
  /** Runs the plugin and kubectl with the same kubeconfig, flags and environment. */
  const both = async (pluginArgs: string[], kubectlArgs: string[], env: Record<string, string> = {}) => {
    const [plugin, k] = [await runPlugin(pluginArgs, { env }), await runKubectl(kubectlArgs, env)];
    return { plugin, kubectl: k };
  };

  beforeAll(async () => {
    requireBuiltPlugin();
    ns = await createTestNamespace('conn-transport');
    createRunningPod(ns, aPod('web').withContainer('app', { image: 'nginx:1.27' }).build());
    files = tempDir('ke-conn-transport-');
    kubelet = new KubeletStandIn(ns).start();
    connectProxy = await startConnectProxy();
    socksProxy = await startSocks5Proxy();
  });
  afterAll(async () => {
    await kubelet?.stop();
    await connectProxy?.close();
    await socksProxy?.close();
    files?.remove();
    deleteTestNamespace(ns);
  });

  it('a name only the proxy resolves: a direct connection fails for both, one line, exit 69', async () => {
    const config = proxiedConfig('direct.json');
    const { plugin, kubectl } = await both(['list', '--kubeconfig', config], ['--kubeconfig', config, 'get', 'pods']);
    expect(kubectl.code).not.toBe(0);
    expectExit(plugin, 69);
    expect(theErrorLine(plugin)).toMatch(new RegExp(`^error: cannot reach the API server https://${PROXY_ONLY_NAME.replace(/\./g, '\\.')}:\\d+ of context "admin" \\(ENOTFOUND\\)`));
  });

  it.each([
    ['http CONNECT', () => connectProxy],
    ['socks5', () => socksProxy],
  ])('proxy-url (%s): every request goes through it (kubectl: same)', async (_kind, proxy) => {
    const config = proxiedConfig(`proxy-url-${_kind.replace(/\W/g, '')}.json`, proxy().url);
    const seen = proxy().requests.length;
    const { plugin, kubectl } = await both(['shell', 'web', '--kubeconfig', config, '--dry-run=server', '-o', 'json'], ['--kubeconfig', config, 'get', 'pod', 'web', '-o', 'name']);
    expect([kubectl.code, kubectl.stdout.trim()]).toEqual([0, 'pod/web']);
    expectExit(plugin, 0);
    expect(JSON.parse(plugin.stdout).spec.ephemeralContainers[0].name).toMatch(/^debugger-/);
    expect(proxy().requests.slice(seen)).toEqual(expect.arrayContaining([`${PROXY_ONLY_NAME}:${apiPort()}`]));
    expect(new Set(proxy().requests.slice(seen))).toEqual(new Set([`${PROXY_ONLY_NAME}:${apiPort()}`]));
  });

  describe('proxy-url https:// (TLS to the proxy with the cluster\'s own TLS config, as Go\'s transport does)', () => {
    let pki: ReturnType<typeof tempDir>;
    const started: TestProxy[] = [];
    /** An https CONNECT proxy whose certificate names `san`, signed by the cluster CA unless `ownCa`. */
    const httpsProxy = async (san: string, ownCa = false): Promise<TestProxy> => {
      const ca = ownCa ? mintTestCa(pki.dir) : undefined;
      const proxy = await startConnectProxy(undefined, { tls: mintServingCert(pki.dir, { san, ca, name: `proxy-${started.length}` }) });
      started.push(proxy);
      return proxy;
    };
    beforeAll(() => (pki = tempDir('ke-proxy-pki-')));
    afterAll(async () => {
      for (const p of started) await p.close();
      pki?.remove();
    });

    it('a certificate from the cluster CA valid for tls-server-name: every request goes through it (kubectl: same)', async () => {
      const proxy = await httpsProxy('DNS:kubernetes');
      expect(proxy.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      const config = proxiedConfig('proxy-url-https.json', proxy.url);
      const { plugin, kubectl } = await both(['shell', 'web', '--kubeconfig', config, '--dry-run=server', '-o', 'json'], ['--kubeconfig', config, 'get', 'pod', 'web', '-o', 'name']);
      expect([kubectl.code, kubectl.stdout.trim()]).toEqual([0, 'pod/web']);
      expectExit(plugin, 0);
      expect(JSON.parse(plugin.stdout).spec.ephemeralContainers[0].name).toMatch(/^debugger-/);
      expect(plugin.stderr).toBe('');
      expect(new Set(proxy.requests)).toEqual(new Set([`${PROXY_ONLY_NAME}:${apiPort()}`]));
    });

    it('HTTPS_PROXY as an https:// URL: the same TLS to the proxy (kubectl: same)', async () => {
      const proxy = await httpsProxy('DNS:kubernetes');
      const config = proxiedConfig('env-proxy-https.json');
      const { plugin, kubectl } = await both(['list', '--kubeconfig', config], ['--kubeconfig', config, 'get', 'pods'], { HTTPS_PROXY: proxy.url });
      expect(kubectl.code).toBe(0);
      expectExit(plugin, 0);
      expect(new Set(proxy.requests)).toEqual(new Set([`${PROXY_ONLY_NAME}:${apiPort()}`]));
    });

    it.each([
      ['signed by a CA the kubeconfig does not name', 'DNS:kubernetes', true, 'UNABLE_TO_VERIFY_LEAF_SIGNATURE'],
      ['from the cluster CA but valid for 127.0.0.1, not for tls-server-name', 'IP:127.0.0.1', false, 'ERR_TLS_CERT_ALTNAME_INVALID'],
    ])('a proxy certificate %s: both refuse the proxy (no CONNECT sent); one line naming the fix, exit 69', async (_case, san, ownCa, code) => {
      const proxy = await httpsProxy(san, ownCa);
      const config = proxiedConfig(`proxy-url-https-bad-${started.length}.json`, proxy.url);
      const { plugin, kubectl } = await both(['list', '--kubeconfig', config], ['--kubeconfig', config, 'get', 'pods']);
      expect([kubectl.code, kubectl.stderr]).toEqual([1, expect.stringMatching(/proxyconnect tcp: tls: failed to verify certificate/)]);
      expectExit(plugin, 69);
      expect(stderrLines(plugin)).toEqual([
        `error: cannot reach the API server https://${PROXY_ONLY_NAME}:${apiPort()} through the proxy ${proxy.url} of context "admin" (${code}); kubectl checks the proxy's certificate like the server's: signed by the cluster's certificate-authority, valid for tls-server-name "kubernetes"; fix the proxy's certificate or proxy-url`,
      ]);
      expect(proxy.requests).toEqual([]);
    });
  });

  it('HTTPS_PROXY routes, NO_PROXY exempts (both as Go reads them; kubectl: same)', async () => {
    const config = proxiedConfig('env-proxy.json');
    const seen = connectProxy.requests.length;
    const via = await both(['list', '--kubeconfig', config], ['--kubeconfig', config, 'get', 'pods'], { HTTPS_PROXY: connectProxy.url });
    expect(via.kubectl.code).toBe(0);
    expectExit(via.plugin, 0);
    expect(connectProxy.requests.length).toBeGreaterThan(seen);
    const exempt = await both(['list', '--kubeconfig', config], ['--kubeconfig', config, 'get', 'pods'], { HTTPS_PROXY: connectProxy.url, NO_PROXY: '.ke-proxy.invalid' });
    expect(exempt.kubectl.code).not.toBe(0);
    expectExit(exempt.plugin, 69);
    // Loopback is never proxied: the cluster's own kubeconfig works with a dead proxy set.
    const loopback = await both(['list', '-n', ns, '--context', 'admin'], ['--kubeconfig', clusterEnv().kubeconfig, '--context', 'admin', 'get', 'pods', '-n', ns], { HTTPS_PROXY: 'http://127.0.0.1:1', KUBECONFIG: clusterEnv().kubeconfig });
    expect(loopback.kubectl.code).toBe(0);
    expectExit(loopback.plugin, 0);
  });

  it('tls-server-name is what the certificate is checked against (a wrong one fails for both)', async () => {
    const k = ['--kubeconfig', clusterEnv().kubeconfig, '--context', 'admin', '-n', ns];
    const { plugin, kubectl } = await both(['list', ...k, '--tls-server-name', 'not-in-the-cert'], [...k, '--tls-server-name', 'not-in-the-cert', 'get', 'pods']);
    expect(kubectl.code).not.toBe(0);
    expectExit(plugin, 69);
    expect(theErrorLine(plugin)).toMatch(/check certificate-authority, tls-server-name or the server address/);
  });

  describe('every form of kubectl\'s global flags', () => {
    const kc = () => ['--kubeconfig', clusterEnv().kubeconfig, '--context', 'admin'];
    it.each([['-n%s'], ['-n=%s'], ['-n', '%s'], ['--namespace', '%s'], ['--namespace=%s']])('%j', async (...form) => {
      const flags = form.map((f) => f.replace('%s', ns));
      const { plugin, kubectl } = await both(['shell', 'web', ...kc(), ...flags, '--dry-run=server', '-o', 'json'], [...kc(), ...flags, 'get', 'pod', 'web', '-o', 'name']);
      expect(kubectl.code).toBe(0);
      expectExit(plugin, 0);
      // Pod web exists only in the test namespace: the server-side dry run found it there.
      expect(JSON.parse(plugin.stdout).spec.ephemeralContainers[0].name).toMatch(/^debugger-/);
    });

    it('-s/--server, --token and --certificate-authority with no kubeconfig at all', async () => {
      const token = serviceAccountToken(ns, 'flags-user');
      const env = { KUBECONFIG: '' };
      for (const server of [['-s', clusterEnv().apiserver], [`-s${clusterEnv().apiserver}`], [`--server=${clusterEnv().apiserver}`]]) {
        const args = [...server, '--token', token, '--certificate-authority', clusterEnv().caCrt, '-n', ns];
        const plugin = await runPlugin(['list', ...args], { env: { KUBECONFIG: null } });
        const kubectl = await runKubectl([...args, 'get', 'pods'], env);
        expect(kubectl.code).toBe(0);
        expectExit(plugin, 0);
      }
    });

    it('--client-certificate and --client-key files; no CA at all: the system trust store (SSL_CERT_FILE, as Go reads it)', async () => {
      const pki = join(clusterEnv().stateDir, 'pki');
      const args = ['-s', clusterEnv().apiserver, '--client-certificate', join(pki, 'debugger.crt'), '--client-key', join(pki, 'debugger.key'), '-n', ns];
      const env = { KUBECONFIG: '/nonexistent', SSL_CERT_FILE: clusterEnv().caCrt };
      const k = await runKubectl([...args, 'auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}'], env);
      expect([k.code, k.stdout]).toEqual([0, 'debugger']);
      const r = await runPlugin(['shell', 'web', ...args, '--name', 'cert-files', '--no-attach'], { env });
      expectExit(r, 0);
      const pod = JSON.parse((await runKubectl(['--kubeconfig', clusterEnv().kubeconfig, '--context', 'admin', '-n', ns, 'get', 'pod', 'web', '-o', 'json'])).stdout);
      expect(pod.spec.ephemeralContainers.find((c: any) => c.name === 'cert-files').env).toEqual(expect.arrayContaining([{ name: 'KUBECTL_EPHEMERAL_USER', value: 'debugger' }]));
      // Without the CA in the trust store, both refuse the server's certificate.
      const untrusted = await both(['list', ...args], [...args, 'get', 'pods'], { KUBECONFIG: '/nonexistent' });
      expect(untrusted.kubectl.code).not.toBe(0);
      expectExit(untrusted.plugin, 69);
    });

    it('--insecure-skip-tls-verify without a CA; --username/--password taken as anonymous by a server without basic auth (77, like kubectl)', async () => {
      const token = serviceAccountToken(ns, 'flags-user');
      const base = ['-s', clusterEnv().apiserver, '-n', ns];
      const insecure = await both(['list', ...base, '--token', token, '--insecure-skip-tls-verify'], [...base, '--token', token, '--insecure-skip-tls-verify', 'get', 'pods'], { KUBECONFIG: '/nonexistent' });
      expect(insecure.kubectl.code).toBe(0);
      expectExit(insecure.plugin, 0);
      const basic = await both(['shell', 'web', ...base, '--insecure-skip-tls-verify', '--username', 'u', '--password', 'p', '--no-attach'], [...base, '--insecure-skip-tls-verify', '--username', 'u', '--password', 'p', 'get', 'pods'], { KUBECONFIG: '/nonexistent' });
      expect(basic.kubectl.code).not.toBe(0);
      expectExit(basic.plugin, 77);
      expect(theErrorLine(basic.plugin)).toMatch(/^error: the API server took the request as anonymous \(system:anonymous\): it accepted none of the credentials given by the flags; check them with kubectl auth whoami$/);
    });

    it('--as with --as-uid and --as-group reach the server as impersonation (kubectl auth whoami: same)', async () => {
      const imp = ['--as', 'alice', '--as-uid', 'uid-1234', '--as-group', 'ke-team'];
      const k = await runKubectl([...kc(), ...imp, 'auth', 'whoami', '-o', 'json']);
      expect(JSON.parse(k.stdout).status.userInfo).toMatchObject({ username: 'alice', uid: 'uid-1234', groups: expect.arrayContaining(['ke-team']) });
      const from = auditLogSize();
      const r = await runPlugin(['list', ...kc(), '-n', ns, ...imp]);
      expect(r.code === 0 || r.code === 77).toBe(true);
      const seen = auditEventsSince(from, 'kubernetes-admin').filter((e) => e.userAgent?.startsWith('kubectl-ephemeral/'));
      expect(seen.length).toBeGreaterThan(0);
      for (const e of seen) expect(e.impersonatedUser).toMatchObject({ username: 'alice', uid: 'uid-1234', groups: expect.arrayContaining(['ke-team']) });
    });

    it.each([['-v6'], ['-v=6'], ['-v', '6'], ['--v=6']])('%j shows the requests', async (...form) => {
      const r = await runPlugin(['list', ...kc(), '-n', ns, ...form]);
      expectExit(r, 0);
      expect(stderrLines(r)).toEqual(expect.arrayContaining([expect.stringMatching(/^\[debug\] GET \/api\/v1\/namespaces\/.*\/pods/)]));
    });

    it('the other flags are accepted (--cache-dir, --disable-compression, --request-timeout, --vmodule, --warnings-as-errors with no warning to fail on); an unknown one is one usage line', async () => {
      const r = await runPlugin(['list', ...kc(), '-n', ns, '--cache-dir', files.dir, '--disable-compression', '--request-timeout', '20s', '--vmodule', 'x=1', '--warnings-as-errors', '--log-flush-frequency', '5s']);
      expectExit(r, 0);
      const bad = await runPlugin(['list', ...kc(), '--bogus-flag']);
      expectExit(bad, 64);
      expect(stderrLines(bad)).toEqual(['error: unknown flag: --bogus-flag; see kubectl ephemeral list --help']);
    });
  });

  it('429 Too Many Requests with Retry-After, twice for each request: retried, the run succeeds (kubectl: same)', async () => {
    const counts = new Map<string, number>();
    const front = await startFaultFront((req) => {
      const key = `${req.method} ${req.url?.split('?')[0]}`;
      const n = (counts.get(key) ?? 0) + 1;
      counts.set(key, n);
      return n <= 2 ? { status: 429, retryAfter: '1' } : undefined;
    });
    try {
      const cfg = { apiVersion: 'v1', kind: 'Config', 'current-context': 'front', clusters: [{ name: 'front', cluster: { server: front.url, 'certificate-authority': clusterEnv().caCrt } }], users: [{ name: 'sa', user: { token: serviceAccountToken(ns, 'front-user') } }], contexts: [{ name: 'front', context: { cluster: 'front', user: 'sa', namespace: ns } }] };
      const config = files.file('front.json', JSON.stringify(cfg));
      const k = await runKubectl(['--kubeconfig', config, 'get', 'pod', 'web', '-o', 'name']);
      expect([k.code, k.stdout.trim()]).toEqual([0, 'pod/web']);
      const before = front.faults.length;
      const r = await runPlugin(['shell', 'web', '--kubeconfig', config, '--name', 'after-429', '--no-attach'], { timeoutMs: 110_000 });
      expectExit(r, 0);
      expect(r.stdout).toBe('after-429\n');
      expect(front.faults.length - before).toBeGreaterThanOrEqual(6);
      expect(front.faults).toEqual(expect.arrayContaining([expect.stringMatching(/^PATCH .*\/pods\/web\/ephemeralcontainers/)]));
    } finally {
      await front.close();
    }
  });
});
